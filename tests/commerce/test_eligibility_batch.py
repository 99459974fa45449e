"""The eligibility engine over a batch: what thousands of rows share is decided once per key, and
nothing that differs from row to row is shared (the pooled seats, the term end, the legacy price);
the pooled seats are counted per customer tenant with every partner. Plus the staged-cell cast the
import pipeline's SQL checks use.
"""

from __future__ import annotations

import gc
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from freezegun import freeze_time

from commerce.eligibility import (
    MigrationRequest,
    eligibility_for,
    gc_paused,
    migration_assess,
    migration_context_load,
    migration_pool_new,
    migration_pool_take,
    migration_request,
    migration_subscriptions_prepare,
    migration_validate,
    migration_validate_assessment,
)
from commerce.models import LegacySubscription
from portal.imports import DATE, UUID, safe_cast
from tests.factories import CustomerFactory, NceSubscriptionFactory

pytestmark = pytest.mark.django_db

TODAY = "2025-05-20 10:00:00"
PREMIUM = ("CFQ7TTC0LCHC", "0002")


def _assess_in_order(subscriptions, requests=None):
    """Every subscription assessed in one context, in order, as a batch chunk is."""
    loaded = migration_subscriptions_prepare(subscriptions)
    context = migration_context_load(loaded, on=date.today())
    pool = migration_pool_new()
    answers = []
    for index, subscription in enumerate(loaded):
        request = requests[index] if requests else None
        assessment = migration_assess(subscription, context, request, pool_used=pool)
        if assessment.is_eligible:
            migration_pool_take(assessment, pool)
        answers.append(assessment)
    return answers


@freeze_time(TODAY)
def test_rows_asking_the_same_share_the_answer_but_count_pooled_seats_row_by_row(
    catalog, us_customer, legacy
):
    # Business Premium pools 300 seats per tenant: three rows of 120 seats on the same term.
    rows = [legacy(us_customer, "premium", quantity=120, term_end=date(2025, 9, 14)) for _ in range(3)]

    first, second, third = _assess_in_order(rows)

    assert first.is_eligible and second.is_eligible
    # The same line, start, end and legacy price: one (immutable) proposal for both.
    assert first.eligibility.proposal is second.eligibility.proposal
    assert first.eligibility.price_impact == second.eligibility.price_impact
    assert first.eligibility.subscription_id != second.eligibility.subscription_id
    assert [(e.code, e.description) for e in third.eligibility.errors] == [
        (
            "SeatLimitExceeded",
            "The requested number of 120 seats exceeds the remaining limit of 60 seats allowed per "
            "subscription for the CatalogItemId - CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN",
        )
    ]


@freeze_time(TODAY)
def test_shared_answers_keep_each_rows_own_term_end_and_legacy_price(catalog, us_customer, legacy):
    ends_in_september = legacy(us_customer, "basic", quantity=12, term_end=date(2025, 9, 14))
    ends_in_october = legacy(us_customer, "basic", quantity=12, term_end=date(2025, 10, 14))
    priced = legacy(
        us_customer,
        "basic",
        quantity=12,
        term_end=date(2025, 9, 14),
        unit_price=Decimal("6.00"),
        currency="USD",
    )
    priced_higher = legacy(
        us_customer,
        "basic",
        quantity=12,
        term_end=date(2025, 9, 14),
        unit_price=Decimal("7.50"),
        currency="USD",
    )
    rows = [ends_in_september, ends_in_october, priced, priced_higher]

    answers = [assessment.eligibility for assessment in _assess_in_order(rows)]

    assert [answer.proposal.term_end for answer in answers] == [
        date(2025, 9, 14),
        date(2025, 10, 14),
        date(2025, 9, 14),
        date(2025, 9, 14),
    ]
    assert answers[0].proposal.legacy_charge_per_period is None
    assert [answer.proposal.legacy_charge_per_period for answer in answers[2:]] == [
        Decimal("72.00"),
        Decimal("90.00"),
    ]
    # Each answer is what the subscription alone gets from Partner Center's Validate call.
    for subscription, answer in zip(rows, answers, strict=True):
        assert answer == migration_validate(subscription=subscription)


@freeze_time(TODAY)
def test_a_batch_answers_each_request_as_the_validate_call_does(catalog, org_a, legacy):
    requests = [
        MigrationRequest(),
        migration_request("P1Y", "Annual", 25, True, None),
        migration_request("P1M", "Monthly", None, True, None),
        migration_request(None, None, 5000, False, None),
        migration_request("P3Y", None, None, False, None),
        migration_request(None, None, None, False, date(2025, 8, 31)),
        MigrationRequest(at_renewal=True),
    ]
    rows, row_requests = [], []
    for number in range(42):
        # A customer per row, so that no row takes pooled seats another row asks for.
        customer = CustomerFactory(organization=org_a, country=("US", "GB", "DE")[number % 3])
        offer = ("basic", "premium", "e3")[number % 3]
        end = date(2025, 9, 14) + timedelta(days=30 * (number % 2))
        rows.append(legacy(customer, offer, quantity=10 + number % 4, term_end=end))
        row_requests.append(requests[number % len(requests)])

    answers = _assess_in_order(rows, row_requests)

    for subscription, request, assessment in zip(rows, row_requests, answers, strict=True):
        alone = migration_validate_assessment(subscription=subscription, request=request)
        assert assessment.eligibility == alone.eligibility
    assert {answer.is_eligible for answer in answers} == {True, False}


def test_a_request_is_shared_by_the_rows_asking_the_same(db):
    asked = migration_request("P1Y", "Monthly", 10, False, None)
    assert migration_request("P1Y", "Monthly", 10, False, None) is asked
    assert asked == MigrationRequest(term_duration="P1Y", billing_cycle="Monthly", quantity=10)
    assert migration_request("P1Y", "Monthly", 11, False, None) != asked


@freeze_time(TODAY)
def test_the_pooled_seats_count_the_tenants_subscriptions_with_every_partner(catalog, org_a, org_b, legacy):
    ours = CustomerFactory(organization=org_a, country="US")
    premium = catalog[PREMIUM].availabilities.get(term_duration="P1Y")
    # The same customer tenant buys 250 Business Premium seats through partner B.
    NceSubscriptionFactory(
        organization=org_b,
        customer=CustomerFactory(organization=org_b, tenant_id=ours.tenant_id),
        availability=premium,
        quantity=250,
    )
    # Another tenant's seats never count.
    NceSubscriptionFactory(
        organization=org_b, customer=CustomerFactory(organization=org_b), availability=premium, quantity=290
    )
    fits = legacy(ours, "premium", quantity=50, term_end=date(2025, 9, 14))
    too_many = legacy(ours, "premium", quantity=51, term_end=date(2025, 9, 14))

    listed = eligibility_for(LegacySubscription.objects.filter(pk__in=[fits.pk, too_many.pk]))

    assert listed[fits.pk].is_eligible
    assert [e.code for e in listed[too_many.pk].errors] == ["SeatLimitExceeded"]
    assert "remaining limit of 50 seats" in listed[too_many.pk].errors[0].description


def test_the_garbage_collector_is_held_only_inside_and_resumes_after(db):
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer hold stands until it ends
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_staged_cell_is_cast_only_when_it_holds_a_normalised_value(db):
    """A row without problems holds only normalised cells; a row with one is matched cell by cell,
    so a cell staged as written (it failed its check) is NULL, never a failing cast."""
    good = str(uuid.uuid4())
    rows = [
        (1, None, good, "2025-09-14"),
        (2, "Term: is not a term", good, "2025-09-14"),
        (3, "LegacySubscriptionId: is not a GUID", "not-a-guid", "2025-09-14"),
        (4, "ExpirationDate: is not a date", good, "14.09.2025"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE staged (line integer, errors text, guid text, day text)")
        cursor.executemany("INSERT INTO staged VALUES (%s, %s, %s, %s)", rows)
        guid, day = safe_cast("s.guid", UUID), safe_cast("s.day", DATE)
        cursor.execute(f"SELECT line, {guid}, {day} FROM staged s ORDER BY line")
        cast = cursor.fetchall()
    september = date(2025, 9, 14)
    assert cast == [
        (1, uuid.UUID(good), september),
        (2, uuid.UUID(good), september),
        (3, None, september),
        (4, uuid.UUID(good), None),
    ]
