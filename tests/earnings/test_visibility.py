"""Who sees which earnings: the organization, then the user's partner locations (spec §1)."""

from __future__ import annotations

import pytest

from accounts.models import RoleAssignment
from earnings.models import Earning, Enrollment, IneligibleTransaction, Payment, Transaction
from portal.capabilities import Capability, locations_granting
from portal.roles import Role
from tests.factories import (
    EarningFactory,
    EnrollmentFactory,
    IneligibleTransactionFactory,
    PartnerLocationFactory,
    PaymentFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_locations(org_a):
    berlin = PartnerLocationFactory(organization=org_a, country="DE")
    paris = PartnerLocationFactory(organization=org_a, country="FR")
    rows = {}
    for location in (berlin, paris):
        enrollment = EnrollmentFactory(organization=org_a, location=location)
        transaction = TransactionFactory(organization=org_a, location=location)
        rows[location.pk] = {
            Enrollment: enrollment,
            Transaction: transaction,
            Earning: EarningFactory(organization=org_a, enrollment=enrollment, transaction=transaction),
            Payment: PaymentFactory(organization=org_a, enrollment=enrollment),
            IneligibleTransaction: IneligibleTransactionFactory(organization=org_a, transaction=transaction),
        }
    return berlin, paris, rows


def location_user(org, location, role=Role.INCENTIVES_USER):
    user = UserFactory(organization=org)
    RoleAssignment.objects.create(organization=org, user=user, role=role, location=location)
    return user


@pytest.mark.parametrize("model", [Enrollment, Transaction, Earning, Payment, IneligibleTransaction])
def test_a_location_scoped_incentives_user_sees_only_their_location(org_a, two_locations, model):
    berlin, paris, rows = two_locations
    user = location_user(org_a, berlin)

    assert list(model.objects.visible_to(user)) == [rows[berlin.pk][model]]


@pytest.mark.parametrize("model", [Enrollment, Transaction, Earning, Payment, IneligibleTransaction])
def test_an_organization_wide_role_sees_every_location(alice, bob, two_locations, model):
    for user in (alice, bob):
        assert model.objects.visible_to(user).count() == 2


def test_another_organization_sees_nothing(charlie, two_locations):
    assert not Earning.objects.visible_to(charlie).exists()


def test_a_role_without_earnings_sees_no_earnings_even_in_its_organization(org_a, two_locations):
    berlin, _paris, _rows = two_locations
    referrals_only = location_user(org_a, berlin, role=Role.REFERRALS_USER)

    assert not Earning.objects.visible_to(referrals_only).exists()


def test_locations_granting_unions_scoped_assignments_and_widens_to_all(org_a, two_locations):
    berlin, paris, _rows = two_locations
    user = location_user(org_a, berlin)
    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.INCENTIVES_ADMIN, location=paris)
    user = type(user).objects.get(pk=user.pk)
    assert locations_granting(user, Capability.EARNINGS_VIEW) == {berlin.pk, paris.pk}

    RoleAssignment.objects.create(organization=org_a, user=user, role=Role.BILLING_ADMIN)
    user = type(user).objects.get(pk=user.pk)
    assert locations_granting(user, Capability.EARNINGS_VIEW) is None
