"""The Compliance pages: who may read and change them, program verification and what needs action,
document uploads with the instant assessment (and every kind of refused file), appeals, the check's
history, the legal profile that says which checks restart, and compliance training."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfWriter

from portal.roles import Role
from security.choices import CheckKind, CheckStatus, DocumentType, Program, TrainingStatus
from security.forms_compliance import LegalProfileForm
from security.models import TrainingAssignment, TrainingCourse, VerificationCheck, VerificationDocument
from security.services.compliance import check_transition, program_enroll
from security.services.training import training_assign
from security.verification.assist.facts import ProfileFacts
from security.verification.assist.policy import ALLOWED_TYPES
from security.verification.samples.documents import sample_document
from tests.factories import TrainingAssignmentFactory, UserFactory, VerificationDocumentFactory

pytestmark = pytest.mark.django_db

PAGES = ["compliance", "legal-profile", "training"]
EMPLOYMENT_REASON = (
    "The primary contact uses fabrikam-consulting.example while the website is fabrikam.example."
)


@pytest.fixture
def org_a(org_a):
    # The legal profile the sample documents are made for (spec/accounts.md §6, Fabrikam).
    org_a.legal_name = "Fabrikam Consulting GmbH"
    org_a.address_line1 = "Hauptstraße 5"
    org_a.city = "Berlin"
    org_a.postal_code = "10115"
    org_a.country = "DE"
    org_a.primary_contact_first_name = "Dana"
    org_a.primary_contact_last_name = "Weber"
    org_a.primary_contact_email = "dana@fabrikam-consulting.example"
    org_a.save()
    return org_a


@pytest.fixture
def carla(org_a):
    """The organization's Compliance admin."""
    return UserFactory(
        organization=org_a,
        email="carla@alpha.example",
        display_name="Carla Compliance",
        roles=[Role.COMPLIANCE_ADMIN],
    )


@pytest.fixture
def erin(org_a):
    """A User management admin: may view the account, so reads the Compliance pages, changes nothing."""
    return UserFactory(organization=org_a, email="erin@alpha.example", roles=[Role.USER_MANAGEMENT_ADMIN])


def enroll(organization, actor, program=Program.AI_CLOUD_PARTNER_PROGRAM) -> dict[str, VerificationCheck]:
    enrollment = program_enroll(actor=actor, organization=organization, program=program)
    return {check.kind: check for check in enrollment.checks.all()}


def move(check: VerificationCheck, *steps: str, reason: str = "") -> VerificationCheck:
    """Moves made by the vendor's automatic verification (actor None)."""
    for status in steps:
        check = check_transition(actor=None, check=check, to_status=status, reason=reason or f"Now {status}.")
    return check


@pytest.fixture
def checks(org_a, alice) -> dict[str, VerificationCheck]:
    """AI Cloud Partner Program: email and business verified, address pending, employment needs action."""
    found = enroll(org_a, alice)
    move(found[CheckKind.EMAIL], CheckStatus.VERIFIED)
    move(found[CheckKind.BUSINESS], CheckStatus.VERIFIED)
    move(found[CheckKind.EMPLOYMENT], CheckStatus.ACTION_REQUIRED, reason=EMPLOYMENT_REASON)
    for check in found.values():
        check.refresh_from_db()
    return found


@pytest.fixture
def business_check(org_a, alice) -> VerificationCheck:
    """CSP indirect reseller's business check, waiting for a document."""
    found = enroll(org_a, alice, Program.CSP_INDIRECT_RESELLER)
    return move(
        found[CheckKind.BUSINESS], CheckStatus.ACTION_REQUIRED, reason="The register shows no such name."
    )


def sample_pdf(organization, label: str = "good") -> tuple[bytes, str]:
    """A generated business-register extract for the organization (security.verification.samples)."""
    sample = sample_document(
        label,
        profile=ProfileFacts.from_organization(organization),
        today=timezone.localdate(),
        seed=7,
        doc_type=DocumentType.REGISTRATION_EXTRACT,
    )
    return sample.data, sample.declared_type


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "verification"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(
    client, check, data: bytes, *, name: str = "extract.pdf", doc_type=DocumentType.REGISTRATION_EXTRACT
):
    return client.post(
        reverse("security:check-upload", args=[check.pk]),
        {"doc_type": doc_type, "file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


# --- Who may open the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_people_without_account_view_or_compliance_manage_are_refused(name, bob, verified_client):
    assert verified_client(bob).get(reverse(f"security:{name}")).status_code == 403


def test_a_user_management_admin_reads_every_page_but_changes_nothing(
    erin, checks, business_check, verified_client
):
    client = verified_client(erin)
    for name in PAGES:
        response = client.get(reverse(f"security:{name}"))
        assert response.status_code == 200, name
        assert b'data-testid="upload-form"' not in response.content
    page = client.get(reverse("security:check-detail", args=[business_check.pk]))
    assert page.status_code == 200
    assert b'data-testid="upload-form"' not in page.content
    assert b'data-testid="legal-form"' not in client.get(reverse("security:legal-profile")).content
    assert upload(client, business_check, b"%PDF-1.4\n%%EOF\n").status_code == 403
    response = client.post(reverse("security:legal-profile"), {"legal_name": "Changed GmbH"})
    assert response.status_code == 403
    assert client.post(reverse("security:training"), {}).status_code == 403
    assert VerificationDocument.objects.count() == 0


def test_another_organizations_checks_documents_and_trainings_are_404(checks, charlie, verified_client):
    client = verified_client(charlie)
    check = checks[CheckKind.EMPLOYMENT]
    document = VerificationDocumentFactory(organization=check.organization, check_ref=check)
    assignment = TrainingAssignmentFactory(organization=check.organization)
    for url in (
        reverse("security:check-detail", args=[check.pk]),
        reverse("security:document-detail", args=[document.pk]),
        reverse("security:document-download", args=[document.pk]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("security:check-upload", args=[check.pk]),
        reverse("security:check-appeal", args=[check.pk]),
        reverse("security:training-complete", args=[assignment.pk]),
        reverse("security:training-cancel", args=[assignment.pk]),
    ):
        assert client.post(url).status_code == 404, url
    assignment.refresh_from_db()
    assert assignment.status == TrainingStatus.ASSIGNED


# --- Compliance overview --------------------------------------------------------------------------


def test_the_overview_shows_programs_checks_and_what_needs_action_with_the_evidence(
    carla, checks, verified_client
):
    response = verified_client(carla).get(reverse("security:compliance"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "AI Cloud Partner Program" in html
    # The program's status is its worst check's.
    assert 'data-program="ai_cloud_partner_program"' in html
    enrollment = response.context["enrollments"][0]
    assert enrollment.verification == CheckStatus.ACTION_REQUIRED
    assert [check.kind for check in response.context["needs_action"]] == [CheckKind.EMPLOYMENT]
    assert EMPLOYMENT_REASON in html
    assert "Suggested evidence: An assignment letter from an authorized representative" in html
    assert html.count('data-testid="check-row"') == 4


def test_the_overview_names_the_compliance_admins_and_only_a_global_admin_gets_the_assign_link(
    carla, alice, checks, verified_client
):
    as_carla = verified_client(carla).get(reverse("security:compliance")).content.decode()
    assert "Carla Compliance" in as_carla
    assert 'data-testid="assign-admin"' not in as_carla
    assert "Only a Global admin can assign the Compliance admin role." in as_carla
    as_alice = verified_client(alice).get(reverse("security:compliance")).content.decode()
    assert f'href="{reverse("accounts:user-list")}?role=compliance_admin"' in as_alice


def test_the_overview_says_when_no_one_holds_compliance_admin(alice, checks, verified_client):
    html = verified_client(alice).get(reverse("security:compliance")).content.decode()
    assert 'data-testid="no-compliance-admin"' in html


def test_the_overview_counts_trainings_by_status(org_a, carla, verified_client):
    TrainingAssignmentFactory(organization=org_a)
    TrainingAssignmentFactory(organization=org_a, due_on=timezone.localdate() - timedelta(days=2))
    TrainingAssignmentFactory(organization=org_a, completed_at=timezone.now())
    TrainingAssignmentFactory(organization=org_a, canceled_at=timezone.now())
    summary = verified_client(carla).get(reverse("security:compliance")).context["training"]
    assert (summary.assigned, summary.overdue, summary.completed) == (1, 1, 1)


def test_enrolling_in_a_program_starts_its_checks(org_a, carla, verified_client):
    client = verified_client(carla)
    response = client.post(reverse("security:compliance-enroll"), {"program": Program.COMMERCIAL_MARKETPLACE})
    assert response.status_code == 302
    checks = VerificationCheck.objects.filter(
        organization=org_a, enrollment__program=Program.COMMERCIAL_MARKETPLACE
    )
    assert checks.count() > 0
    assert set(checks.values_list("status", flat=True)) == {CheckStatus.PENDING}
    page = client.get(reverse("security:compliance"))
    assert "Commercial marketplace" in page.content.decode()
    # Enrolled programs are no longer offered.
    assert Program.COMMERCIAL_MARKETPLACE not in dict(page.context["enroll_form"].fields["program"].choices)


# --- Check page: upload with the instant assessment ----------------------------------------------


def test_the_document_type_choice_is_limited_to_what_the_check_accepts(
    carla, business_check, verified_client
):
    response = verified_client(carla).get(reverse("security:check-detail", args=[business_check.pk]))
    offered = {value for value, _ in response.context["upload_form"].fields["doc_type"].choices}
    assert offered == set(ALLOWED_TYPES[CheckKind.BUSINESS])
    assert DocumentType.UTILITY_BILL not in offered


def test_an_upload_is_stored_and_its_assessment_shown_at_once(org_a, carla, business_check, verified_client):
    client = verified_client(carla)
    data, doc_type = sample_pdf(org_a)
    response = upload(client, business_check, data, doc_type=doc_type)
    document = VerificationDocument.objects.get(check_ref=business_check)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?document={document.pk}#assessment")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.context["assessed"] == document
    assert "Assessment of your upload" in html
    assert f'data-band="{document.assist_band}"' in html
    assert document.assist_findings
    for finding in document.assist_findings:
        assert f'data-code="{finding["code"]}"' in html
    business_check.refresh_from_db()
    assert business_check.status == CheckStatus.DOCUMENTS_SUBMITTED
    assert document.uploaded_by == carla


def test_a_weak_document_shows_the_fix_for_each_finding_that_costs_points(
    org_a, carla, business_check, verified_client
):
    client = verified_client(carla)
    data, doc_type = sample_pdf(org_a, "wrong_name")
    response = client.get(upload(client, business_check, data, doc_type=doc_type)["Location"])
    document = VerificationDocument.objects.get(check_ref=business_check)
    html = response.content.decode()
    fixes = [f["fix"] for f in document.assist_findings if f.get("fix")]
    assert fixes
    for fix in fixes:
        assert fix.replace("'", "&#x27;") in html


REFUSED = {
    "executable": (b"MZ\x90\x00\x03" + b"\x00" * 400, "scan.pdf", "Executable files are never accepted"),
    "corrupt": (b"%PDF-1.7\n1 0 obj\n<< broken" + b"\x13\x37" * 300, "extract.pdf", None),
    "encrypted": (None, "extract.pdf", None),
    "empty": (b"", "extract.pdf", "The file is empty"),
    "text": (b"Handelsregister Auszug\n" * 20, "extract.pdf", "upload the document as PDF, PNG or JPEG"),
}


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_refused_upload_shows_the_services_message_and_stores_nothing(
    kind, carla, business_check, verified_client
):
    data, name, expected = REFUSED[kind]
    if kind == "encrypted":
        data = encrypted_pdf()
    before = stored_files()
    response = upload(verified_client(carla), business_check, data, name=name)
    assert response.status_code == 400
    rejection = response.context["rejection"]
    assert rejection.message
    if expected:
        assert expected in rejection.message
    html = response.content.decode()
    assert 'data-testid="upload-errors"' in html
    assert rejection.message.replace("'", "&#x27;") in html
    assert VerificationDocument.objects.count() == 0
    assert stored_files() == before
    business_check.refresh_from_db()
    assert business_check.status == CheckStatus.ACTION_REQUIRED


def test_an_encrypted_pdf_is_refused_saying_so(carla, business_check, verified_client):
    response = upload(verified_client(carla), business_check, encrypted_pdf())
    assert "password" in response.context["rejection"].message.lower() or "encrypt" in (
        response.context["rejection"].message.lower()
    )


@override_settings(SECURITY_VERIFICATION_MAX_MB=1)
def test_an_oversized_upload_is_refused_with_the_limit(carla, business_check, verified_client):
    before = stored_files()
    data = b"%PDF-1.4\n" + b"0" * (1_048_576 + 10)
    response = upload(verified_client(carla), business_check, data)
    assert response.status_code == 400
    message = response.context["rejection"].message
    assert "at most 1 MB" in message
    assert message in response.content.decode()
    assert VerificationDocument.objects.count() == 0
    assert stored_files() == before


def test_no_upload_form_once_the_check_is_verified(carla, checks, verified_client):
    check = checks[CheckKind.BUSINESS]
    response = verified_client(carla).get(reverse("security:check-detail", args=[check.pk]))
    assert response.context["uploadable"] is False
    assert b'data-testid="upload-form"' not in response.content
    refused = upload(verified_client(carla), check, b"%PDF-1.4\n%%EOF\n")
    assert refused.status_code == 400
    assert "verified" in " ".join(refused.context["upload_errors"]).lower()


# --- Appeal and history ---------------------------------------------------------------------------


def test_a_rejected_check_can_be_appealed_and_the_history_says_who_did_what(
    org_a, carla, business_check, verified_client
):
    client = verified_client(carla)
    data, doc_type = sample_pdf(org_a)
    upload(client, business_check, data, doc_type=doc_type)
    check = move(
        VerificationCheck.objects.get(pk=business_check.pk),
        CheckStatus.IN_REVIEW,
        CheckStatus.REJECTED,
        reason="The extract is for another entity.",
    )
    page = client.get(reverse("security:check-detail", args=[check.pk]))
    assert page.context["appealable"] is True
    assert b'data-testid="appeal-form"' in page.content

    response = client.post(
        reverse("security:check-appeal", args=[check.pk]),
        {"note": "The extract shows our entity; see page 2."},
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.appeals_used) == (CheckStatus.APPEAL_SUBMITTED, 1)

    history = client.get(reverse("security:check-detail", args=[check.pk])).context["history"]
    assert [row.to_status for row in history] == [
        CheckStatus.PENDING.label,
        CheckStatus.ACTION_REQUIRED.label,
        CheckStatus.DOCUMENTS_SUBMITTED.label,
        CheckStatus.IN_REVIEW.label,
        CheckStatus.REJECTED.label,
        CheckStatus.APPEAL_SUBMITTED.label,
    ]
    assert history[2].who == "carla@alpha.example"
    assert history[2].from_status == CheckStatus.ACTION_REQUIRED.label
    assert history[-1].who == "carla@alpha.example"
    assert history[-1].reason == "The extract shows our entity; see page 2."
    assert history[-1].appeals_used == 1


def test_an_empty_appeal_is_refused(carla, business_check, verified_client):
    check = move(business_check, CheckStatus.DOCUMENTS_SUBMITTED, CheckStatus.IN_REVIEW, CheckStatus.REJECTED)
    client = verified_client(carla)
    response = client.post(reverse("security:check-appeal", args=[check.pk]), {"note": ""}, follow=True)
    assert "Say why the decision should be reviewed again." in response.content.decode()
    check.refresh_from_db()
    assert check.status == CheckStatus.REJECTED


# --- Document page --------------------------------------------------------------------------------


def test_the_document_page_lists_every_finding_and_downloads_the_file(carla, business_check, verified_client):
    findings = [
        {"code": "DOC_TYPE_OK", "severity": "info", "detail": "Register extract recognised", "points": 25},
        {
            "code": "NAME_PARTIAL",
            "severity": "warning",
            "detail": "Similarity 88",
            "points": 15,
            "fix": "Update the legal name in your profile to match the register exactly.",
        },
        {"code": "OCR_LOW", "severity": "warning", "detail": "Page 2 OCR confidence 72", "points": -5},
    ]
    document = VerificationDocumentFactory(
        organization=business_check.organization, check_ref=business_check, assist_findings=findings
    )
    client = verified_client(carla)
    html = client.get(reverse("security:document-detail", args=[document.pk])).content.decode()
    assert html.count('data-testid="finding"') == 3
    assert "Update the legal name in your profile to match the register exactly." in html
    assert "+25" in html and "-5" in html
    download = client.get(reverse("security:document-download", args=[document.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="extract.pdf"')
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n%%EOF\n"


# --- Legal profile --------------------------------------------------------------------------------


def legal_post(organization, **changes) -> dict[str, str]:
    form = LegalProfileForm(instance=organization)
    data = {name: form.initial.get(name) or "" for name in form.fields}
    return {**data, **changes}


def test_the_legal_profile_says_which_checks_restart_before_saving(org_a, carla, checks, verified_client):
    client = verified_client(carla)
    page = client.get(reverse("security:legal-profile"))
    assert "Changing this restarts verification: Business (legal entity) (AI Cloud Partner Program)." in (
        page.content.decode()
    )
    response = client.post(reverse("security:legal-profile"), legal_post(org_a, legal_name="Fabrikam GmbH"))
    assert response.status_code == 200
    assert [check.kind for check in response.context["restarting"]] == [CheckKind.BUSINESS]
    assert b'name="confirm" value="1"' in response.content
    org_a.refresh_from_db()
    assert org_a.legal_name == "Fabrikam Consulting GmbH"
    assert VerificationCheck.objects.get(pk=checks[CheckKind.BUSINESS].pk).status == CheckStatus.VERIFIED


def test_confirming_saves_and_shows_the_restarted_checks(org_a, carla, checks, verified_client):
    client = verified_client(carla)
    data = legal_post(org_a, legal_name="Fabrikam GmbH", confirm="1")
    response = client.post(reverse("security:legal-profile"), data, follow=True)
    org_a.refresh_from_db()
    assert org_a.legal_name == "Fabrikam GmbH"
    business = VerificationCheck.objects.get(pk=checks[CheckKind.BUSINESS].pk)
    assert business.status == CheckStatus.PENDING
    assert list(response.context["restarted"]) == [business]
    html = response.content.decode()
    assert 'data-testid="restarted-check" data-kind="business"' in html
    assert "Verification restarted for 1 check." in html


def test_a_change_that_restarts_nothing_is_saved_at_once(org_a, carla, checks, verified_client):
    response = verified_client(carla).post(
        reverse("security:legal-profile"), legal_post(org_a, tax_id="DE123456789"), follow=True
    )
    org_a.refresh_from_db()
    assert org_a.tax_id == "DE123456789"
    assert "No verification had to restart." in response.content.decode()


def test_an_invalid_legal_profile_is_shown_with_its_errors_and_not_saved(org_a, carla, verified_client):
    response = verified_client(carla).post(
        reverse("security:legal-profile"), legal_post(org_a, country="Germany")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["country"]
    org_a.refresh_from_db()
    assert org_a.country == "DE"


# --- Training -------------------------------------------------------------------------------------


@pytest.fixture
def course() -> TrainingCourse:
    return TrainingCourse.objects.order_by("code").first()


def test_assigning_a_course_lists_it_per_person(org_a, carla, erin, course, verified_client):
    client = verified_client(carla)
    due = timezone.localdate() + timedelta(days=14)
    response = client.post(
        reverse("security:training"),
        {"course": course.pk, "users": f"{carla.email}, {erin.email.upper()}", "due_on": due.isoformat()},
    )
    assert response.status_code == 302
    assert TrainingAssignment.objects.filter(organization=org_a, course=course).count() == 2
    page = client.get(reverse("security:training"))
    html = page.content.decode()
    assert html.count('data-testid="assignment-row" data-status="assigned"') == 2
    assert course.title in html


def test_people_are_named_by_email_and_an_unknown_one_is_refused(org_b, carla, course, verified_client):
    outsider = UserFactory(organization=org_b, email="otto@beta.example")
    due = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = verified_client(carla).post(
        reverse("security:training"),
        {
            "course": course.pk,
            "users": f"{carla.email}\n{outsider.email}; nobody@alpha.example",
            "due_on": due,
        },
    )
    assert response.status_code == 400
    errors = str(response.context["assign_form"].errors["users"])
    assert "nobody@alpha.example" in errors and outsider.email in errors
    assert not TrainingAssignment.objects.exists()


def test_a_past_due_date_is_refused_with_the_services_message(carla, course, verified_client):
    response = verified_client(carla).post(
        reverse("security:training"),
        {"course": course.pk, "users": carla.email, "due_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400
    assert "The due date must be in the future." in response.content.decode()
    assert not TrainingAssignment.objects.exists()


def test_the_training_list_filters_by_status_course_and_person_in_the_url(
    org_a, alice, carla, erin, verified_client
):
    courses = list(TrainingCourse.objects.order_by("code")[:2])
    later = timezone.localdate() + timedelta(days=10)
    training_assign(actor=alice, organization=org_a, course=courses[0], users=[carla, erin], due_on=later)
    training_assign(actor=alice, organization=org_a, course=courses[1], users=[erin], due_on=later)
    overdue = TrainingAssignmentFactory(
        organization=org_a, course=courses[1], user=carla, due_on=timezone.localdate() - timedelta(days=1)
    )
    client = verified_client(carla)
    url = reverse("security:training")

    def listed(**params) -> list[tuple[str, str, str]]:
        rows = client.get(url, params).context["assignments"]
        return sorted((row.user.email, row.course.code, row.status) for row in rows)

    assert len(listed()) == 4
    assert listed(status="overdue") == [("carla@alpha.example", courses[1].code, "overdue")]
    assert [row[0] for row in listed(courseCode=courses[0].code)] == [
        "carla@alpha.example",
        "erin@alpha.example",
    ]
    assert {row[1] for row in listed(userId=erin.pk)} == {courses[0].code, courses[1].code}
    assert listed(status="assigned", userId=carla.pk) == [
        ("carla@alpha.example", courses[0].code, "assigned")
    ]
    assert overdue.status == TrainingStatus.OVERDUE


def test_completing_and_canceling_keep_the_lists_filters(org_a, alice, carla, erin, course, verified_client):
    later = timezone.localdate() + timedelta(days=10)
    done, dropped = training_assign(
        actor=alice, organization=org_a, course=course, users=[carla, erin], due_on=later
    )
    client = verified_client(carla)
    back = reverse("security:training") + f"?courseCode={course.code}"
    response = client.post(reverse("security:training-complete", args=[done.pk]), {"next": back})
    assert response["Location"] == back
    response = client.post(
        reverse("security:training-cancel", args=[dropped.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("security:training")
    done.refresh_from_db()
    dropped.refresh_from_db()
    assert (done.status, dropped.status) == (TrainingStatus.COMPLETED, TrainingStatus.CANCELED)
    listed = client.get(reverse("security:training")).context["assignments"]
    assert [row.pk for row in listed] == [done.pk]
    canceled = client.get(reverse("security:training"), {"status": "canceled"}).context["assignments"]
    assert [row.pk for row in canceled] == [dropped.pk]
    again = client.post(reverse("security:training-complete", args=[done.pk]), follow=True)
    assert "already completed" in again.content.decode()


def test_a_check_not_verified_with_documents_offers_no_upload(org_a, alice, carla, verified_client):
    email = move(enroll(org_a, alice)[CheckKind.EMAIL], CheckStatus.ACTION_REQUIRED, reason="Click the link.")
    response = verified_client(carla).get(reverse("security:check-detail", args=[email.pk]))
    assert response.context["uploadable"] is False
    assert "This check is not verified with documents." in response.content.decode()


def test_a_person_completes_their_own_training_from_their_profile(org_a, verified_client):
    person = UserFactory(organization=org_a, roles=[Role.INCENTIVES_USER])
    mine = TrainingAssignmentFactory(organization=org_a, user=person)
    theirs = TrainingAssignmentFactory(organization=org_a)
    client = verified_client(person)
    profile = client.get(reverse("home:profile"))
    assert mine.course.title.encode() in profile.content
    response = client.post(
        reverse("security:training-complete", args=[mine.pk]), {"next": reverse("home:profile")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home:profile")
    mine.refresh_from_db()
    assert mine.completed_at is not None
    assert client.post(reverse("security:training-complete", args=[theirs.pk])).status_code == 403
    theirs.refresh_from_db()
    assert theirs.completed_at is None
