"""Designations follow the scores (spec/membership.md §2.1, §2.5): eligible with an Action Center
item when qualified, enrollment with its benefit package, at risk when the score drops, renewal
on the anniversary, lapse after the grace notice, and no organization's data in another's score.

D = 15 Sep 2026: its qualification window is 1 Apr – 15 Sep 2026.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from membership.choices import Designation, EnrollmentStatus
from membership.models import BenefitPackage, Certification, DesignationEnrollment, ScoreSnapshot
from membership.services.designations import designation_enroll, designations_sync, qualification_window
from membership.services.scoring import recalculate_capability_scores, rule_set_on
from portal.models import AuditEvent
from tests.factories import (
    CustomerFactory,
    DesignationEnrollmentFactory,
    PartnerLocationFactory,
    PersonCertificationFactory,
    ScoreSnapshotFactory,
    TrainingDeliveryFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

D = date(2026, 9, 15)
MW, DAI, BA = Designation.MODERN_WORK, Designation.DATA_AI, Designation.BUSINESS_APPS
TRAINING = Designation.TRAINING_SERVICES


def snap(organization, designation, day, *, qualified, total=None, track="all"):
    """The day's best-track score, as the nightly run writes it."""
    return ScoreSnapshotFactory(
        organization=organization,
        designation=designation,
        track=track,
        taken_on=day,
        rule_set=rule_set_on(day),
        total=total if total is not None else (85 if qualified else 40),
        qualified=qualified,
        is_best=True,
    )


def items(organization, code):
    return ActionItem.objects.filter(organization=organization, code=code)


def enrolled(organization, designation=MW, **fields):
    values = {
        "status": EnrollmentStatus.ENROLLED,
        "enrolled_on": date(2025, 9, 15),
        "renews_on": date(2027, 1, 15),
        "last_qualified_on": date(2026, 9, 1),
    }
    values.update(fields)
    return DesignationEnrollmentFactory(organization=organization, designation=designation, **values)


def certify(organization, code, email):
    return PersonCertificationFactory(
        organization=organization, certification=Certification.objects.get(code=code), email=email
    )


def test_qualification_window():
    assert qualification_window(date(2024, 8, 15)) == (date(2024, 3, 1), date(2024, 8, 15))
    assert qualification_window(date(2025, 1, 31)) == (date(2024, 8, 1), date(2025, 1, 31))
    assert qualification_window(D) == (date(2026, 4, 1), D)


def test_qualifying_makes_the_designation_eligible_with_an_attained_item(org_a):
    # Training services from data: 2 trainers (40), 12 courses (30), 90 % satisfaction (30).
    certify(org_a, "MCT", "one@alpha.example")
    certify(org_a, "MCT", "two@alpha.example")
    for n in range(12):
        TrainingDeliveryFactory(organization=org_a, delivered_on=D - timedelta(days=20 * n), satisfaction=90)
    recalculate_capability_scores(day=D, organization_ids=[org_a.pk])

    enrollment = DesignationEnrollment.objects.get(organization=org_a)
    assert (enrollment.designation, enrollment.status, enrollment.last_qualified_on) == (
        TRAINING,
        EnrollmentStatus.ELIGIBLE,
        D,
    )
    item = items(org_a, ActionItemCode.DESIGNATION_ATTAINED).get()
    assert item.status == ActionItemStatus.OPEN
    assert (
        item.title == "You qualify for Solutions Partner for Training Services: enroll to unlock the benefits"
    )
    assert item.target_url == reverse("membership:designation", kwargs={"slug": "training-services"})
    assert item.target_url == "/membership/designations/training-services/"

    # The next day's run changes nothing but the day.
    recalculate_capability_scores(day=D + timedelta(days=1), organization_ids=[org_a.pk])
    assert DesignationEnrollment.objects.get(organization=org_a).last_qualified_on == D + timedelta(days=1)
    assert items(org_a, ActionItemCode.DESIGNATION_ATTAINED).count() == 1
    assert not DesignationEnrollment.objects.exclude(designation=TRAINING).exists()


@freeze_time("2026-09-15 09:00:00")
def test_enroll_grants_the_package_and_resolves_the_item(org_a, alice, bob, verified_client):
    snap(org_a, TRAINING, D, qualified=True, total=100)
    assert designations_sync(day=D).eligible == 1

    # The page checks MEMBERSHIP_MANAGE (the service does not).
    refused = verified_client(bob).post(reverse("membership:designation-enroll", args=["training-services"]))
    assert refused.status_code == 403
    assert DesignationEnrollment.objects.get(organization=org_a).status == EnrollmentStatus.ELIGIBLE
    enrollment = designation_enroll(actor=alice, organization=org_a, designation=TRAINING)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.enrolled_on, enrollment.renews_on) == (
        EnrollmentStatus.ENROLLED,
        D,
        date(2027, 9, 15),
    )
    package = BenefitPackage.objects.get(organization=org_a)
    assert (package.code, package.source, package.start, package.end) == (
        "solutions_partner_training_services",
        "designation",
        D,
        date(2027, 9, 14),
    )
    assert package.benefits.count() == 4
    assert items(org_a, ActionItemCode.DESIGNATION_ATTAINED).get().status == ActionItemStatus.RESOLVED
    event = AuditEvent.objects.get(organization=org_a, action="membership.designation.enrolled")
    assert event.changes["status"] == ["eligible", "enrolled"]

    with pytest.raises(ValidationError, match="already holds"):
        designation_enroll(actor=alice, organization=org_a, designation=TRAINING)
    with pytest.raises(ValidationError, match="has not qualified for Solutions Partner for Modern Work"):
        designation_enroll(actor=alice, organization=org_a, designation=MW)
    with pytest.raises(ValidationError) as error:
        designation_enroll(actor=alice, organization=org_a, designation="Quantum")
    assert "designation" in error.value.message_dict
    assert BenefitPackage.objects.filter(organization=org_a).count() == 1


@freeze_time("2026-09-15 09:00:00")
def test_a_lapsed_designation_qualified_within_the_window_can_be_enrolled_again(org_a, alice):
    DesignationEnrollmentFactory(
        organization=org_a,
        designation=DAI,
        status=EnrollmentStatus.LAPSED,
        lapsed_on=date(2026, 2, 14),
        last_qualified_on=date(2026, 4, 1),
    )
    enrollment = designation_enroll(actor=alice, organization=org_a, designation=DAI)
    assert (enrollment.status, enrollment.lapsed_on, enrollment.renews_on) == (
        "enrolled",
        None,
        date(2027, 9, 15),
    )

    DesignationEnrollment.objects.filter(pk=enrollment.pk).update(
        status=EnrollmentStatus.LAPSED, last_qualified_on=date(2026, 3, 31)
    )
    with pytest.raises(ValidationError, match="since 01 Apr 2026"):
        designation_enroll(actor=alice, organization=org_a, designation=DAI)


def test_losing_qualification_raises_at_risk_until_qualified_again(org_a):
    enrollment = enrolled(org_a)
    snap(org_a, MW, D, qualified=False, total=64, track="enterprise")
    assert designations_sync(day=D).at_risk == 1

    item = items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get()
    assert item.title == "Solutions Partner for Modern Work is at risk"
    assert "Your score is 64 today" in item.body
    assert "renew it on 15 Jan 2027" in item.body and "between 01 Aug 2026 and 15 Jan 2027" in item.body
    assert (item.status, item.severity) == (ActionItemStatus.OPEN, Severity.MEDIUM)
    assert item.target_url == reverse("membership:designation", kwargs={"slug": "modern-work"})
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ENROLLED

    assert designations_sync(day=D).at_risk == 0  # raised once
    assert items(org_a, ActionItemCode.DESIGNATION_AT_RISK).count() == 1

    tomorrow = D + timedelta(days=1)
    snap(org_a, MW, tomorrow, qualified=True, track="enterprise")
    assert designations_sync(day=tomorrow).back_on_track == 1
    item.refresh_from_db()
    enrollment.refresh_from_db()
    assert item.status == ActionItemStatus.RESOLVED
    assert (enrollment.status, enrollment.last_qualified_on) == (EnrollmentStatus.ENROLLED, tomorrow)

    # Losing it again reopens the same item.
    later = D + timedelta(days=2)
    snap(org_a, MW, later, qualified=False, total=50, track="enterprise")
    designations_sync(day=later)
    assert items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get().status == ActionItemStatus.OPEN


def test_renewal_on_the_anniversary_when_qualified_on_a_day_of_the_window(org_a):
    enrollment = enrolled(org_a, renews_on=D, last_qualified_on=date(2026, 4, 1))
    snap(org_a, MW, D, qualified=False, track="enterprise")
    result = designations_sync(day=D)

    assert (result.renewed, result.lapsed) == (1, 0)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.renews_on) == (EnrollmentStatus.ENROLLED, date(2027, 9, 15))
    package = BenefitPackage.objects.get(organization=org_a, code="solutions_partner_modern_work")
    assert (package.start, package.end) == (D, date(2027, 9, 14))
    assert not items(org_a, ActionItemCode.DESIGNATION_AT_RISK).filter(status=ActionItemStatus.OPEN).exists()


def test_lapse_after_the_grace_notice_then_eligible_again(org_a):
    enrollment = enrolled(org_a, renews_on=D, last_qualified_on=date(2026, 3, 31))
    for day in (D, D + timedelta(days=29)):
        snap(org_a, MW, day, qualified=False, track="enterprise")
        result = designations_sync(day=day)
        assert (result.renewed, result.lapsed) == (0, 0)
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ENROLLED
        item = items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get()
        assert item.title == "Solutions Partner for Modern Work lapses on 15 Oct 2026"
        assert (item.status, item.severity) == (ActionItemStatus.OPEN, Severity.HIGH)

    lapse_day = D + timedelta(days=30)
    assert designations_sync(day=lapse_day).lapsed == 1
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.lapsed_on) == (EnrollmentStatus.LAPSED, lapse_day)
    lapsed = items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get()
    assert (lapsed.title, lapsed.status, lapsed.severity) == (
        "Solutions Partner for Modern Work lapsed on 15 Oct 2026",
        ActionItemStatus.OPEN,
        Severity.MEDIUM,
    )
    assert not BenefitPackage.objects.filter(organization=org_a).exists()

    back = date(2026, 11, 2)
    snap(org_a, MW, back, qualified=True, track="smb")
    assert designations_sync(day=back).eligible == 1
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.last_qualified_on) == (EnrollmentStatus.ELIGIBLE, back)
    assert items(org_a, ActionItemCode.DESIGNATION_ATTAINED).get().status == ActionItemStatus.OPEN
    assert items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get().status == ActionItemStatus.RESOLVED


def test_qualifying_during_the_grace_period_renews(org_a):
    enrollment = enrolled(org_a, renews_on=D, last_qualified_on=date(2026, 3, 31))
    snap(org_a, MW, D, qualified=False, track="enterprise")
    designations_sync(day=D)
    day = D + timedelta(days=10)
    snap(org_a, MW, day, qualified=True, track="enterprise")
    assert designations_sync(day=day).renewed == 1
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.renews_on, enrollment.last_qualified_on) == (
        EnrollmentStatus.ENROLLED,
        date(2027, 9, 15),
        day,
    )
    assert items(org_a, ActionItemCode.DESIGNATION_AT_RISK).get().status == ActionItemStatus.RESOLVED


def test_an_eligible_offer_ends_when_its_qualifying_day_leaves_the_window(org_a):
    snap(org_a, DAI, date(2026, 3, 31), qualified=True)
    designations_sync(day=date(2026, 3, 31))
    assert DesignationEnrollment.objects.get(organization=org_a).status == EnrollmentStatus.ELIGIBLE

    assert designations_sync(day=date(2026, 8, 31)).expired == 0  # window from 1 Mar 2026
    assert designations_sync(day=date(2026, 9, 1)).expired == 1  # window from 1 Apr 2026
    assert not DesignationEnrollment.objects.filter(organization=org_a).exists()
    assert items(org_a, ActionItemCode.DESIGNATION_ATTAINED).get().status == ActionItemStatus.RESOLVED


def test_another_organizations_data_never_affects_a_score(org_a, org_b):
    # Beta: a qualifying Business Applications partner, with the same product ids, the same
    # customer names and one of the same certified people as Alpha.
    beta_location = PartnerLocationFactory(organization=org_b)
    for n in range(20):
        customer = CustomerFactory(organization=org_b, name=f"Shared {n}", employee_count=50)
        TransactionFactory(
            organization=org_b,
            location=beta_location,
            customer=customer,
            solution_area=BA,
            transaction_date=date(2026, 8, 5),
            product_id=f"BA-P{n}",
            transaction_amount_usd=5000,
        )
    for n in range(12):
        certify(org_b, "PL-200", "shared@partner.example" if n == 0 else f"beta{n}@partner.example")
    for n in range(4):
        certify(org_b, "PL-600", f"beta-expert{n}@partner.example")
    certify(org_b, "MCT", "trainer@partner.example")
    TrainingDeliveryFactory(organization=org_b, delivered_on=date(2026, 6, 1))

    alpha = CustomerFactory(organization=org_a, name="Shared 0", employee_count=None)
    TransactionFactory(
        organization=org_a,
        location=PartnerLocationFactory(organization=org_a),
        customer=alpha,
        solution_area=BA,
        transaction_date=date(2026, 8, 5),
        product_id="BA-P0",
        transaction_amount_usd=2000,
    )
    certify(org_a, "PL-200", "shared@partner.example")

    recalculate_capability_scores(day=D)

    alpha_ba = ScoreSnapshot.objects.get(organization=org_a, designation=BA, track="smb", taken_on=D)
    # 1/10 customers → 1; 1/10 people → 2; no advanced; growth from nothing → 30; 1/10 deployments → 2.
    assert {code: values["points"] for code, values in alpha_ba.metrics.items()} == {
        "nca": 1,
        "int_cert": 2,
        "adv_cert": 0,
        "usage_growth": 30,
        "deployments": 2,
    }
    assert (alpha_ba.total, alpha_ba.qualified) == (35, False)
    alpha_training = ScoreSnapshot.objects.get(organization=org_a, designation=TRAINING, taken_on=D)
    assert alpha_training.total == 0
    beta_ba = ScoreSnapshot.objects.get(organization=org_b, designation=BA, track="smb", taken_on=D)
    assert (beta_ba.total, beta_ba.qualified) == (100, True)

    assert not DesignationEnrollment.objects.filter(organization=org_a).exists()
    assert not ActionItem.objects.filter(organization=org_a).exists()
    assert DesignationEnrollment.objects.get(organization=org_b).designation == BA
    assert items(org_b, ActionItemCode.DESIGNATION_ATTAINED).count() == 1


def test_a_scoped_sync_leaves_other_organizations_alone(org_a, org_b):
    snap(org_a, DAI, D, qualified=True)
    snap(org_b, DAI, D, qualified=True)
    designations_sync(day=D, organization_ids=[org_a.pk])
    assert DesignationEnrollment.objects.filter(organization=org_a).exists()
    assert not DesignationEnrollment.objects.filter(organization=org_b).exists()
