"""Commerce pages: who may open and act on them, what they read (commerce.selectors) and in what
order, and that a page costs the same queries whatever the partner's size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commerce import selectors
from commerce.choices import MigrationStatus
from commerce.demo import commerce_demo_catalog
from commerce.models import MigrationBatch
from portal.paging import COUNT_CAP
from portal.roles import Role
from tests.commerce.conftest import legacy_subscription as legacy
from tests.contracts.routes import all_routes
from tests.factories import (
    CustomerFactory,
    LegacySubscriptionFactory,
    MigrationBatchFactory,
    MigrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    commerce_demo_catalog()


@pytest.fixture
def helpdesk(org_a):
    """Reads customers and their subscriptions, places no orders."""
    return UserFactory(organization=org_a, roles=[Role.HELPDESK_AGENT])


def _capabilities_of(callback):
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return view_class.required()
    return getattr(callback, "required_capabilities", None)


def test_every_commerce_page_names_the_capability_it_needs():
    routes = [route for route in all_routes() if route.name.startswith("commerce:") and not route.is_api]
    assert routes
    assert [route.name for route in routes if not _capabilities_of(route.callback)] == []


# --- What a person without the right to order sees and may do ----------------------------------------


def test_the_list_offers_migration_only_to_those_who_may_order(
    org_a, alice, helpdesk, verified_client, catalog
):
    legacy(
        CustomerFactory(organization=org_a, country="US"),
        "basic",
        term_end=timezone.localdate() + timedelta(days=30),
    )
    url = reverse("commerce:subscription-list")
    assert "Migrate selected" in verified_client(alice).get(url).content.decode()
    html = verified_client(helpdesk).get(url).content.decode()
    assert "Eligible" in html
    assert "Migrate selected" not in html and 'name="subscription"' not in html


def test_a_failed_migration_offers_retry_only_to_those_who_may_order(org_a, alice, helpdesk, verified_client):
    failed = MigrationFactory(organization=org_a, status=MigrationStatus.FAILED)
    url = reverse("commerce:migration-detail", args=[failed.pk])
    assert "Retry" in verified_client(alice).get(url).content.decode()
    assert "Retry" not in verified_client(helpdesk).get(url).content.decode()
    retry = reverse("commerce:migration-retry", args=[failed.pk])
    assert verified_client(helpdesk).post(retry).status_code == 403
    failed.refresh_from_db()
    assert failed.status == MigrationStatus.FAILED


def test_a_batch_of_ticked_subscriptions_takes_only_the_partners_own(
    org_a, org_b, alice, verified_client, catalog
):
    ours = legacy(
        CustomerFactory(organization=org_a, country="US"),
        "basic",
        term_end=timezone.localdate() + timedelta(days=30),
    )
    theirs = LegacySubscriptionFactory(organization=org_b)
    client = verified_client(alice)
    refused = client.post(reverse("commerce:batch-from-selection"), {"subscription": [theirs.pk]})
    assert refused["Location"] == reverse("commerce:subscription-list")
    assert not MigrationBatch.objects.exists()
    started = client.post(reverse("commerce:batch-from-selection"), {"subscription": [ours.pk, theirs.pk]})
    batch = MigrationBatch.objects.get()
    assert started["Location"] == reverse("commerce:batch-detail", args=[batch.pk])
    assert [row["id"] for row in batch.job.parameters["rows"]] == [ours.pk]


# --- The overview and the lists ----------------------------------------------------------------------


def test_a_count_past_the_cap_reads_as_the_cap_and_a_plus():
    assert str(selectors.CappedCount(COUNT_CAP + 1)) == f"{COUNT_CAP:,}+"
    assert str(selectors.CappedCount(COUNT_CAP - 1)) == f"{COUNT_CAP - 1:,}"
    assert not selectors.CappedCount(COUNT_CAP).capped


def test_the_overview_counts_moved_subscriptions_and_shows_the_latest_batches(org_a, alice, verified_client):
    moved = MigrationFactory(organization=org_a, status=MigrationStatus.COMPLETED)
    MigrationFactory(
        organization=org_a, status=MigrationStatus.FAILED, current_subscription=moved.current_subscription
    )
    batches = [MigrationBatchFactory(organization=org_a) for _ in range(selectors.RECENT_BATCHES + 1)]
    summary = verified_client(alice).get(reverse("commerce:index")).context["summary"]
    assert (summary.migrated.value, summary.failed.value) == (1, 1)
    assert [batch.pk for batch in summary.recent_batches] == [batch.pk for batch in batches[:0:-1]]


def test_the_subscription_list_shows_the_soonest_renewal_first(org_a, alice, verified_client, catalog):
    today = timezone.localdate()
    customer = CustomerFactory(organization=org_a, country="US")
    later = legacy(customer, "basic", term_end=today + timedelta(days=90))
    sooner = legacy(customer, "premium", term_end=today + timedelta(days=10))
    rows = verified_client(alice).get(reverse("commerce:subscription-list")).context["rows"]
    assert [subscription.pk for subscription, _ in rows] == [sooner.pk, later.pk]


def test_the_migration_list_pages_newest_first_with_a_cursor(org_a, alice, verified_client):
    now = timezone.now()
    migrations = [
        MigrationFactory(organization=org_a, started_time=now - timedelta(minutes=n))
        for n in range(selectors.LIST_PAGE_SIZE + 3)
    ]
    client = verified_client(alice)
    first = client.get(reverse("commerce:migration-list")).context["page"]
    assert [m.pk for m in first.rows] == [m.pk for m in migrations[: selectors.LIST_PAGE_SIZE]]
    second = client.get(reverse("commerce:migration-list"), {"after": first.next_cursor}).context["page"]
    assert [m.pk for m in second.rows] == [m.pk for m in migrations[selectors.LIST_PAGE_SIZE :]]
    assert second.next_cursor is None


def test_the_migration_list_filters_and_answers_htmx_with_the_results_only(org_a, alice, verified_client):
    failed = MigrationFactory(organization=org_a, status=MigrationStatus.FAILED)
    MigrationFactory(organization=org_a, status=MigrationStatus.COMPLETED)
    response = verified_client(alice).get(
        reverse("commerce:migration-list"), {"status": MigrationStatus.FAILED}, HTTP_HX_REQUEST="true"
    )
    assert [m.pk for m in response.context["page"].rows] == [failed.pk]
    assert "<h1>" not in response.content.decode()


def test_the_batch_list_counts_each_batchs_completed_and_failed_migrations(org_a, alice, verified_client):
    busy, idle = MigrationBatchFactory(organization=org_a), MigrationBatchFactory(organization=org_a)
    for status in (MigrationStatus.COMPLETED, MigrationStatus.COMPLETED, MigrationStatus.FAILED):
        MigrationFactory(organization=org_a, batch=busy, status=status)
    rows = verified_client(alice).get(reverse("commerce:batch-list")).context["page"].rows
    counts = {batch.pk: (batch.completed, batch.failed) for batch in rows}
    assert counts == {busy.pk: (2, 1), idle.pk: (0, 0)}


def test_the_eligibility_of_a_page_costs_the_same_queries_with_or_without_add_ons(org_a, catalog):
    customer = CustomerFactory(organization=org_a, country="US")
    base = legacy(customer, "premium", term_end=timezone.localdate() + timedelta(days=30))

    def queries(subscriptions) -> int:
        with CaptureQueriesContext(connection) as captured:
            selectors.with_eligibility(subscriptions)
        return len(captured)

    alone = queries([base])
    addon = legacy(customer, "basic", term_end=timezone.localdate(), parent=base)
    assert queries([addon]) == alone
