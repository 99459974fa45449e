"""Benefit packages, activation, consumption and the benefit lines (spec/membership.md §5)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from membership.choices import ActivationStatus, BenefitKind, BenefitUnit, PackageSource
from membership.models import Benefit, BenefitConsumption, BenefitPackage, BenefitTemplate
from membership.selectors.benefits import benefit_lines
from membership.services.benefits import (
    benefit_activate,
    benefit_consumption_record,
    package_end,
    package_grant,
)
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import (
    BenefitConsumptionFactory,
    BenefitFactory,
    BenefitPackageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_admin(org_a):
    return UserFactory(organization=org_a, roles=[Role.PARTNER_ADMIN])


@pytest.fixture
def vendor(db):
    return UserFactory(organization=None, is_staff=True, email="benefits@vendor.example")


def _running_benefit(org, **kwargs):
    today = timezone.localdate()
    package = BenefitPackageFactory(
        organization=org, start=today - timedelta(days=30), end=package_end(today)
    )
    return BenefitFactory(organization=org, package=package, expires_at=package.end, **kwargs)


def _activated(org, *, days_ago=10, **kwargs):
    benefit = _running_benefit(org, **kwargs)
    benefit.activation_status = ActivationStatus.ACTIVATED
    benefit.activated_at = timezone.now() - timedelta(days=days_ago)
    benefit.save()
    return benefit


# --- package_grant ---------------------------------------------------------------------------------


def test_package_grant_copies_the_catalogue_for_one_year(org_a, alice):
    package = package_grant(
        organization=org_a,
        code="solutions_partner_modern_work",
        source=PackageSource.DESIGNATION,
        start=date(2026, 7, 1),
        actor=alice,
    )
    assert (package.start, package.end) == (date(2026, 7, 1), date(2027, 6, 30))
    assert package.name == "Solutions Partner for Modern Work benefits"
    assert package.source == PackageSource.DESIGNATION
    benefits = list(package.benefits.order_by("id"))
    templates = list(
        BenefitTemplate.objects.filter(package_code="solutions_partner_modern_work").order_by("id")
    )
    assert [(b.kind, b.product, b.quantity, b.unit) for b in benefits] == [
        (t.kind, t.product, t.quantity, t.unit) for t in templates
    ]
    assert {b.expires_at for b in benefits} == {date(2027, 6, 30)}
    assert {b.activation_status for b in benefits} == {ActivationStatus.NOT_ACTIVATED}
    assert {b.organization_id for b in benefits} == {org_a.pk}
    event = AuditEvent.objects.get(action="membership.package.granted")
    assert event.organization_id == org_a.pk and event.actor == alice
    assert event.changes["end"] == "2027-06-30"


def test_package_grant_is_idempotent_per_code_and_start(org_a):
    first = package_grant(
        organization=org_a, code="isv_success", source="isv_success", start=date(2026, 5, 4)
    )
    again = package_grant(
        organization=org_a, code="isv_success", source="isv_success", start=date(2026, 5, 4)
    )
    assert again.pk == first.pk
    assert BenefitPackage.objects.filter(organization=org_a).count() == 1
    assert Benefit.objects.filter(organization=org_a).count() == 6
    later = package_grant(
        organization=org_a, code="isv_success", source="isv_success", start=date(2027, 5, 4)
    )
    assert later.pk != first.pk and later.end == date(2028, 5, 3)


def test_package_grant_refuses_an_unknown_code_or_source_and_writes_nothing(org_a):
    with pytest.raises(ValidationError) as excinfo:
        package_grant(organization=org_a, code="gold_competency", source="purchase", start=date(2026, 7, 1))
    assert excinfo.value.message_dict == {"code": ["The benefit catalogue has no package 'gold_competency'."]}
    with pytest.raises(ValidationError) as excinfo:
        package_grant(organization=org_a, code="partner_launch", source="gift", start=date(2026, 7, 1))
    assert excinfo.value.message_dict == {"source": ["Unknown package source 'gift'."]}
    assert not BenefitPackage.objects.exists() and not Benefit.objects.exists()
    assert not AuditEvent.objects.filter(action="membership.package.granted").exists()


def test_package_end_handles_the_leap_day():
    assert package_end(date(2027, 3, 1)) == date(2028, 2, 29)
    assert package_end(date(2028, 2, 29)) == date(2029, 2, 27)


# --- Activation ------------------------------------------------------------------------------------


def test_partner_admin_activates_a_benefit(org_a, partner_admin):
    benefit = _running_benefit(org_a)
    activated = benefit_activate(actor=partner_admin, benefit=benefit)
    benefit.refresh_from_db()
    assert activated.activation_status == benefit.activation_status == ActivationStatus.ACTIVATED
    assert benefit.activated_by == partner_admin and benefit.activated_at is not None
    event = AuditEvent.objects.get(action="membership.benefit.activated")
    assert event.target_id == str(benefit.pk) and event.actor == partner_admin

    with pytest.raises(ValidationError, match="was already activated on"):
        benefit_activate(actor=partner_admin, benefit=benefit)
    assert AuditEvent.objects.filter(action="membership.benefit.activated").count() == 1


def test_vendor_staff_may_activate(org_a, vendor):
    benefit = benefit_activate(actor=vendor, benefit=_running_benefit(org_a))
    assert benefit.activation_status == ActivationStatus.ACTIVATED and benefit.activated_by == vendor


def test_activation_needs_membership_manage_in_the_own_organization(org_a, bob, charlie, verified_client):
    """The page checks the capability (the service does not); another organization's benefit is a 404."""
    benefit = _running_benefit(org_a)
    url = reverse("membership:benefit-activate", args=[benefit.pk])
    assert verified_client(bob).post(url).status_code == 403
    assert verified_client(charlie).post(url).status_code == 404
    benefit.refresh_from_db()
    assert benefit.activation_status == ActivationStatus.NOT_ACTIVATED


def test_expired_and_future_benefits_cannot_be_activated(org_a, alice):
    today = timezone.localdate()
    old = BenefitPackageFactory(
        organization=org_a, start=today - timedelta(days=400), end=today - timedelta(days=36)
    )
    expired = BenefitFactory(organization=org_a, package=old, expires_at=old.end)
    with pytest.raises(ValidationError) as excinfo:
        benefit_activate(actor=alice, benefit=expired)
    assert excinfo.value.message_dict["activation_status"] == [
        f"Azure credits ({old.name}) expired on {old.end.isoformat()}."
    ]
    upcoming = BenefitPackageFactory(
        organization=org_a, start=today + timedelta(days=5), end=today + timedelta(days=369)
    )
    future = BenefitFactory(organization=org_a, package=upcoming, expires_at=upcoming.end)
    with pytest.raises(ValidationError, match="can be activated from"):
        benefit_activate(actor=alice, benefit=future)
    assert not Benefit.objects.filter(activation_status=ActivationStatus.ACTIVATED).exists()


# --- Consumption -----------------------------------------------------------------------------------


def test_consumption_is_recorded_once_per_day(org_a, alice):
    benefit = _activated(org_a)
    today = timezone.localdate()
    first = benefit_consumption_record(
        actor=alice, benefit=benefit, consumed_quantity=Decimal("1200"), as_of=today
    )
    second = benefit_consumption_record(
        actor=alice, benefit=benefit, consumed_quantity="2950.50", as_of=today
    )
    assert first.pk == second.pk
    assert BenefitConsumption.objects.get(benefit=benefit).consumed_quantity == Decimal("2950.50")
    events = list(AuditEvent.objects.filter(action="membership.benefit.consumption_recorded").order_by("id"))
    assert [e.changes["consumed_quantity"] for e in events] == [[None, "1200"], ["1200.00", "2950.50"]]
    benefit_consumption_record(
        actor=None, benefit=benefit, consumed_quantity=3000, as_of=today - timedelta(days=1)
    )
    assert BenefitConsumption.objects.filter(benefit=benefit).count() == 2


@pytest.mark.parametrize(
    ("quantity", "as_of_delta", "field", "message"),
    [
        ("4000.01", 0, "consumed_quantity", "4000.01 USD exceeds the 4000 USD the benefit grants."),
        ("-1", 0, "consumed_quantity", "The consumed quantity cannot be negative."),
        ("lots", 0, "consumed_quantity", "'lots' is not a number."),
        ("NaN", 0, "consumed_quantity", "'NaN' is not a number."),
        ("1.005", 0, "consumed_quantity", "The consumed quantity has at most two decimal places."),
        ("10", 1, "as_of", "Consumption cannot be recorded for a future day."),
    ],
)
def test_bad_consumption_is_refused_and_nothing_is_written(
    org_a, alice, quantity, as_of_delta, field, message
):
    benefit = _activated(org_a)
    with pytest.raises(ValidationError) as excinfo:
        benefit_consumption_record(
            actor=alice,
            benefit=benefit,
            consumed_quantity=quantity,
            as_of=timezone.localdate() + timedelta(days=as_of_delta),
        )
    assert excinfo.value.message_dict == {field: [message]}
    assert not BenefitConsumption.objects.exists()
    assert not AuditEvent.objects.filter(action="membership.benefit.consumption_recorded").exists()


def test_consumption_cannot_precede_the_activation(org_a, alice):
    benefit = _activated(org_a, days_ago=3)
    activated_on = timezone.localtime(benefit.activated_at).date()
    with pytest.raises(ValidationError) as excinfo:
        benefit_consumption_record(
            actor=alice, benefit=benefit, consumed_quantity=5, as_of=activated_on - timedelta(days=1)
        )
    assert excinfo.value.message_dict == {
        "as_of": [f"The benefit was activated on {activated_on.isoformat()}; consumption cannot be earlier."]
    }
    not_active = _running_benefit(org_a)
    with pytest.raises(ValidationError, match="is not activated: consumption starts with the activation"):
        benefit_consumption_record(
            actor=alice, benefit=not_active, consumed_quantity=5, as_of=timezone.localdate()
        )
    assert not BenefitConsumption.objects.exists()


def test_consumption_needs_membership_manage(org_a, bob, api_for):
    """The API policy checks the capability (the service does not)."""
    benefit = _activated(org_a)
    scopes = ["membership:read", "membership:write"]
    viewer = api_for(org_a, scopes=scopes, roles=(Role.BUSINESS_PROFILE_CONTRIBUTOR,))
    response = viewer.post(
        f"/api/v1/membership/benefits/{benefit.pk}/consumption/",
        {"consumedQuantity": "1", "asOf": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 403
    assert not BenefitConsumption.objects.exists()


# --- Benefit lines ---------------------------------------------------------------------------------


def _spec_package(org):
    package = BenefitPackageFactory(
        organization=org,
        code="solutions_partner_modern_work",
        name="Solutions Partner for Modern Work benefits",
        source=PackageSource.DESIGNATION,
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
    )
    seats = BenefitFactory(
        organization=org,
        package=package,
        kind=BenefitKind.PRODUCT_LICENSE,
        product="Microsoft 365 E5",
        quantity=Decimal(25),
        unit=BenefitUnit.SEATS,
        activation_status=ActivationStatus.ACTIVATED,
        activated_at=timezone.now(),
    )
    credit = BenefitFactory(
        organization=org,
        package=package,
        quantity=Decimal(4000),
        activation_status=ActivationStatus.ACTIVATED,
        activated_at=timezone.now(),
    )
    return package, seats, credit


def test_benefit_lines_follow_the_spec_example(org_a, django_assert_num_queries):
    package, seats, credit = _spec_package(org_a)
    BenefitConsumptionFactory(
        organization=org_a, benefit=seats, consumed_quantity=Decimal(12), as_of=date(2027, 1, 31)
    )
    BenefitConsumptionFactory(
        organization=org_a, benefit=seats, consumed_quantity=Decimal(19), as_of=date(2027, 3, 1)
    )
    BenefitConsumptionFactory(
        organization=org_a, benefit=credit, consumed_quantity=Decimal(2950), as_of=date(2027, 3, 31)
    )
    # A figure after the day asked about is not yet known on that day.
    BenefitConsumptionFactory(
        organization=org_a, benefit=credit, consumed_quantity=Decimal(3900), as_of=date(2027, 4, 30)
    )

    with django_assert_num_queries(2):
        result = benefit_lines(org_a, today=date(2027, 3, 31))
    [(got_package, lines)] = result
    assert got_package == package
    seat_line, credit_line = lines
    assert seat_line.benefit == seats
    assert (seat_line.entitled, seat_line.consumed, seat_line.remaining, seat_line.percent_used) == (
        Decimal(25),
        Decimal(19),
        Decimal(6),
        76,
    )
    assert seat_line.activated is True
    assert (credit_line.entitled, credit_line.consumed, credit_line.remaining) == (
        Decimal(4000),
        Decimal(2950),
        Decimal(1050),
    )
    assert credit_line.percent_used == 74  # 73.75 % rounds half up
    assert credit_line.expires_at == date(2027, 6, 30)
    assert credit_line.expiring_soon is False  # 91 days left


def test_expiring_soon_means_within_sixty_days(org_a):
    _spec_package(org_a)

    def flags(day):
        return [(line.expiring_soon, line.expired) for line in benefit_lines(org_a, today=day)[0][1]]

    assert flags(date(2027, 4, 30)) == [(False, False)] * 2  # 61 days left
    assert flags(date(2027, 5, 1)) == [(True, False)] * 2  # 60 days left
    assert flags(date(2027, 6, 30)) == [(True, False)] * 2
    assert flags(date(2027, 7, 1)) == [(False, True)] * 2


def test_benefit_lines_without_consumption_and_the_package_order(org_a, org_b):
    current, _, _ = _spec_package(org_a)
    ended = BenefitPackageFactory(organization=org_a, start=date(2025, 7, 1), end=date(2026, 6, 30))
    upcoming = BenefitPackageFactory(organization=org_a, start=date(2027, 7, 1), end=date(2028, 6, 30))
    fresh = BenefitFactory(organization=org_a, package=upcoming, quantity=Decimal(0), expires_at=upcoming.end)
    BenefitPackageFactory(organization=org_b, start=date(2026, 7, 1), end=date(2027, 6, 30))

    result = benefit_lines(org_a, today=date(2026, 12, 1))
    assert [package for package, _ in result] == [current, upcoming, ended]
    [line] = result[1][1]
    assert line.benefit == fresh
    assert (line.consumed, line.remaining, line.percent_used, line.activated) == (0, 0, 0, False)
    assert result[0][1][0].consumed == 0 and result[0][1][0].remaining == 25
    assert result[2][1] == []
