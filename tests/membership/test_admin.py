"""The vendor's Membership admin: pages load behind the second factor, the scoring rules refuse
weights that do not add up to 100, service-written rows are read-only, ISV Success applications
are reviewed through the service, and data files are imported all or nothing."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from membership.choices import Designation, IsvStatus, Metric, PackageSource, Track
from membership.imports import IMPORTERS
from membership.models import (
    BenefitPackage,
    BenefitTemplate,
    Certification,
    MarketplaceLicense,
    MarketplaceRewardTier,
    Membership,
    PersonCertification,
    ScoreMetricDefinition,
    ScoreRuleSet,
)
from portal.models import JobRun
from tests.factories import (
    BenefitConsumptionFactory,
    BenefitFactory,
    DesignationEnrollmentFactory,
    IsvSuccessApplicationFactory,
    MarketplaceBilledSaleFactory,
    MarketplaceLicenseFactory,
    MembershipFactory,
    OrganizationFactory,
    PartnerLocationFactory,
    PersonCertificationFactory,
    RewardsYearFactory,
    ScoreSnapshotFactory,
    SurfaceAssessmentFactory,
    TrainingDeliveryFactory,
    UserFactory,
    VmImageUsageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="program@vendor.example")


@pytest.fixture
def client(staff, verified_client):
    return verified_client(staff)


def url(name: str, *args) -> str:
    return reverse(f"admin:membership_{name}", args=args)


def test_the_admin_needs_a_second_factor(staff):
    plain = Client()
    plain.force_login(staff)
    assert plain.get(url("scoreruleset_changelist")).status_code == 302


def test_every_membership_admin_page_loads(client, org_a):
    benefit = BenefitFactory(organization=org_a)
    snapshot = ScoreSnapshotFactory(
        organization=org_a,
        metrics={"nca": {"achieved": "3", "threshold": "5", "weight": 20, "points": 12, "unit": "customers"}},
    )
    objects = {
        "scoreruleset": ScoreRuleSet.objects.get(fiscal_year="FY27"),
        "certification": Certification.objects.get(code="MS-700"),
        "benefittemplate": BenefitTemplate.objects.order_by("pk").first(),
        "marketplacerewardtier": MarketplaceRewardTier.objects.get(tier=2),
        "membership": MembershipFactory(organization=org_a),
        "designationenrollment": DesignationEnrollmentFactory(organization=org_a),
        "scoresnapshot": snapshot,
        "isvsuccessapplication": IsvSuccessApplicationFactory(organization=org_a),
        "benefitpackage": benefit.package,
        "benefit": benefit,
        "benefitconsumption": BenefitConsumptionFactory(organization=org_a, benefit=benefit),
        "rewardsyear": RewardsYearFactory(organization=org_a),
        "trainingdelivery": TrainingDeliveryFactory(organization=org_a),
        "personcertification": PersonCertificationFactory(organization=org_a),
        "marketplacebilledsale": MarketplaceBilledSaleFactory(organization=org_a),
        "marketplacelicense": MarketplaceLicenseFactory(organization=org_a),
        "vmimageusage": VmImageUsageFactory(organization=org_a),
        "surfaceassessment": SurfaceAssessmentFactory(organization=org_a),
    }
    for name, obj in objects.items():
        assert client.get(url(f"{name}_changelist"), {"q": "x"}).status_code == 200, name
        assert client.get(url(f"{name}_change", obj.pk)).status_code == 200, name
    for name in ("marketplacelicense", "vmimageusage", "surfaceassessment", "personcertification"):
        page = client.get(url(f"{name}_import"))
        assert page.status_code == 200 and "Check and import" in page.text, name
    sales = client.get(url("marketplacebilledsale_import")).text
    assert "Month, Offer ID, Offer name, Amount (USD)" in sales
    snapshot_page = client.get(url("scoresnapshot_change", snapshot.pk)).text
    assert 'id="score-metrics"' in snapshot_page and "customers" in snapshot_page
    rule_set_page = client.get(url("scoreruleset_change", objects["scoreruleset"].pk)).text
    assert rule_set_page.count('name="metrics-') > 40  # every metric definition is an inline row


# --- Scoring rules ----------------------------------------------------------------------------------


def rule_set_form(rule_set: ScoreRuleSet, **weights: int) -> dict:
    """The change form as posted, with the weights of (designation|track|metric) overridden."""
    definitions = list(ScoreMetricDefinition.objects.filter(rule_set=rule_set).order_by("pk"))
    data = {
        "fiscal_year": rule_set.fiscal_year,
        "effective_from": rule_set.effective_from.isoformat(),
        "metrics-TOTAL_FORMS": str(len(definitions)),
        "metrics-INITIAL_FORMS": str(len(definitions)),
        "metrics-MIN_NUM_FORMS": "0",
        "metrics-MAX_NUM_FORMS": "1000",
    }
    for index, d in enumerate(definitions):
        weight = weights.get(f"{d.designation}|{d.track}|{d.metric}", d.weight)
        data.update(
            {
                f"metrics-{index}-id": str(d.pk),
                f"metrics-{index}-rule_set": str(rule_set.pk),
                f"metrics-{index}-designation": d.designation,
                f"metrics-{index}-track": d.track,
                f"metrics-{index}-metric": d.metric,
                f"metrics-{index}-weight": str(weight),
                f"metrics-{index}-threshold": str(d.threshold),
                f"metrics-{index}-unit": d.unit,
            }
        )
    return data


def weight_of(rule_set, designation, track, metric) -> int:
    return ScoreMetricDefinition.objects.get(
        rule_set=rule_set, designation=designation, track=track, metric=metric
    ).weight


def test_weights_that_do_not_add_up_to_100_are_refused_per_designation_and_track(client):
    rule_set = ScoreRuleSet.objects.get(fiscal_year="FY27")
    change = url("scoreruleset_change", rule_set.pk)
    mw = f"{Designation.MODERN_WORK}|{Track.SMB}"

    refused = client.post(change, rule_set_form(rule_set, **{f"{mw}|{Metric.NCA}": 15}))

    assert refused.status_code == 200
    assert "Solutions Partner for Modern Work, track SMB: the weights add up to 95, not 100." in refused.text
    assert "Enterprise: the weights add up" not in refused.text
    assert weight_of(rule_set, Designation.MODERN_WORK, Track.SMB, Metric.NCA) == 20

    moved = rule_set_form(rule_set, **{f"{mw}|{Metric.NCA}": 15, f"{mw}|{Metric.INT_CERT}": 15})
    saved = client.post(change, moved)

    assert saved.status_code == 302
    assert weight_of(rule_set, Designation.MODERN_WORK, Track.SMB, Metric.NCA) == 15
    assert weight_of(rule_set, Designation.MODERN_WORK, Track.SMB, Metric.INT_CERT) == 15


def test_a_rule_set_starts_on_1_july_of_its_fiscal_year(client):
    response = client.post(
        url("scoreruleset_add"),
        {
            "fiscal_year": "FY28",
            "effective_from": "2027-06-01",
            "metrics-TOTAL_FORMS": "0",
            "metrics-INITIAL_FORMS": "0",
            "metrics-MIN_NUM_FORMS": "0",
            "metrics-MAX_NUM_FORMS": "1000",
        },
    )

    assert "FY28 starts on 2027-07-01 (1 July), not 2027-06-01." in response.text
    assert (
        "is not a fiscal year like FY27" in client.post(url("scoreruleset_add"), {"fiscal_year": "2028"}).text
    )
    assert not ScoreRuleSet.objects.filter(fiscal_year="FY28").exists()


def test_a_reward_tier_threshold_must_sit_between_its_neighbours(client):
    tier = MarketplaceRewardTier.objects.get(tier=2)
    response = client.post(
        url("marketplacerewardtier_change", tier.pk), {"tier": 2, "name": tier.name, "min_mbs_usd": "10"}
    )

    assert "Must be above" in response.text
    tier.refresh_from_db()
    assert tier.min_mbs_usd > 10


def test_a_membership_renews_after_it_starts(client, org_a):
    response = client.post(
        url("membership_add"),
        {
            "organization": org_a.pk,
            "status": "active",
            "member_since": "2026-03-01",
            "anniversary_date": "2026-03-01",
        },
    )

    assert "The renewal date must be after the member-since date." in response.text
    assert not Membership.objects.exists()


# --- Read-only rows and filters ---------------------------------------------------------------------


def test_service_written_rows_are_read_only(client, org_a):
    snapshot = ScoreSnapshotFactory(organization=org_a, total=40)
    enrollment = DesignationEnrollmentFactory(organization=org_a)

    assert client.get(url("scoresnapshot_add")).status_code == 403
    assert client.get(url("designationenrollment_add")).status_code == 403
    assert client.get(url("benefitpackage_add")).status_code == 403
    client.post(url("scoresnapshot_change", snapshot.pk), {"total": 99})
    client.post(url("designationenrollment_change", enrollment.pk), {"status": "lapsed"})

    snapshot.refresh_from_db()
    enrollment.refresh_from_db()
    assert (snapshot.total, enrollment.status) == (40, "enrolled")


def test_score_snapshots_filter_by_designation_track_and_day(client):
    wanted = OrganizationFactory(legal_name="Wanted Partner")
    other_day = OrganizationFactory(legal_name="Other Day Partner")
    other_track = OrganizationFactory(legal_name="Other Track Partner")
    day = date(2026, 9, 14)
    ScoreSnapshotFactory(organization=wanted, taken_on=day, designation=Designation.SECURITY, track=Track.SMB)
    ScoreSnapshotFactory(organization=other_day, taken_on=date(2026, 9, 15), designation=Designation.SECURITY)
    ScoreSnapshotFactory(organization=other_track, taken_on=day, designation=Designation.SECURITY)

    page = client.get(
        url("scoresnapshot_changelist"),
        {
            "designation__exact": Designation.SECURITY,
            "track__exact": Track.SMB,
            "taken_on__year": "2026",
            "taken_on__month": "9",
            "taken_on__day": "14",
        },
    ).text

    assert "Wanted Partner" in page
    assert "Other Day Partner" not in page and "Other Track Partner" not in page


# --- ISV Success review -------------------------------------------------------------------------------


def review(client, action: str, application, **data):
    return client.post(
        url("isvsuccessapplication_changelist"),
        {"action": action, "_selected_action": [application.pk], **data},
        follow=True,
    )


def test_an_application_is_reviewed_and_rejected_with_a_note(client, org_a, staff):
    application = IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.SUBMITTED)

    review(client, "start_review", application)

    application.refresh_from_db()
    assert (application.status, application.reviewed_by) == (IsvStatus.IN_REVIEW, staff)

    asked = review(client, "reject", application)
    assert "Reject ISV Success applications" in asked.text
    no_note = review(client, "reject", application, apply="1", note="")
    assert "This field is required." in no_note.text
    application.refresh_from_db()
    assert application.status == IsvStatus.IN_REVIEW

    review(client, "reject", application, apply="1", note="The app is not built on the Microsoft cloud.")

    application.refresh_from_db()
    assert (application.status, application.review_note) == (
        IsvStatus.REJECTED,
        "The app is not built on the Microsoft cloud.",
    )
    history = client.get(url("isvsuccessapplication_change", application.pk)).text
    assert 'id="isv-history"' in history and "The app is not built on the Microsoft cloud." in history


def test_approval_grants_the_package_and_an_illegal_move_is_shown(client, org_a, org_b):
    submitted = IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.SUBMITTED)
    draft = IsvSuccessApplicationFactory(organization=org_b, status=IsvStatus.DRAFT)

    done = review(client, "approve", submitted, apply="1", note="Welcome to ISV Success.")

    submitted.refresh_from_db()
    assert submitted.status == IsvStatus.APPROVED
    assert "Approve ISV Success applications: 1 done." in done.text
    assert BenefitPackage.objects.filter(
        organization=org_a, code="isv_success", source=PackageSource.ISV_SUCCESS
    ).exists()

    refused = review(client, "approve", draft, apply="1", note="")

    assert "cannot become approved" in refused.text
    draft.refresh_from_db()
    assert draft.status == IsvStatus.DRAFT
    assert not BenefitPackage.objects.filter(organization=org_b).exists()


# --- Imports --------------------------------------------------------------------------------------------


def csv_upload(rows: list[list[str]], name: str = "certifications.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode())


CERT_HEADER = ["Learner name", "Email", "Certification code", "Earned on", "Expires on"]


def test_the_import_page_lists_a_bad_files_rows_then_imports_a_good_file(
    client, org_a, staff, django_capture_on_commit_callbacks
):
    PartnerLocationFactory(organization=org_a, partner_id="7300003")
    page = url("personcertification_import")
    assert page in client.get(url("personcertification_changelist")).text

    with django_capture_on_commit_callbacks(execute=True):
        bad = client.post(
            page,
            {
                "organization": org_a.pk,
                "file": csv_upload(
                    [
                        CERT_HEADER,
                        ["Grace Hopper", "grace@partner.example", "MS-700", "2025-09-01", ""],
                        ["Linus T", "linus@partner.example", "NOPE-1", "2025-13-01", ""],
                    ]
                ),
            },
        )

    job = JobRun.objects.get()
    assert (job.kind, job.organization, job.created_by) == (
        "import:membership.person_certifications",
        org_a,
        staff,
    )
    assert bad.status_code == 302 and bad["Location"] == url("personcertification_import_job", job.pk)
    shown = client.get(bad["Location"])
    assert 'id="row-errors"' in shown.text and "nothing was imported" in shown.text
    assert "<code>NOPE-1</code>" in shown.text and "is not a certification code" in shown.text
    assert (
        "<code>2025-13-01</code>" in shown.text and "is not a date (YYYY-MM-DD or MM/DD/YYYY)" in shown.text
    )
    assert not PersonCertification.objects.exists()
    result = client.get(url("personcertification_import_result", job.pk))
    assert result.status_code == 200 and result["Content-Disposition"].startswith("attachment")
    assert b"NOPE-1" in b"".join(result.streaming_content)

    good_file = [
        CERT_HEADER,
        ["Grace Hopper", "grace@partner.example", "MS-700", "2025-09-01", ""],
        ["Linus T", "linus@partner.example", "MS-700", "2025-10-01", "2027-10-01"],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(page, {"organization": org_a.pk, "file": csv_upload(good_file)})

    job = JobRun.objects.latest("pk")
    assert started["Location"] == url("personcertification_import_job", job.pk)
    good = client.get(started["Location"])
    assert f"Import job #{job.pk}: certifications.csv is being imported." in good.text
    assert 'id="import-counts"' in good.text and "<th>Created</th><td>2</td>" in good.text
    assert f"?organization__id__exact={org_a.pk}" in good.text
    assert PersonCertification.objects.filter(organization=org_a).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(page, {"organization": org_a.pk, "file": csv_upload(good_file)})

    again = client.get(started["Location"])
    assert "<th>Created</th><td>0</td>" in again.text and "<th>Unchanged</th><td>2</td>" in again.text


def test_the_import_page_shows_a_file_that_cannot_be_imported_at_once(client, org_a):
    refused = client.post(
        url("personcertification_import"),
        {"organization": org_a.pk, "file": csv_upload([["Learner name", "Email"], ["A", "a@b.example"]])},
    )

    assert refused.status_code == 200 and 'id="upload-rejected"' in refused.text
    assert "required column is missing" in refused.text and "Certification code" in refused.text
    assert not JobRun.objects.exists()


def test_valid_rows_only_from_the_import_page(client, org_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            url("personcertification_import"),
            {
                "organization": org_a.pk,
                "valid_rows_only": "on",
                "file": csv_upload(
                    [
                        CERT_HEADER,
                        ["Grace Hopper", "grace@partner.example", "MS-700", "2025-09-01", ""],
                        ["Linus T", "linus@partner.example", "NOPE-1", "2025-10-01", ""],
                    ]
                ),
            },
        )

    response = client.get(started["Location"])
    assert "<th>Created</th><td>1</td>" in response.text and "<th>Rejected</th><td>1</td>" in response.text
    assert "<code>NOPE-1</code>" in response.text
    assert list(PersonCertification.objects.values_list("email", flat=True)) == ["grace@partner.example"]


def test_the_license_import_page_accepts_the_report_columns(
    client, org_a, django_capture_on_commit_callbacks
):
    header = [column.name for column in IMPORTERS["license_report"].layout.columns]
    row = [
        "2026-10-14",
        "Contoso Insights",
        "contoso-insights",
        "Standard",
        "standard",
        "Fabrikam Ltd",
        "6f1c1d9e-4b0a-4c55-9a51-2b7f0c3e8a01",
        "GB",
        "50",
        "38",
        "Active",
        "0b7e4c1a-2f3d-4e5f-8a9b-1c2d3e4f5a6b",
        "2026-07-01",
        "2027-06-30",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("marketplacelicense_import"), {"organization": org_a.pk, "file": csv_upload([header, row])}
        )

    assert MarketplaceLicense.objects.get().organization == org_a


def test_an_import_job_page_shows_only_its_own_kind_of_job(client, org_a):
    other = JobRun.objects.create(kind="import:accounts.customers", organization=org_a)

    assert client.get(url("personcertification_import_job", other.pk)).status_code == 404
    assert client.get(url("personcertification_import_result", other.pk)).status_code == 404


def test_importing_needs_the_add_permission(org_a, verified_client):
    viewer = UserFactory(organization=None, is_staff=True, email="viewer@vendor.example")
    viewer.user_permissions.add(Permission.objects.get(codename="view_personcertification"))
    client = verified_client(viewer)

    assert client.get(url("personcertification_changelist")).status_code == 200
    assert url("personcertification_import") not in client.get(url("personcertification_changelist")).text
    refused = client.post(
        url("personcertification_import"),
        {
            "organization": org_a.pk,
            "file": csv_upload([CERT_HEADER, ["A", "a@b.example", "MS-700", "2025-09-01", ""]]),
        },
    )
    assert refused.status_code == 403
    assert not PersonCertification.objects.exists()
    job = JobRun.objects.create(kind="import:membership.person_certifications", organization=org_a)
    assert client.get(url("personcertification_import_job", job.pk)).status_code == 403
