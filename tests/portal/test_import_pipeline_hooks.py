"""The pipeline's hooks for layouts whose rules are not all columns: the person's own choice of
columns (a file with headers of its own), checks in Python over the staged rows (an assessor), and
amounts written the accountant's way."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.choices import JobStatus
from portal.imports import DECIMAL, INTEGER, TEXT, Column, Importer, Layout, import_start, register
from portal.imports.layout import check_chunk
from portal.imports.reader import open_table
from portal.imports.staging import CREATED, Staging
from portal.jobs import JobRun
from portal.uploads import RowError, UploadRejected

pytestmark = pytest.mark.django_db

AMOUNTS = Layout(
    name="tests.amounts",
    columns=(
        Column("reference", kind=TEXT),
        Column("amount", kind=DECIMAL),
        Column("quantity", kind=INTEGER, required=False, blank=True),
    ),
)
SEEN: dict[int, list[dict]] = {}


def _assess(staging: Staging, job: JobRun) -> list[RowError]:
    """Amounts above 100 are refused by "an engine" that works on whole rows in Python."""
    rows = staging.valid_rows(["reference", "amount"])
    return [
        RowError(row["line"], "amount", "is above what the engine allows")
        for row in rows
        if row["amount"] > 100
    ]


def _load(staging: Staging, job: JobRun) -> dict:
    rows = staging.valid_rows()
    SEEN[job.pk] = rows
    staging.set_outcome(CREATED)
    return {"loaded": len(rows)}


IMPORTER = register(Importer(layout=AMOUNTS, load=_load, assess=_assess))


def _start(user, content: str, captured, **options) -> JobRun:
    with captured(execute=True):
        job = import_start(
            IMPORTER,
            SimpleUploadedFile("amounts.csv", content.encode()),
            actor=user,
            organization_id=user.organization_id,
            **options,
        )
    job.refresh_from_db()
    return job


def test_amounts_in_brackets_are_negative():
    content = b'reference,amount\nA,(12.50)\nB,"( 1,200.00 )"\nC,(x)\n'
    with open_table(io.BytesIO(content)) as table:
        header = AMOUNTS.match_header(table.header)
        checked = check_chunk(AMOUNTS, header, next(table.chunks).frame)
    assert checked.values.loc[2, "amount"] == "-12.50"
    assert checked.values.loc[3, "amount"] == "-1200.00"
    assert [(error.row, error.column, error.value) for error in checked.errors] == [(4, "amount", "(x)")]


def test_an_assessor_s_problems_reject_the_file_like_any_other(alice, django_capture_on_commit_callbacks):
    job = _start(alice, "reference,amount\nA,10\nB,250\nC,x\n", django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED
    assert job.result["problems"] == 2
    assert [(error["row"], error["column"]) for error in job.errors[1:]] == [(3, "amount"), (4, "amount")]
    assert "above what the engine allows" in job.errors[1]["message"]
    assert job.pk not in SEEN


def test_valid_rows_only_leaves_out_what_the_assessor_refused(alice, django_capture_on_commit_callbacks):
    job = _start(
        alice,
        "reference,amount\nA,10\nB,250\nC,(5)\n",
        django_capture_on_commit_callbacks,
        valid_rows_only=True,
    )
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert [(row["line"], row["reference"], str(row["amount"])) for row in SEEN[job.pk]] == [
        (2, "A", "10"),
        (4, "C", "-5"),
    ]
    assert (job.result["created"], job.result["rejected"]) == (2, 1)


def test_the_person_s_choice_of_columns_reads_a_file_with_its_own_headers(
    alice, django_capture_on_commit_callbacks
):
    content = "Ref,Total,amount\nA,10,999\nB,20,999\n"
    job = _start(
        alice,
        content,
        django_capture_on_commit_callbacks,
        headers={"reference": "Ref", "amount": "Total"},
    )
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert [(row["reference"], int(row["amount"])) for row in SEEN[job.pk]] == [("A", 10), ("B", 20)]
    # The file's own "amount" column was not chosen: it is unknown, not silently read.
    assert job.result["unknown_columns"] == ["amount"]


def test_a_chosen_column_the_file_lacks_is_refused_at_once(alice):
    with pytest.raises(UploadRejected) as caught:
        import_start(
            IMPORTER,
            SimpleUploadedFile("amounts.csv", b"Ref,Total\nA,1\n"),
            actor=alice,
            organization_id=alice.organization_id,
            headers={"reference": "Ref", "amount": "Sum"},
        )
    assert [(error.column, error.message) for error in caught.value.errors] == [
        ("amount", "the chosen column 'Sum' is not in the file")
    ]
    assert not JobRun.objects.filter(kind=IMPORTER.kind).exists()


def test_a_choice_naming_no_column_of_the_layout_is_a_programming_error():
    with pytest.raises(ValueError, match="not columns of tests.amounts: total"):
        AMOUNTS.with_headers({"total": "Total"})


def test_a_header_naming_a_chosen_column_twice_is_refused_at_once(alice):
    with pytest.raises(UploadRejected) as caught:
        import_start(
            IMPORTER,
            SimpleUploadedFile("amounts.csv", b"Ref,Total,Total\nA,1,2\n"),
            actor=alice,
            organization_id=alice.organization_id,
            headers={"reference": "Ref", "amount": "Total"},
        )
    assert [(error.column, error.message) for error in caught.value.errors] == [
        ("Total", "appears more than once in the header; rename one")
    ]


def test_a_file_spooled_to_disk_can_be_read_again_after_its_header_is_checked(alice):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from portal.imports import import_check_header

    upload = TemporaryUploadedFile("amounts.csv", "text/csv", 0, None)
    upload.write(b"reference,amount\nA,1\n")
    import_check_header(IMPORTER, upload)
    import gc

    gc.collect()
    upload.seek(0)
    assert upload.read().startswith(b"reference,amount")


def test_microsoft_s_far_future_placeholder_is_a_date_time():
    from portal.imports import DATETIME

    layout = Layout(name="tests.far", columns=(Column("end", kind=DATETIME),))
    with open_table(io.BytesIO(b"end\n9999-12-31T23:59:59Z\n")) as table:
        checked = check_chunk(layout, layout.match_header(table.header), next(table.chunks).frame)
    assert checked.errors == [] and checked.values.loc[2, "end"] == "9999-12-31T23:59:59Z"
