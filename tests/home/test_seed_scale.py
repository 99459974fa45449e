"""`manage.py seed_scale`: the large partner at a tiny scale, in proportion, idempotent, resumable."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import Organization
from home.scale import BASE_COUNTS, counts_of, plan_for, seed_scale
from portal.choices import JobStatus
from portal.history import verify_chains
from portal.models import JobRun

pytestmark = pytest.mark.django_db

SCALE = 0.002


def _rows_of(organization_id: int) -> dict[str, int]:
    """Every partner-owned table's rows of the organization."""
    counts = {}
    for model in apps.get_models():
        names = {field.name for field in model._meta.concrete_fields}
        if "organization" in names:
            counts[model._meta.label] = model._base_manager.filter(organization_id=organization_id).count()
    return counts


def test_a_tiny_scale_builds_every_count_in_proportion_once(monkeypatch):
    from home.scale import cosell

    plan = plan_for(SCALE)
    assert plan.counts == {name: round(base * SCALE) for name, base in BASE_COUNTS.items()}

    # A run that dies midway (building the referrals) keeps the chunks it committed …
    build = cosell._referrals

    def dies_once(ctx, first, last):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(cosell, "_referrals", dies_once)
    with pytest.raises(RuntimeError, match="worker killed"):
        seed_scale(SCALE)
    organization = Organization.objects.get(partner_global_id=plan.partner_global_id)
    job = JobRun.objects.get(kind="accounts.seed_scale", organization=organization)
    assert job.status == JobStatus.RUNNING
    assert counts_of(organization.pk)["earnings"] == plan.earnings
    assert counts_of(organization.pk)["referrals"] == 0

    # … and the next run completes it.
    monkeypatch.setattr(cosell, "_referrals", build)
    report = seed_scale(SCALE)
    assert report.skipped > 0 and report.ran
    assert report.counts == plan.counts
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED

    rows = _rows_of(organization.pk)
    assert rows["earnings.Transaction"] == plan.transactions + plan.ineligible_transactions
    assert rows["commerce.Migration"] == plan.migrations
    assert rows["incentives.Opportunity"] == plan.opportunities
    assert rows["security.CustomerMfaStat"] == plan.customers
    assert all(verdict.broken is None for _organization, verdict in verify_chains(organization.pk))

    # A second run changes nothing.
    call_command("seed_scale", "--scale", str(SCALE), "--quiet")
    assert _rows_of(organization.pk) == rows
    assert counts_of(organization.pk) == plan.counts


def test_the_builds_of_two_scales_live_side_by_side():
    small, smaller = plan_for(0.001), plan_for(0.0005)
    assert small.partner_global_id != smaller.partner_global_id
    assert small.domain != smaller.domain and small.prefix != smaller.prefix
    assert plan_for(1).partner_global_id == "9010000"
    with pytest.raises(ValueError):
        plan_for(0)
