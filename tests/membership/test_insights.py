"""Membership insights (spec/membership.md §6): the Marketplace license and VM image version reports,
Surface insights and skilling insights — services, pages, downloads, capability checks, location
scoping, tenant isolation and the errors bad filter values give."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import RoleAssignment
from membership.choices import AssessmentStatus, CertificationLevel, Designation, LicenseStatus, OsType
from membership.models import Certification
from membership.selectors import insights
from portal.roles import Role
from tests.factories import (
    MarketplaceLicenseFactory,
    PartnerLocationFactory,
    PersonCertificationFactory,
    SurfaceAssessmentFactory,
    UserFactory,
    VmImageUsageFactory,
)

pytestmark = pytest.mark.django_db

LICENSE_HEADER = [
    "Date",
    "Offer name",
    "Offer ID",
    "Plan name",
    "Plan ID",
    "Customer name",
    "Customer tenant ID",
    "Country/region",
    "Licenses purchased",
    "Licenses assigned",
    "License status",
    "Subscription ID",
    "Term start",
    "Term end",
]
VM_HEADER = [
    "Month",
    "Offer name",
    "Plan (SKU)",
    "Image version",
    "OS type",
    "Customer count",
    "Deployments",
    "Active VMs",
    "Normalized usage hours",
    "Raw usage hours",
    "Country/region",
    "Is latest version",
]
SURFACE_HEADER = [
    "Learner name",
    "Email",
    "Partner location (PartnerID)",
    "Country",
    "Assessment name",
    "Completion date",
    "Score",
    "Status",
]
PAGES = ["license-report", "vm-image-report", "surface-insights", "skilling-insights"]
DOWNLOADS = [f"{name}-download" for name in PAGES]


@pytest.fixture
def pia(org_a):
    """An AI Cloud Partner Program partner admin: sees every location's insights."""
    return UserFactory(organization=org_a, email="pia@alpha.example", roles=[Role.PARTNER_ADMIN])


@pytest.fixture
def pia_client(pia, verified_client):
    return verified_client(pia)


@pytest.fixture
def locations(org_a):
    return (
        PartnerLocationFactory(organization=org_a, country="US", is_headquarters=True),
        PartnerLocationFactory(organization=org_a, country="DE"),
    )


@pytest.fixture
def scoped(org_a, locations):
    """An Executive report viewer limited to the German location."""
    user = UserFactory(organization=org_a, email="erv@alpha.example")
    RoleAssignment.objects.create(
        organization=org_a, user=user, role=Role.EXECUTIVE_REPORT_VIEWER, location=locations[1]
    )
    return user


def csv_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def this_month() -> date:
    return timezone.localdate().replace(day=1)


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_with_the_membership_nav_for_a_partner_admin(name, pia_client):
    response = pia_client.get(reverse(f"membership:{name}"))
    assert response.status_code == 200, response.content[:500]
    assert b'aria-label="Membership pages"' in response.content


@pytest.mark.parametrize("name", PAGES + DOWNLOADS)
def test_people_without_insights_view_get_403(name, bob, verified_client):
    assert verified_client(bob).get(reverse(f"membership:{name}")).status_code == 403


@pytest.mark.parametrize("name", PAGES + DOWNLOADS)
def test_anonymous_visitors_are_sent_to_sign_in(name, client):
    response = client.get(reverse(f"membership:{name}"))
    assert response.status_code == 302


# --- Marketplace license report -------------------------------------------------------------------


def test_license_rows_filter_by_date_offer_plan_customer_country_and_status(pia, org_a):
    today = timezone.localdate()
    keep = MarketplaceLicenseFactory(
        organization=org_a, date=today - timedelta(days=3), customer_name="Contoso", country="US"
    )
    MarketplaceLicenseFactory(organization=org_a, date=today - timedelta(days=40), customer_name="Contoso")
    MarketplaceLicenseFactory(organization=org_a, date=today - timedelta(days=3), customer_name="Fabrikam")
    MarketplaceLicenseFactory(
        organization=org_a, date=today - timedelta(days=3), customer_name="Contoso Two", country="DE"
    )
    MarketplaceLicenseFactory(
        organization=org_a, date=today - timedelta(days=2), customer_name="Contoso", plan_id="pro"
    )
    MarketplaceLicenseFactory(
        organization=org_a,
        date=today - timedelta(days=2),
        customer_name="Contoso",
        license_status=LicenseStatus.CANCELLED,
    )
    params = {
        "dateFrom": (today - timedelta(days=10)).isoformat(),
        "dateTo": today.isoformat(),
        "offerId": "contoso-insights",
        "planId": "standard",
        "customer": "contoso",
        "country": "us",
        "licenseStatus": "Active",
    }
    assert list(insights.license_rows(pia, params)) == [keep]
    by_tenant = {"customer": str(keep.customer_tenant_id)}
    assert list(insights.license_rows(pia, by_tenant)) == [keep]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dateFrom": "2026-13-01"}, "dateFrom"),
        ({"dateFrom": "2026-05-10", "dateTo": "2026-05-01"}, "dateTo"),
        ({"country": "USA"}, "country"),
        ({"licenseStatus": "Lost"}, "licenseStatus"),
        ({"offerId": "not-an-offer-of-ours"}, "offerId"),
    ],
)
def test_invalid_license_filters_raise_a_field_keyed_error(pia, org_a, params, field):
    MarketplaceLicenseFactory(organization=org_a)
    with pytest.raises(ValidationError) as caught:
        insights.license_rows(pia, params)
    assert field in caught.value.message_dict


def test_license_summary_counts_purchased_vs_assigned_by_country(pia, org_a):
    MarketplaceLicenseFactory(organization=org_a, country="US", licenses_purchased=50, licenses_assigned=40)
    MarketplaceLicenseFactory(organization=org_a, country="US", licenses_purchased=10, licenses_assigned=10)
    MarketplaceLicenseFactory(organization=org_a, country="FR", licenses_purchased=20, licenses_assigned=5)
    summary = insights.license_summary(insights.license_rows(pia, {}))
    assert (summary.rows, summary.customers, summary.purchased, summary.assigned) == (3, 3, 80, 55)
    assert summary.assigned_percent == Decimal("68.8")
    assert summary.unassigned == 25
    assert [(c.country, c.customers, c.purchased, c.assigned) for c in summary.by_country] == [
        ("US", 2, 60, 50),
        ("FR", 1, 20, 5),
    ]


def test_license_page_shows_the_filtered_rows_and_totals(pia_client, org_a, org_b):
    MarketplaceLicenseFactory(organization=org_a, customer_name="Contoso", licenses_purchased=30)
    MarketplaceLicenseFactory(organization=org_a, customer_name="Fabrikam")
    MarketplaceLicenseFactory(organization=org_b, customer_name="Contoso Beta Secret")
    response = pia_client.get(reverse("membership:license-report"), {"customer": "contoso"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Contoso" in body and "Fabrikam" not in body
    assert "Contoso Beta Secret" not in body
    assert [row.customer_name for row in response.context["page"].rows] == ["Contoso"]
    assert response.context["summary"].purchased == 30
    assert 'aria-label="Marketplace insights reports"' in body
    assert "?customer=contoso" in body  # the download keeps the filters


def test_license_page_pages_with_a_cursor(pia_client, org_a):
    today = timezone.localdate()
    for n in range(55):
        MarketplaceLicenseFactory(organization=org_a, date=today - timedelta(days=n))
    first = pia_client.get(reverse("membership:license-report")).context["page"]
    assert len(first.rows) == 50 and first.next_cursor
    second = pia_client.get(reverse("membership:license-report"), {"after": first.next_cursor})
    rows = second.context["page"].rows
    assert len(rows) == 5 and not {r.pk for r in rows} & {r.pk for r in first.rows}


def test_license_page_shows_a_clear_error_for_bad_filters(pia_client, org_a):
    MarketplaceLicenseFactory(organization=org_a)
    response = pia_client.get(
        reverse("membership:license-report"), {"dateFrom": "yesterday", "licenseStatus": "Lost"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="filter-errors"' in body
    assert "From: Enter a valid date." in body
    assert "License status: Select a valid choice." in body
    assert "page" not in response.context


def test_license_download_has_the_report_columns_and_the_filtered_rows(pia_client, org_a, org_b):
    kept = MarketplaceLicenseFactory(
        organization=org_a,
        date=date(2026, 5, 4),
        customer_name="Contoso",
        country="US",
        licenses_purchased=25,
        licenses_assigned=20,
    )
    MarketplaceLicenseFactory(organization=org_a, customer_name="Fabrikam", country="DE")
    MarketplaceLicenseFactory(organization=org_b, customer_name="Contoso", country="US")
    rows = csv_of(pia_client.get(reverse("membership:license-report-download"), {"country": "US"}))
    assert rows[0] == LICENSE_HEADER
    assert rows[1:] == [
        [
            "2026-05-04",
            "Contoso Insights",
            "contoso-insights",
            "Standard",
            "standard",
            "Contoso",
            str(kept.customer_tenant_id),
            "US",
            "25",
            "20",
            "Active",
            str(kept.subscription_id),
            "2026-07-01",
            "2027-06-30",
        ]
    ]


def test_a_download_with_bad_filters_returns_to_the_report_with_the_error(pia_client):
    response = pia_client.get(reverse("membership:license-report-download"), {"country": "Germany"})
    assert response.status_code == 302
    assert response["Location"] == reverse("membership:license-report") + "?country=Germany"
    page = pia_client.get(response["Location"])
    assert page.status_code == 400
    assert "two-letter country/region code" in page.content.decode()


# --- VM image version report ----------------------------------------------------------------------


def test_vm_image_rows_filter_by_month_range_os_country_and_latest(pia, org_a):
    keep = VmImageUsageFactory(organization=org_a, month=date(2026, 9, 1), is_latest_version=True)
    VmImageUsageFactory(organization=org_a, month=date(2026, 9, 1), is_latest_version=False)
    VmImageUsageFactory(organization=org_a, month=date(2026, 6, 1), is_latest_version=True)
    VmImageUsageFactory(organization=org_a, month=date(2026, 9, 1), is_latest_version=True, country="DE")
    VmImageUsageFactory(
        organization=org_a, month=date(2026, 9, 1), is_latest_version=True, os_type=OsType.WINDOWS
    )
    params = {
        "monthFrom": "2026-08",
        "monthTo": "2026-10",
        "osType": "Linux",
        "country": "US",
        "latestOnly": "true",
        "offer": "Contoso Hardened Ubuntu",
        "plan": "ubuntu-24-04-hardened",
    }
    assert list(insights.vm_image_rows(pia, params)) == [keep]
    assert len(insights.vm_image_rows(pia, {**params, "latestOnly": ""})) == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"monthFrom": "2026-13"}, "monthFrom"),
        ({"monthFrom": "2026-10", "monthTo": "2026-08"}, "monthTo"),
        ({"osType": "BeOS"}, "osType"),
    ],
)
def test_invalid_vm_filters_raise(pia, params, field):
    with pytest.raises(ValidationError) as caught:
        insights.vm_image_rows(pia, params)
    assert field in caught.value.message_dict


def test_vm_summary_gives_the_share_of_active_vms_on_the_latest_version(pia, org_a):
    VmImageUsageFactory(organization=org_a, active_vms=30, deployments=5, is_latest_version=True)
    VmImageUsageFactory(organization=org_a, active_vms=90, deployments=7, is_latest_version=False)
    summary = insights.vm_image_summary(insights.vm_image_rows(pia, {}))
    assert (summary.rows, summary.deployments, summary.active_vms) == (2, 12, 120)
    assert summary.latest_percent == Decimal("25.0")


def test_vm_download_has_the_report_columns(pia_client, org_a, org_b):
    VmImageUsageFactory(organization=org_a, image_version="2.0.0", is_latest_version=True)
    VmImageUsageFactory(organization=org_b, image_version="9.9.9")
    rows = csv_of(pia_client.get(reverse("membership:vm-image-report-download")))
    assert rows[0] == VM_HEADER
    assert rows[1:] == [
        [
            "2026-10",
            "Contoso Hardened Ubuntu",
            "ubuntu-24-04-hardened",
            "2.0.0",
            "Linux",
            "14",
            "40",
            "122",
            "71200.00",
            "35600.00",
            "US",
            "true",
        ]
    ]


def test_vm_page_renders_rows_and_a_bad_month_error(pia_client, org_a):
    VmImageUsageFactory(organization=org_a, image_version="3.1.4")
    ok = pia_client.get(reverse("membership:vm-image-report"))
    assert "3.1.4" in ok.content.decode()
    bad = pia_client.get(reverse("membership:vm-image-report"), {"monthTo": "May 2026"})
    assert bad.status_code == 400
    assert "use YYYY-MM" in bad.content.decode()


# --- Surface insights -----------------------------------------------------------------------------


def test_surface_new_view_is_the_selected_month_and_historical_is_all_time(pia, org_a, locations):
    month = this_month()
    now = SurfaceAssessmentFactory(organization=org_a, location=locations[0], completed_on=month)
    earlier = SurfaceAssessmentFactory(
        organization=org_a, location=locations[1], completed_on=month - timedelta(days=40)
    )
    assert list(insights.surface_rows(pia, {})) == [now]
    assert list(insights.surface_rows(pia, {"view": "new"})) == [now]
    assert set(insights.surface_rows(pia, {"view": "historical"})) == {now, earlier}
    picked = earlier.completed_on.strftime("%Y-%m")
    assert list(insights.surface_rows(pia, {"view": "new", "month": picked})) == [earlier]


def test_surface_kpis(pia, org_a, locations):
    month = this_month()
    SurfaceAssessmentFactory(organization=org_a, email="ann@a.example", completed_on=month)
    SurfaceAssessmentFactory(
        organization=org_a, email="ANN@a.example", completed_on=month, status=AssessmentStatus.FAILED
    )
    SurfaceAssessmentFactory(organization=org_a, email="bo@a.example", completed_on=month)
    SurfaceAssessmentFactory(
        organization=org_a, email="cy@a.example", completed_on=month - timedelta(days=60)
    )
    kpis = insights.surface_kpis(pia, {})
    assert (kpis.view, kpis.month) == ("new", month)
    assert (kpis.total_learners, kpis.new_learners) == (3, 2)
    assert (kpis.assessments, kpis.passed, kpis.pass_rate) == (3, 2, Decimal("66.7"))
    historical = insights.surface_kpis(pia, {"view": "historical"})
    assert (historical.assessments, historical.passed, historical.pass_rate) == (4, 3, Decimal("75.0"))
    assert historical.new_learners == 2
    empty = insights.surface_kpis(pia, {"month": "2001-01"})
    assert (empty.new_learners, empty.assessments, empty.pass_rate) == (0, 0, None)


def test_a_location_scoped_viewer_sees_only_their_locations(scoped, pia, org_a, locations):
    us, de = locations
    SurfaceAssessmentFactory(
        organization=org_a, location=us, learner_name="Uma US", completed_on=this_month()
    )
    SurfaceAssessmentFactory(
        organization=org_a, location=de, learner_name="Dirk DE", completed_on=this_month()
    )
    PersonCertificationFactory(organization=org_a, location=us, email="uma@a.example")
    PersonCertificationFactory(organization=org_a, location=de, email="dirk@a.example")
    assert [r.learner_name for r in insights.surface_rows(scoped, {})] == ["Dirk DE"]
    assert insights.surface_kpis(scoped, {}).total_learners == 1
    assert {r.learner_name for r in insights.surface_rows(pia, {})} == {"Uma US", "Dirk DE"}
    assert [p["person"] for p in insights.skilling_people(scoped, {})] == ["dirk@a.example"]
    assert len(insights.skilling_people(pia, {})) == 2


def test_surface_page_and_download(pia_client, org_a, org_b, locations):
    SurfaceAssessmentFactory(
        organization=org_a,
        location=locations[0],
        learner_name="Ann Example",
        email="ann@a.example",
        country="US",
        completed_on=date(2026, 3, 9),
        score=91,
    )
    SurfaceAssessmentFactory(organization=org_b, learner_name="Beta Secret", completed_on=date(2026, 3, 9))
    page = pia_client.get(reverse("membership:surface-insights"), {"view": "new", "month": "2026-03"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Ann Example" in body and "Beta Secret" not in body
    assert page.context["kpis"].total_learners == 1
    rows = csv_of(pia_client.get(reverse("membership:surface-insights-download"), {"view": "historical"}))
    assert rows == [
        SURFACE_HEADER,
        [
            "Ann Example",
            "ann@a.example",
            locations[0].partner_id,
            "US",
            "Surface Pro technical fundamentals",
            "2026-03-09",
            "91",
            "passed",
        ],
    ]


def test_surface_page_reports_a_bad_view_or_month(pia_client):
    response = pia_client.get(reverse("membership:surface-insights"), {"view": "weekly", "month": "2026-00"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "View: Select a valid choice." in body
    assert "Month (YYYY-MM):" in body


# --- Skilling insights ----------------------------------------------------------------------------


def test_skilling_people_groups_certifications_by_person(pia, org_a, locations):
    today = timezone.localdate()
    teams = Certification.objects.get(code="MS-700")
    other = Certification.objects.exclude(pk=teams.pk).filter(level=CertificationLevel.ADVANCED).first()
    PersonCertificationFactory(
        organization=org_a,
        location=locations[0],
        learner_name="Ann",
        email="Ann@a.example",
        certification=teams,
        earned_on=today - timedelta(days=100),
    )
    PersonCertificationFactory(
        organization=org_a,
        location=locations[1],
        learner_name="Ann",
        email="ann@a.example",
        certification=other,
        earned_on=today - timedelta(days=800),
        expires_on=today - timedelta(days=70),
    )
    PersonCertificationFactory(organization=org_a, learner_name="Bea", email="bea@a.example")
    people = list(insights.skilling_people(pia, {}))
    assert [p["person"] for p in people] == ["ann@a.example", "bea@a.example"]
    ann = people[0]
    assert sorted(ann["locations"]) == sorted([locations[0].partner_id, locations[1].partner_id])
    assert (ann["certification_count"], ann["active_count"]) == (2, 1)
    assert {c["code"]: c["active"] for c in ann["certifications"]} == {"MS-700": True, other.code: False}
    active = list(insights.skilling_people(pia, {"status": "active"}))
    assert [p["certification_count"] for p in active] == [1, 1]
    expired = list(insights.skilling_people(pia, {"status": "expired"}))
    assert [p["person"] for p in expired] == ["ann@a.example"]


def test_skilling_by_designation_counts_distinct_people_with_active_certifications(pia, org_a):
    today = timezone.localdate()
    teams = Certification.objects.get(code="MS-700")
    assert (teams.designation, teams.level) == (Designation.MODERN_WORK, CertificationLevel.INTERMEDIATE)
    PersonCertificationFactory(organization=org_a, email="a@a.example", certification=teams)
    PersonCertificationFactory(
        organization=org_a, email="A@a.example", certification=teams, earned_on=date(2024, 1, 1)
    )
    PersonCertificationFactory(organization=org_a, email="b@a.example", certification=teams)
    PersonCertificationFactory(
        organization=org_a, email="c@a.example", certification=teams, expires_on=today - timedelta(days=1)
    )
    PersonCertificationFactory(
        organization=org_a, email="d@a.example", certification=teams, earned_on=today + timedelta(days=5)
    )
    areas = {area.designation: area for area in insights.skilling_by_designation(pia, {"status": "expired"})}
    assert len(areas) == len(Designation)
    modern_work = areas[Designation.MODERN_WORK]
    assert modern_work.people == 2
    assert dict(modern_work.levels)[CertificationLevel.INTERMEDIATE] == 2
    assert dict(modern_work.levels)[CertificationLevel.ADVANCED] == 0
    assert areas[Designation.SECURITY].people == 0


def test_skilling_page_and_download(pia_client, org_a, org_b, locations):
    teams = Certification.objects.get(code="MS-700")
    PersonCertificationFactory(
        organization=org_a,
        location=locations[0],
        learner_name="Ann Example",
        email="ann@a.example",
        certification=teams,
        earned_on=date(2025, 9, 1),
    )
    PersonCertificationFactory(organization=org_b, learner_name="Beta Secret")
    page = pia_client.get(reverse("membership:skilling-insights"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Ann Example" in body and "Beta Secret" not in body
    assert "MS-700" in body and "Intermediate" in body
    rows = csv_of(pia_client.get(reverse("membership:skilling-insights-download")))
    assert rows == [
        [
            "Learner name",
            "Email",
            "Partner location (PartnerID)",
            "Certification code",
            "Certification",
            "Level",
            "Solution area",
            "Earned on",
            "Expires on",
            "Active",
        ],
        [
            "Ann Example",
            "ann@a.example",
            locations[0].partner_id,
            "MS-700",
            teams.name,
            "Intermediate",
            str(Designation.MODERN_WORK.label),
            "2025-09-01",
            "",
            "true",
        ],
    ]


def test_skilling_page_reports_a_bad_designation(pia_client):
    response = pia_client.get(reverse("membership:skilling-insights"), {"designation": "Quantum"})
    assert response.status_code == 400
    assert "Solution area: Select a valid choice." in response.content.decode()


# --- htmx ------------------------------------------------------------------------------------------


def test_an_htmx_filter_request_gets_only_the_results_and_errors_swap_in(pia_client, org_a):
    MarketplaceLicenseFactory(organization=org_a, customer_name="Contoso")
    partial = pia_client.get(reverse("membership:license-report"), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert b"<html" not in partial.content and b'data-testid="license-table"' in partial.content
    bad = pia_client.get(reverse("membership:license-report"), {"dateTo": "x"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200
    assert b'data-testid="filter-errors"' in bad.content


def test_license_summary_reads_the_latest_month_not_a_sum_of_months(pia, org_a):
    for month, purchased in ((date(2026, 9, 1), 10), (date(2026, 10, 1), 25)):
        MarketplaceLicenseFactory(
            organization=org_a, date=month, country="US", licenses_purchased=purchased, licenses_assigned=5
        )
    summary = insights.license_summary(insights.license_rows(pia, {}))
    assert (summary.as_of, summary.rows, summary.purchased, summary.assigned) == (date(2026, 10, 1), 1, 25, 5)
    earlier = insights.license_summary(insights.license_rows(pia, {"dateTo": "2026-09-30"}))
    assert (earlier.as_of, earlier.purchased) == (date(2026, 9, 1), 10)
