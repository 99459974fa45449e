import pytest

from accounts.models import Customer
from portal.choices import JobStatus
from portal.jobs import job_create, job_finish, job_run_chunks, job_start
from portal.models import JobChunk

pytestmark = pytest.mark.django_db


def _chunks(organization, names):
    def work(name):
        return lambda: Customer.objects.create(
            organization=organization, name=name, domain=f"{name}.example", country="DE"
        )

    return [(f"chunk-{name}", 1, work(name)) for name in names]


def test_a_replayed_chunk_changes_nothing(org_a):
    job = job_create(kind="test", organization_id=org_a.pk, total=3)
    job_start(job)
    assert job_run_chunks(job, _chunks(org_a, ["a", "b"])) == 2
    # The worker died after two chunks; the redelivered task runs the whole list again.
    assert job_run_chunks(job, _chunks(org_a, ["a", "b", "c"])) == 1
    job_finish(job, result={"ok": True})
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 3, 3)
    assert Customer.objects.count() == 3
    assert JobChunk.objects.filter(job=job).count() == 3


def test_a_failing_chunk_rolls_back_its_work_and_its_progress(org_a):
    job = job_create(kind="test", organization_id=org_a.pk, total=2)

    def boom():
        Customer.objects.create(organization=org_a, name="half", domain="half.example", country="DE")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        job_run_chunks(job, [("only", 1, boom)])
    job.refresh_from_db()
    assert job.done == 0
    assert not Customer.objects.exists()
    assert not JobChunk.objects.exists()
