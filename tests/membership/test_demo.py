"""The membership demo: made through the services over the other demos' data, scored for every
designation with a history, and a second seed that adds nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.demo import ORGANIZATIONS, seed_demo_data
from accounts.models import ActionItem, Customer, Organization
from commerce.demo import commerce_demo_seed
from earnings.demo import earnings_demo_seed
from membership.choices import (
    QUALIFYING_POINTS,
    ActivationStatus,
    AssessmentStatus,
    CertificationLevel,
    Designation,
    EnrollmentStatus,
    IsvStatus,
    LicenseStatus,
    Metric,
    PackageSource,
)
from membership.demo import CONTOSO, FABRIKAM, NORTHWIND, membership_demo_loaded, membership_demo_seed
from membership.models import (
    Benefit,
    BenefitConsumption,
    BenefitPackage,
    DesignationEnrollment,
    IsvSuccessApplication,
    MarketplaceBilledSale,
    MarketplaceLicense,
    Membership,
    PersonCertification,
    RewardsYear,
    ScoreSnapshot,
    SurfaceAssessment,
    TrainingDelivery,
    VmImageUsage,
)
from membership.selectors.rewards import rewards_status
from membership.selectors.scores import designation_score, designation_scores, score_history
from portal.models import AuditEvent
from security.demo import security_demo_seed

pytestmark = pytest.mark.django_db

MODELS = (
    Membership,
    PersonCertification,
    TrainingDelivery,
    MarketplaceBilledSale,
    RewardsYear,
    MarketplaceLicense,
    VmImageUsage,
    SurfaceAssessment,
    BenefitPackage,
    Benefit,
    BenefitConsumption,
    IsvSuccessApplication,
    ScoreSnapshot,
    DesignationEnrollment,
    ActionItem,
    AuditEvent,
)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demos the membership demo builds on, then it; seeded once for the module (the demos
    take a minute) inside a transaction rolled back at the end, each test in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo_data(seed=7)
        commerce_demo_seed(seed=7)
        earnings_demo_seed(seed=7)
        security_demo_seed(seed=7)
        assert not membership_demo_loaded()
        yield membership_demo_seed(seed=7)
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def organization(partner_global_id: str) -> Organization:
    return Organization.objects.get(partner_global_id=partner_global_id)


def test_a_second_seed_adds_nothing_and_seed_demo_runs_it(seeded):
    assert membership_demo_loaded()
    before = counts()
    scores = sorted(
        ScoreSnapshot.objects.values_list("organization_id", "designation", "track", "taken_on", "total")
    )
    again = membership_demo_seed(seed=7)
    assert counts() == before
    assert again.created_certifications == 0 and again.activated_benefits == 0
    assert again.certifications == seeded.certifications and again.qualified == seeded.qualified
    assert (
        sorted(
            ScoreSnapshot.objects.values_list("organization_id", "designation", "track", "taken_on", "total")
        )
        == scores
    )
    assert not Customer.objects.filter(employee_count__isnull=True).exists()

    out = StringIO()
    call_command("seed_demo", "--if-empty", "--quiet", stdout=out)
    assert "Membership demo ready" not in out.getvalue()
    out = StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    assert "Membership demo ready" in out.getvalue()
    after = counts()
    stable = (
        "Membership",
        "PersonCertification",
        "MarketplaceBilledSale",
        "RewardsYear",
        "IsvSuccessApplication",
    )
    assert {name: after[name] for name in stable} == {name: before[name] for name in stable}


def test_every_organization_is_scored_on_all_designations_with_a_history(seeded):
    today = timezone.localdate()
    for demo in ORGANIZATIONS:
        partner = organization(demo.partner_global_id)
        assert Membership.objects.get(organization=partner).anniversary_date >= today
        scores = designation_scores(partner)
        assert {score.designation for score in scores} == set(Designation.values)
        assert all(score.taken_on == today for score in scores)
        days = set(ScoreSnapshot.objects.filter(organization=partner).values_list("taken_on", flat=True))
        assert len(days) == 9 and min(days) == today - timedelta(weeks=8)
    assert seeded.score_snapshots == ScoreSnapshot.objects.count()
    assert seeded.qualified >= 1


def test_fabrikam_qualifies_for_one_designation_and_is_close_to_another(seeded):
    fabrikam = organization(FABRIKAM)
    modern_work = designation_score(fabrikam, Designation.MODERN_WORK)
    assert modern_work.qualified and modern_work.total >= QUALIFYING_POINTS
    enrollment = DesignationEnrollment.objects.get(organization=fabrikam, designation=Designation.MODERN_WORK)
    assert enrollment.status == EnrollmentStatus.ENROLLED

    infrastructure = designation_score(fabrikam, Designation.AZURE_INFRA)
    assert QUALIFYING_POINTS - 10 <= infrastructure.total < QUALIFYING_POINTS
    assert not infrastructure.qualified
    assert [metric.metric for metric in infrastructure.blocking_metrics] == [Metric.ADV_CERT]
    history = score_history(
        fabrikam, Designation.AZURE_INFRA, since=timezone.localdate() - timedelta(weeks=8)
    )
    assert len(history) == 9 and history[0][1] < history[-1][1]  # a certification earned in the weeks

    # The designation package as in spec §5: 19 of 25 E5 seats used, USD 2,950 of 4,000 credits.
    package = BenefitPackage.objects.get(organization=fabrikam, source=PackageSource.DESIGNATION)
    used = {
        benefit.product: benefit.consumptions.get().consumed_quantity
        for benefit in package.benefits.filter(activation_status=ActivationStatus.ACTIVATED)
    }
    assert used == {"Microsoft 365 E5 (internal use)": 19, "Azure credits": 2950}
    core = BenefitPackage.objects.get(organization=fabrikam, code="partner_success_core")
    assert core.source == PackageSource.PURCHASE and core.start <= timezone.localdate() <= core.end
    assert core.benefits.filter(activation_status=ActivationStatus.NOT_ACTIVATED).exists()


def test_training_services_rewards_isv_and_insights(seeded):
    contoso, northwind = organization(CONTOSO), organization(NORTHWIND)
    training = designation_score(contoso, Designation.TRAINING_SERVICES)
    assert training.qualified
    assert (
        PersonCertification.objects.filter(
            organization=contoso, certification__level=CertificationLevel.TRAINER
        ).count()
        == 2
    )
    assert TrainingDelivery.objects.filter(organization=contoso).count() >= 12
    assert PersonCertification.objects.filter(expires_on__lt=timezone.localdate()).exists()
    assert PersonCertification.objects.filter(organization=contoso).values("location").distinct().count() == 2
    # Every other track has customers of both sizes.
    assert Customer.objects.filter(organization=northwind, employee_count__gte=301).exists()
    assert Customer.objects.filter(organization=northwind, employee_count__lt=301).exists()

    status = rewards_status(northwind)
    assert status.tier is not None and status.tier.tier == 2
    assert status.next_tier.tier == 3 and 0 < status.progress_percent < 100
    assert RewardsYear.objects.filter(organization=northwind).count() == 2
    assert (
        MarketplaceBilledSale.objects.filter(organization=northwind).values("billed_on").distinct().count()
        == 24
    )

    assert IsvSuccessApplication.objects.get(organization=northwind).status == IsvStatus.SUBMITTED
    assert IsvSuccessApplication.objects.get(organization=contoso).status == IsvStatus.DRAFT

    licenses = MarketplaceLicense.objects.filter(organization=northwind)
    assert licenses.values("plan_id").distinct().count() >= 3
    assert licenses.values("country").distinct().count() >= 2
    assert {LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED} <= set(
        licenses.values_list("license_status", flat=True)
    )
    images = VmImageUsage.objects.filter(organization=northwind)
    assert set(images.filter(is_latest_version=True).values_list("image_version", flat=True)) == {"2.0.1"}
    assert images.values("image_version").distinct().count() == 3

    this_month = timezone.localdate().replace(day=1)
    surface = SurfaceAssessment.objects.filter(organization=organization(FABRIKAM))
    assert surface.filter(completed_on__gte=this_month).exists()
    assert surface.filter(completed_on__lt=this_month).exists()
    assert {AssessmentStatus.PASSED, AssessmentStatus.FAILED} == set(surface.values_list("status", flat=True))
    assert surface.values("location").distinct().count() == 2
