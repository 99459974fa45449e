"""Membership pages (overview helper): the overview, benefits with activation, the designations
list, a designation's breakdown, history, suggestions and what-if, and enrolling — with capability
checks, tenant isolation and bad input. Scores come from `recalculate_capability_scores` over
seeded certifications and training deliveries, never from hand-made snapshots."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from membership.choices import ActivationStatus, Designation, EnrollmentStatus, designation_package_code
from membership.models import Benefit, BenefitPackage, Certification, DesignationEnrollment
from membership.selectors import scores
from membership.services import scoring
from membership.templatetags.benefits import quantity
from portal.roles import Role
from tests.conftest import confirm_totp
from tests.factories import (
    BenefitConsumptionFactory,
    BenefitFactory,
    BenefitPackageFactory,
    MembershipFactory,
    PersonCertificationFactory,
    TrainingDeliveryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA_AI = "data-ai"
TRAINING = "training-services"
READ_PAGES = [
    ("membership:index", {}),
    ("membership:benefits", {}),
    ("membership:designations", {}),
    ("membership:designation", {"slug": DATA_AI}),
]


def certify(organization, code: str, count: int, *, prefix: str) -> None:
    certification = Certification.objects.get(code=code)
    for n in range(count):
        PersonCertificationFactory(
            organization=organization,
            certification=certification,
            email=f"{prefix}{n}@{organization.partner_global_id}.example",
            earned_on=timezone.localdate() - timedelta(days=200),
        )


def seed_scores(organization) -> None:
    """Data & AI: 5 of 10 intermediate (12 points) and 2 of 4 advanced (7 points), nothing else → 19,
    not qualified. Training services: 2 trainers, 12 courses at 88 % satisfaction → 100, qualified.
    Scored yesterday with 3 intermediate people (history), then today."""
    today = timezone.localdate()
    certify(organization, "DP-100", 3, prefix="int")
    certify(organization, "DP-420", 2, prefix="adv")
    certify(organization, "MCT", 2, prefix="mct")
    for n in range(12):
        TrainingDeliveryFactory(
            organization=organization, delivered_on=today - timedelta(days=10 + n), satisfaction=88
        )
    scoring.recalculate_capability_scores(day=today - timedelta(days=1), organization_ids=[organization.pk])
    certify(organization, "DP-300", 2, prefix="more")
    scoring.recalculate_capability_scores(day=today, organization_ids=[organization.pk])


@pytest.fixture
def petra(org_a):
    """An AI Cloud Partner Program partner admin: views and manages the membership."""
    user = UserFactory(organization=org_a, email="petra@alpha.example", roles=[Role.PARTNER_ADMIN])
    confirm_totp(user)
    return user


@pytest.fixture
def admin(petra, verified_client) -> Client:
    return verified_client(petra)


@pytest.fixture
def viewer(org_a, verified_client) -> Client:
    """A business profile contributor: sees the membership, changes nothing."""
    user = UserFactory(
        organization=org_a, email="viv@alpha.example", roles=[Role.BUSINESS_PROFILE_CONTRIBUTOR]
    )
    return verified_client(user)


@pytest.fixture
def outsider_client(bob, verified_client) -> Client:
    """An incentives user of the same organization: no membership capability at all."""
    return verified_client(bob)


@pytest.fixture
def scored(org_a):
    MembershipFactory(organization=org_a)
    seed_scores(org_a)
    return org_a


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def row_of(response, slug: str):
    return next(row for row in response.context["rows"] if row.slug == slug)


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_every_page_renders_with_the_membership_navigation(name, kwargs, admin, scored):
    response = admin.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, response.content[:500]
    assert b'aria-label="Membership pages"' in response.content


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_pages_need_membership_view(name, kwargs, outsider_client):
    assert outsider_client.get(reverse(name, kwargs=kwargs)).status_code == 403


def test_posts_need_membership_manage(viewer, org_a, scored):
    benefit = BenefitFactory(organization=org_a)
    response = viewer.post(reverse("membership:benefit-activate", kwargs={"pk": benefit.pk}))
    assert response.status_code == 403
    response = viewer.post(reverse("membership:designation-enroll", kwargs={"slug": TRAINING}))
    assert response.status_code == 403
    benefit.refresh_from_db()
    assert benefit.activation_status == ActivationStatus.NOT_ACTIVATED
    assert DesignationEnrollment.objects.get(
        organization=org_a, designation=Designation.TRAINING_SERVICES
    ).status == (EnrollmentStatus.ELIGIBLE)


def test_a_viewer_sees_no_buttons(viewer, org_a, scored):
    BenefitFactory(organization=org_a)
    assert b">Activate</button>" not in viewer.get(reverse("membership:benefits")).content
    page = viewer.get(reverse("membership:designation", kwargs={"slug": TRAINING}))
    assert b">Enroll</button>" not in page.content
    assert b"A partner admin can enroll." in page.content


def test_posts_are_refused_on_get(admin, org_a):
    benefit = BenefitFactory(organization=org_a)
    assert admin.get(reverse("membership:benefit-activate", kwargs={"pk": benefit.pk})).status_code == 405
    assert admin.get(reverse("membership:designation-enroll", kwargs={"slug": TRAINING})).status_code == 405


# --- Overview -------------------------------------------------------------------------------------


def test_the_overview_shows_the_membership_benefits_and_tracks(admin, org_a, scored):
    benefit = BenefitFactory(organization=org_a, quantity=Decimal("4000"))
    Benefit.objects.filter(pk=benefit.pk).update(
        activation_status=ActivationStatus.ACTIVATED, activated_at=timezone.now() - timedelta(days=30)
    )
    BenefitConsumptionFactory(
        organization=org_a, benefit=benefit, consumed_quantity=Decimal("2950"), as_of=timezone.localdate()
    )
    response = admin.get(reverse("membership:index"))
    body = response.content.decode()
    membership = org_a.membership
    assert org_a.partner_global_id in body
    assert org_a.legal_name in body
    assert "Active" in body
    assert membership.member_since.strftime("%-d %b %Y") in body
    assert membership.anniversary_date.strftime("%-d %b %Y") in body
    assert reverse("membership:benefits") in body
    # Tracks to explore: Data & AI (not attained) with its score, linking to its page.
    cards = {link.card.title: link for link in response.context["tracks"]}
    data_ai = next(link for title, link in cards.items() if "Data & AI" in title)
    assert data_ai.url == reverse("membership:designation", kwargs={"slug": DATA_AI})
    assert data_ai.card.score == scores.designation_score(org_a, Designation.DATA_AI).total
    assert f'href="{data_ai.url}"' in body
    assert all(link.url for link in response.context["tracks"])


def test_the_overview_without_a_membership_says_so(admin, org_a):
    response = admin.get(reverse("membership:index"))
    assert response.status_code == 200
    assert response.context["membership"] is None
    assert b"No membership" in response.content


# --- Benefits -------------------------------------------------------------------------------------


def test_benefits_show_consumption_and_expiry(admin, org_a):
    today = timezone.localdate()
    package = BenefitPackageFactory(
        organization=org_a,
        name="Partner Success Core Benefits",
        start=today - timedelta(days=300),
        end=today + timedelta(days=64),
    )
    seats = BenefitFactory(
        organization=org_a,
        package=package,
        product="Microsoft 365 E5",
        quantity=Decimal("25"),
        unit="seats",
        expires_at=today + timedelta(days=20),
    )
    Benefit.objects.filter(pk=seats.pk).update(
        activation_status=ActivationStatus.ACTIVATED, activated_at=timezone.now() - timedelta(days=40)
    )
    BenefitConsumptionFactory(organization=org_a, benefit=seats, consumed_quantity=Decimal("19"), as_of=today)
    credits = BenefitFactory(
        organization=org_a, package=package, product="Azure credits", expires_at=today + timedelta(days=200)
    )
    response = admin.get(reverse("membership:benefits"))
    body = response.content.decode()
    assert "Partner Success Core Benefits" in body
    [(shown, lines)] = response.context["packages"]
    by_product = {line.benefit.product: line for line in lines}
    assert by_product["Microsoft 365 E5"].remaining == Decimal("6")
    assert by_product["Microsoft 365 E5"].percent_used == 76
    seat_row = body.split(f'data-benefit="{seats.pk}"')[1].split("</tr>")[0]
    assert "76 %" in seat_row
    assert "Expiring soon" in seat_row
    assert 'class="has-problem"' in seat_row
    assert ">Activate</button>" not in seat_row
    credit_row = body.split(f'data-benefit="{credits.pk}"')[1].split("</tr>")[0]
    assert "Not activated" in credit_row
    assert "Expiring soon" not in credit_row
    assert reverse("membership:benefit-activate", kwargs={"pk": credits.pk}) in credit_row


def test_activating_a_benefit(admin, org_a, petra):
    benefit = BenefitFactory(organization=org_a, product="Azure credits")
    url = reverse("membership:benefit-activate", kwargs={"pk": benefit.pk})
    response = admin.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("membership:benefits")
    assert "Azure credits activated." in messages_of(response)
    benefit.refresh_from_db()
    assert benefit.activation_status == ActivationStatus.ACTIVATED
    assert benefit.activated_by == petra
    # A second time: the service's reason, no change.
    activated_at = benefit.activated_at
    response = admin.post(url, follow=True)
    assert any("already activated" in message for message in messages_of(response))
    benefit.refresh_from_db()
    assert benefit.activated_at == activated_at


def test_another_organizations_benefit_is_a_404(admin, org_b):
    theirs = BenefitFactory(organization=org_b)
    response = admin.post(reverse("membership:benefit-activate", kwargs={"pk": theirs.pk}))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.activation_status == ActivationStatus.NOT_ACTIVATED
    assert admin.post(reverse("membership:benefit-activate", kwargs={"pk": 999999})).status_code == 404


def test_benefits_list_only_the_own_organizations_packages(admin, org_a, org_b):
    BenefitFactory(organization=org_b, product="Their credits")
    mine = BenefitFactory(organization=org_a, product="Our credits")
    response = admin.get(reverse("membership:benefits"))
    assert b"Our credits" in response.content
    assert b"Their credits" not in response.content
    assert [package.pk for package, _ in response.context["packages"]] == [mine.package_id]


# --- Designations ---------------------------------------------------------------------------------


def test_the_designations_list_every_area_with_its_state(admin, org_a, scored):
    response = admin.get(reverse("membership:designations"))
    rows = response.context["rows"]
    assert [row.designation for row in rows] == list(Designation.values)
    data_ai = row_of(response, DATA_AI)
    assert data_ai.score.total == 19
    assert not data_ai.score.qualified
    assert data_ai.enrollment is None
    assert {metric.metric for metric in data_ai.score.blocking_metrics} == {
        "nca",
        "usage_growth",
        "deployments",
    }
    training = row_of(response, TRAINING)
    assert training.score.total == 100
    assert training.score.qualified
    assert training.enrollment.status == EnrollmentStatus.ELIGIBLE
    body = response.content.decode()
    data_ai_html = body.split(f'data-designation="{DATA_AI}"')[1].split("</tr>")[0]
    assert "19 / 100" in data_ai_html
    assert "Not qualified" in data_ai_html
    assert ">51<" in data_ai_html  # the gap to 70
    assert "Net customer adds" in data_ai_html
    assert "Not attained" in data_ai_html
    training_html = body.split(f'data-designation="{TRAINING}"')[1].split("</tr>")[0]
    assert "Eligible" in training_html and "Qualified" in training_html


def test_designations_of_another_organization_are_never_shown(verified_client, charlie, scored):
    response = verified_client(charlie).get(reverse("membership:designations"))
    assert all(row.score is None and row.enrollment is None for row in response.context["rows"])
    assert b"19 / 100" not in response.content
    detail = verified_client(charlie).get(reverse("membership:designation", kwargs={"slug": DATA_AI}))
    assert detail.context["best"] is None
    assert b'data-testid="not-scored"' in detail.content


def test_an_unknown_designation_is_a_404(admin):
    assert admin.get(reverse("membership:designation", kwargs={"slug": "cloud-magic"})).status_code == 404
    assert (
        admin.post(reverse("membership:designation-enroll", kwargs={"slug": "cloud-magic"})).status_code
        == 404
    )


def test_the_detail_shows_the_breakdown_history_and_suggestions(admin, org_a, scored):
    response = admin.get(reverse("membership:designation", kwargs={"slug": DATA_AI}))
    body = response.content.decode()
    best = response.context["best"]
    assert best.total == 19
    metrics = {metric.metric: metric for metric in best.metrics}
    assert metrics["int_cert"].achieved == 5 and metrics["int_cert"].points == 12
    assert metrics["adv_cert"].points == 7
    row = body.split('data-metric="int_cert"')[1].split("</tr>")[0]
    assert ">5 people<" in row and ">10<" in row and ">25<" in row and ">12<" in row
    assert "51 points to 70" in body
    # History: yesterday with three intermediate people, today with five.
    history = response.context["history"]
    assert [total for _day, total, _qualified in history] == [14, 19]
    assert 'id="designation-chart-data"' in body
    # Suggestions from the scoring service, shown as they are.
    texts = [suggestion.text for suggestion in response.context["suggestions"]]
    assert texts and all(text in body for text in texts)
    assert any("intermediate" in text for text in texts)


def test_a_designation_with_two_tracks_shows_both(admin, org_a):
    certify(org_a, "MS-700", 4, prefix="mw")
    scoring.recalculate_capability_scores(organization_ids=[org_a.pk])
    response = admin.get(reverse("membership:designation", kwargs={"slug": "modern-work"}))
    tracks = response.context["tracks"]
    assert {track.score.track for track in tracks} == {"enterprise", "smb"}
    assert tracks[0].is_best
    assert response.content.decode().count('data-testid="breakdown"') == 2
    # The what-if runs on the track picked: Enterprise asks 12 people (4 → 3 points, 12 → 10 points).
    assert tracks[0].score.track == "smb"
    response = admin.get(
        reverse("membership:designation", kwargs={"slug": "modern-work"}),
        {"track": "enterprise", "int_cert": "8"},
    )
    prediction = response.context["prediction"]
    assert prediction.before.track == "enterprise"
    assert prediction.delta_points == 7


# --- What-if --------------------------------------------------------------------------------------


def test_a_what_if_reaching_seventy_predicts_qualification(admin, scored):
    url = reverse("membership:designation", kwargs={"slug": DATA_AI})
    response = admin.get(url, {"nca": "8", "usage_growth": "20", "deployments": "10"})
    prediction = response.context["prediction"]
    assert prediction.before.total == 19
    assert prediction.after.total == 79  # 30 + 12 + 7 + 15 + 15
    assert prediction.after.qualified
    assert prediction.delta_points == 60
    body = response.content.decode()
    assert 'data-testid="what-if-after">79<' in body
    assert "+60 points" in body


def test_a_what_if_that_stays_short_says_what_is_missing(admin, scored):
    response = admin.get(reverse("membership:designation", kwargs={"slug": DATA_AI}), {"int_cert": "5"})
    prediction = response.context["prediction"]
    assert prediction.after.total == 32
    assert not prediction.after.qualified
    assert "still 38 short of 70" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"int_cert": "lots"}, "int_cert", "Enter a number."),
        ({"int_cert": "-9"}, "int_cert", "can't fall below 0"),
        ({"int_cert": "1.5"}, "int_cert", "decimal places"),
        ({"usage_growth": "1e400"}, "usage_growth", ""),
        ({"int_cert": "0"}, "__all__", "at least one metric"),
    ],
)
def test_bad_what_if_input_shows_form_errors(admin, scored, params, field, message):
    response = admin.get(reverse("membership:designation", kwargs={"slug": DATA_AI}), params)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert response.context["prediction"] is None
    assert b'class="errorlist"' in response.content


# --- Enrolling ------------------------------------------------------------------------------------


def test_enrolling_in_a_qualified_designation_grants_its_benefits(admin, org_a, scored):
    page = admin.get(reverse("membership:designation", kwargs={"slug": TRAINING}))
    assert page.context["enrollable"]
    assert b">Enroll</button>" in page.content
    response = admin.post(reverse("membership:designation-enroll", kwargs={"slug": TRAINING}), follow=True)
    assert response.redirect_chain[-1][0] == reverse("membership:designation", kwargs={"slug": TRAINING})
    enrollment = DesignationEnrollment.objects.get(
        organization=org_a, designation=Designation.TRAINING_SERVICES
    )
    assert enrollment.status == EnrollmentStatus.ENROLLED
    assert BenefitPackage.objects.filter(
        organization=org_a, code=designation_package_code(Designation.TRAINING_SERVICES)
    ).exists()
    assert any("Enrolled" in message for message in messages_of(response))
    assert b">Enroll</button>" not in response.content


def test_enrolling_without_qualifying_is_refused(admin, org_a, scored):
    page = admin.get(reverse("membership:designation", kwargs={"slug": DATA_AI}))
    assert not page.context["enrollable"]
    assert b">Enroll</button>" not in page.content
    response = admin.post(reverse("membership:designation-enroll", kwargs={"slug": DATA_AI}), follow=True)
    assert response.status_code == 200
    assert messages_of(response)
    assert not DesignationEnrollment.objects.filter(
        organization=org_a, designation=Designation.DATA_AI
    ).exists()
    assert not BenefitPackage.objects.filter(organization=org_a).exists()


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (Decimal("1"), "seats", "1 seat"),
        (Decimal("6"), "seats", "6 seats"),
        (Decimal("1050.00"), "usd", "1,050 USD"),
        (Decimal("1"), "usd", "1 USD"),
        (Decimal("2.5"), "hours", "2.50 hours"),
    ],
)
def test_benefit_quantities_read_with_their_unit(value, unit, shown):
    assert quantity(value, unit) == shown


def test_an_executive_report_viewer_lands_on_the_reports(org_a, verified_client):
    reader = UserFactory(organization=org_a, email="exec@alpha.example", roles=[Role.EXECUTIVE_REPORT_VIEWER])
    client = verified_client(reader)

    response = client.get(reverse("membership:index"))

    assert response.status_code == 302
    assert response.url == reverse("membership:license-report")
    assert client.get(response.url).status_code == 200
    assert client.get(reverse("membership:designations")).status_code == 403
