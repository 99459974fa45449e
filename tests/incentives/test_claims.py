"""The claim lifecycle services: creation and eligibility, consent, proof, submission, review,
cancel, expiry, reminders and outcome links (spec/incentives.md §4–§8)."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, CustomerSegment
from accounts.models import ActionItem
from earnings.choices import SolutionArea
from incentives.choices import (
    ClaimStatus,
    OpportunityStage,
    PayPattern,
    ProofKind,
    ReviewDecision,
    ReviewReason,
)
from incentives.models import Claim, ClaimReview, OutcomeLink, ProofDocument
from incentives.services import (
    ClaimRefused,
    claim_cancel,
    claim_create,
    claim_respond,
    claim_review,
    claim_review_start,
    claim_submit,
    claims_expire,
    claims_remind,
    consent_record,
    consent_request,
    outcome_link,
    outcome_unlink,
    proof_attach,
    proof_remove,
)
from incentives.services.eligibility import EligibilityCode
from portal.history import history_for
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CountryMarketTierFactory,
    CustomerFactory,
    EnrollmentFactory,
    OpportunityFactory,
    PartnerLocationFactory,
    ProgramFactory,
    TransactionFactory,
    UserFactory,
)

S = ClaimStatus
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(org_a, bob):
    """Alpha's location enrolled in MCI; a fixed Copilot workshop paying 5,000 USD in market A."""
    program = ProgramFactory()
    location = PartnerLocationFactory(organization=org_a, country="DE")
    EnrollmentFactory(organization=org_a, location=location, program=program)
    workshop = ActivityTypeFactory(engagement__program=program, claim_window_days=90)
    ActivityRateFactory(activity_type=workshop, fixed_fee_usd=Decimal("5000"))
    workshop.refresh_from_db()  # as pages load it: amounts as Decimal
    customer = CustomerFactory(organization=org_a, name="Fabrikam Ltd", employee_count=800)
    return {
        "program": program,
        "location": location,
        "workshop": workshop,
        "customer": customer,
        "actor": bob,
    }


@pytest.fixture
def reviewer(db):
    return UserFactory(organization=None, is_staff=True, email="reviewer@vendor.example")


def create(world, **fields):
    fields.setdefault("activity_type", world["workshop"])
    fields.setdefault("location", world["location"])
    fields.setdefault("customer", world["customer"])
    fields.setdefault("friendly_name", "Copilot workshop for Fabrikam")
    fields.setdefault("contact_email", "it@fabrikam.example")
    return claim_create(actor=fields.pop("actor", world["actor"]), **fields)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def consented(world, **fields) -> Claim:
    claim = create(world, **fields)
    consent_record(token=token_of(consent_request(claim=claim, actor=world["actor"])), accept=True)
    claim.refresh_from_db()
    return claim


def pdf(name="invoice.pdf", content=PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def with_proof(world, **fields) -> Claim:
    claim = consented(world, **fields)
    for kind in claim.activity_type.required_proof:
        proof_attach(claim=claim, kind=kind, file=pdf(), actor=world["actor"])
    claim.refresh_from_db()
    return claim


def submitted(world, **fields) -> Claim:
    claim = with_proof(world, **fields)
    return claim_submit(claim=claim, actor=world["actor"], delivered_on=timezone.localdate())


def statuses(claim) -> list[tuple[str, str]]:
    return [(event.from_status, event.to_status) for event in history_for(claim)]


# --- Creation -------------------------------------------------------------------------------------


def test_a_claim_is_created_as_a_draft_with_its_id_payout_and_history(world):
    claim = create(world)

    year = timezone.localdate().year
    assert claim.claim_id == f"CLM-{year}-000001"
    assert create(world, customer=CustomerFactory(organization=world["location"].organization)).claim_id == (
        f"CLM-{year}-000002"
    )
    assert (claim.status, claim.market_tier, claim.potential_payout_usd) == (S.DRAFT, "A", Decimal("5000"))
    assert claim.customer_tenant_id == world["customer"].tenant_id
    assert (claim.organization, claim.created_by) == (world["location"].organization, world["actor"])
    assert statuses(claim) == [("", S.DRAFT)]
    assert AuditEvent.objects.filter(action="incentives.claim.created", target_id=str(claim.pk)).exists()


def test_the_claim_id_continues_after_the_highest_of_the_year(world):
    year = timezone.localdate().year
    ClaimFactory(claim_id=f"CLM-{year}-000041")
    ClaimFactory(claim_id=f"CLM-{year - 1}-000900")
    assert create(world).claim_id == f"CLM-{year}-000042"


def test_a_user_without_the_claims_capability_is_refused_before_any_service_runs(
    world, org_a, verified_client
):
    billing_admin = UserFactory(organization=org_a, roles=[Role.BILLING_ADMIN])
    wizard = (
        f"{reverse('incentives:claim-new')}?activity={world['workshop'].pk}&location={world['location'].pk}"
        f"&customer={world['customer'].pk}"
    )
    page = verified_client(billing_admin).post(
        wizard, {"friendly_name": "Workshop", "contact_email": "a@b.example"}
    )
    assert page.status_code == 403
    assert not Claim.objects.exists()


def test_the_location_and_customer_must_be_the_partners_own(world, org_b):
    with pytest.raises(ValidationError) as caught:
        create(
            world,
            location=PartnerLocationFactory(organization=org_b),
            customer=CustomerFactory(organization=org_b),
        )
    assert set(caught.value.message_dict) == {"location", "customer"}
    assert not Claim.objects.exists()


def test_a_location_scoped_role_creates_only_for_its_location(world, org_a):
    other = PartnerLocationFactory(organization=org_a)
    scoped = UserFactory(organization=org_a)
    scoped.role_assignments.create(organization=org_a, role=Role.INCENTIVES_USER, location=other)
    with pytest.raises(ValidationError) as caught:
        create(world, actor=UserFactory._meta.model.objects.get(pk=scoped.pk))
    assert "does not cover this location" in caught.value.message_dict["location"][0]


def variable_world(world, **opportunity_fields):
    migration = ActivityTypeFactory(
        engagement__program=world["program"],
        engagement__solution_area=SolutionArea.AZURE_INFRA,
        pay_pattern=PayPattern.VARIABLE,
    )
    ActivityRateFactory(
        activity_type=migration, fixed_fee_usd=None, rate=Decimal("0.05"), cap_per_claim_usd=Decimal("50000")
    )
    migration.refresh_from_db()
    opportunity_fields.setdefault("customer", world["customer"])
    opportunity = OpportunityFactory(organization=world["location"].organization, **opportunity_fields)
    return migration, opportunity


def test_a_variable_claim_records_the_potential_payout_of_its_opportunity(world):
    migration, opportunity = variable_world(world, estimated_value_usd=Decimal("400000"))
    claim = create(world, activity_type=migration, opportunity=opportunity)
    assert (claim.potential_payout_usd, claim.customer_id_type) == (Decimal("20000.00"), "msx_opportunity")


def _not_active(world):
    world["workshop"].ends_on = timezone.localdate() - timedelta(days=1)
    world["workshop"].starts_on = date(2020, 1, 1)
    world["workshop"].save()


def _not_enrolled(world):
    world["location"] = PartnerLocationFactory(organization=world["location"].organization)


def _segment(world):
    world["workshop"].customer_segments = [CustomerSegment.EDUCATION]
    world["workshop"].save()


def _country(world):
    world["workshop"].customer_countries = ["FR", "IT"]
    world["workshop"].save()


def _size(world):
    world["workshop"].min_customer_employees = 1000
    world["workshop"].save()


def _prerequisite(world):
    world["workshop"].prerequisite = ActivityTypeFactory(engagement__program=world["program"])
    world["workshop"].save()


def _duplicate(world):
    ClaimFactory(
        organization=world["location"].organization,
        activity_type=world["workshop"],
        customer=world["customer"],
        status=S.IN_PROGRESS,
    )


def _limit(world):
    ClaimFactory(
        organization=world["location"].organization,
        activity_type=world["workshop"],
        customer=world["customer"],
        status=S.COMPLETED,
    )


def _opportunity_required(world):
    world["workshop"], _ = variable_world(world)


def _opportunity_mismatch(world):
    world["workshop"], opportunity = variable_world(world, solution_area=SolutionArea.MODERN_WORK)
    world["opportunity"] = opportunity


def _opportunity_closed(world):
    world["workshop"], opportunity = variable_world(world, stage=OpportunityStage.LOST)
    world["opportunity"] = opportunity


RULES = {
    EligibilityCode.ACTIVITY_NOT_ACTIVE: _not_active,
    EligibilityCode.LOCATION_NOT_ENROLLED: _not_enrolled,
    EligibilityCode.CUSTOMER_SEGMENT: _segment,
    EligibilityCode.CUSTOMER_COUNTRY: _country,
    EligibilityCode.CUSTOMER_SIZE: _size,
    EligibilityCode.PREREQUISITE_MISSING: _prerequisite,
    EligibilityCode.DUPLICATE_CLAIM: _duplicate,
    EligibilityCode.CUSTOMER_LIMIT_REACHED: _limit,
    EligibilityCode.OPPORTUNITY_REQUIRED: _opportunity_required,
    EligibilityCode.OPPORTUNITY_MISMATCH: _opportunity_mismatch,
    EligibilityCode.OPPORTUNITY_CLOSED: _opportunity_closed,
}


@pytest.mark.parametrize("code", list(RULES), ids=[str(code) for code in RULES])
def test_each_eligibility_failure_refuses_the_claim_and_names_its_rule(world, code):
    RULES[code](world)
    before = Claim.objects.count()

    with pytest.raises(ClaimRefused) as caught:
        create(world, opportunity=world.get("opportunity"))

    assert code in [failure.code for failure in caught.value.failures]
    assert code in [error.code for error in caught.value.error_list]
    assert Claim.objects.count() == before


def test_every_failed_rule_is_listed_at_once(world):
    _segment(world)
    _country(world)
    _size(world)
    with pytest.raises(ClaimRefused) as caught:
        create(world)
    assert [failure.code for failure in caught.value.failures] == [
        EligibilityCode.CUSTOMER_SEGMENT,
        EligibilityCode.CUSTOMER_COUNTRY,
        EligibilityCode.CUSTOMER_SIZE,
    ]
    assert len(caught.value.messages) == 3


def test_e4_another_partners_live_claim_for_the_same_tenant_refuses_the_claim(world, org_b):
    ClaimFactory(
        organization=org_b,
        activity_type=world["workshop"],
        customer_tenant_id=world["customer"].tenant_id,
        status=S.IN_PROGRESS,
        consent_at=timezone.now(),
    )
    with pytest.raises(ClaimRefused) as caught:
        create(world)
    assert caught.value.failures[0].code == EligibilityCode.DUPLICATE_CLAIM
    assert "consent to another partner" in caught.value.messages[0]
    assert not Claim.objects.filter(organization=world["location"].organization).exists()


def test_a_terminal_claim_of_another_partner_leaves_the_customer_free(world, org_b):
    ClaimFactory(
        organization=org_b,
        activity_type=world["workshop"],
        customer_tenant_id=world["customer"].tenant_id,
        status=S.EXPIRED,
    )
    assert create(world).status == S.DRAFT


def test_the_database_constraint_is_the_last_line_against_duplicates(world, org_b, monkeypatch):
    from incentives.services.claims import creation  # noqa: PLC0415 - the module whose import is replaced
    from incentives.services.eligibility import Eligibility  # noqa: PLC0415

    ClaimFactory(
        organization=org_b,
        activity_type=world["workshop"],
        customer_tenant_id=world["customer"].tenant_id,
        status=S.DRAFT,
    )
    monkeypatch.setattr(creation, "customer_eligibility", lambda **kwargs: Eligibility())

    with pytest.raises(ClaimRefused) as caught:
        create(world)

    assert [failure.code for failure in caught.value.failures] == [EligibilityCode.DUPLICATE_CLAIM]
    assert caught.value.messages == [creation.DUPLICATE_MESSAGE]
    assert Claim.objects.count() == 1


# --- Consent --------------------------------------------------------------------------------------


def test_consent_accepted_starts_the_claim_window(world):
    claim = create(world)
    path = consent_request(claim=claim, actor=world["actor"])
    claim.refresh_from_db()
    assert claim.status == S.PENDING_CONSENT
    assert path.startswith("/incentives/")

    claim = consent_record(token=token_of(path), accept=True)

    assert claim.status == S.IN_PROGRESS
    assert claim.expires_at - claim.consent_at == timedelta(days=90)
    assert statuses(claim) == [
        ("", S.DRAFT),
        (S.DRAFT, S.PENDING_CONSENT),
        (S.PENDING_CONSENT, S.IN_PROGRESS),
    ]
    assert history_for(claim).last().actor_label == "Customer contact it@fabrikam.example"


def test_consent_declined_closes_the_claim_and_frees_the_customer(world):
    claim = create(world)
    claim = consent_record(token=token_of(consent_request(claim=claim, actor=world["actor"])), accept=False)
    assert claim.status == S.CONSENT_DECLINED
    assert create(world).status == S.DRAFT


def test_consent_needs_the_customer_contact(world):
    claim = create(world, contact_email="")
    with pytest.raises(ValidationError) as caught:
        consent_request(claim=claim, actor=world["actor"])
    assert "contact_email" in caught.value.message_dict
    claim.refresh_from_db()
    assert claim.status == S.DRAFT


def test_a_tampered_consent_link_is_refused_and_changes_nothing(world):
    claim = create(world)
    token = token_of(consent_request(claim=claim, actor=world["actor"]))
    payload, signature = token.rsplit(":", 1)
    forged = signing.dumps({"claim": claim.pk, "claim_id": claim.claim_id})  # no salt: another link kind
    for bad in (f"{payload}:{signature[:-2]}xx", forged, "garbage"):
        with pytest.raises(ValidationError) as caught:
            consent_record(token=bad, accept=True)
        assert caught.value.message_dict["token"] == ["This consent link is not valid."]
    claim.refresh_from_db()
    assert (claim.status, claim.consent_at) == (S.PENDING_CONSENT, None)


def test_a_consent_link_expires_after_14_days_and_answers_once(world):
    claim = create(world)
    token = token_of(consent_request(claim=claim, actor=world["actor"]))
    with (
        freeze_time(timezone.now() + timedelta(days=14, minutes=1)),
        pytest.raises(ValidationError, match="expired"),
    ):
        consent_record(token=token, accept=True)
    consent_record(token=token, accept=False)
    with pytest.raises(ValidationError, match="no longer open"):
        consent_record(token=token, accept=True)


# --- Proof of execution ---------------------------------------------------------------------------


def test_proof_is_stored_under_a_random_name_with_its_hash_and_moves_the_claim_on(world):
    claim = consented(world)

    document = proof_attach(
        claim=claim,
        kind=ProofKind.INVOICE,
        file=pdf("C:\\Users\\ann\\../../Fabrikam invoice.pdf"),
        actor=world["actor"],
    )

    assert document.original_name == "Fabrikam invoice.pdf"
    assert "Fabrikam" not in document.file.name and ".." not in document.file.name
    assert re.fullmatch(r"incentives/proof/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", document.file.name)
    assert document.file.storage.exists(document.file.name)
    assert (document.sha256, document.size) == (hashlib.sha256(PDF).hexdigest(), len(PDF))
    assert document.content_type == "application/pdf"
    claim.refresh_from_db()
    assert claim.status == S.PENDING_POE
    assert statuses(claim)[-1] == (S.IN_PROGRESS, S.PENDING_POE)

    image = proof_attach(
        claim=claim, kind=ProofKind.FINDINGS, file=SimpleUploadedFile("shot.png", PNG), actor=world["actor"]
    )
    assert image.content_type == "image/png" and image.file.name.endswith(".png")
    claim.refresh_from_db()
    assert claim.status == S.PENDING_POE


def _refused_upload(world, claim, file, **kwargs):
    stored_before = ProofDocument.objects.count()
    status = Claim.objects.get(pk=claim.pk).status
    with pytest.raises(ValidationError) as caught:
        proof_attach(claim=claim, file=file, actor=world["actor"], **{"kind": ProofKind.INVOICE, **kwargs})
    assert ProofDocument.objects.count() == stored_before
    assert Claim.objects.get(pk=claim.pk).status == status
    return caught.value


def test_a_wrong_file_type_is_refused_naming_what_was_found_and_what_is_allowed(world, settings):
    claim = consented(world)
    error = _refused_upload(world, claim, SimpleUploadedFile("invoice.pdf", b"name,amount\nFabrikam,5000\n"))
    assert error.message_dict["file"] == ["The file is CSV; expected DOCX, JPEG, PDF, PNG, PPTX, XLSX."]
    error = _refused_upload(world, claim, SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200))
    assert "unrecognised binary file" in error.message_dict["file"][0]
    assert not settings.MEDIA_ROOT.exists() or not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_a_file_over_the_limit_is_refused(world, settings):
    settings.INCENTIVES_PROOF_MAX_MB = 1
    claim = consented(world)
    error = _refused_upload(world, claim, pdf(content=PDF + b"0" * 1_200_000))
    assert error.message_dict["file"] == ["The file is 1.1 MB; the limit is 1 MB."]


def test_an_unknown_proof_kind_is_refused(world):
    claim = consented(world)
    error = _refused_upload(world, claim, pdf(), kind="SELFIE")
    assert "Unknown proof kind" in error.message_dict["kind"][0]


def test_a_claim_holds_at_most_ten_files(world):
    claim = consented(world)
    for _ in range(10):
        proof_attach(claim=claim, kind=ProofKind.POE, file=pdf(), actor=world["actor"])
    error = _refused_upload(world, claim, pdf())
    assert "at most 10 files" in error.message_dict["file"][0]


@pytest.mark.parametrize(
    "status", [S.DRAFT, S.PENDING_CONSENT, S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.EXPIRED]
)
def test_proof_is_refused_outside_the_partners_turn(world, status):
    claim = ClaimFactory(organization=world["location"].organization, status=status)
    error = _refused_upload(world, claim, pdf())
    assert f"while the claim is {status}" in error.message_dict["status"][0]


def test_proof_is_removed_with_its_file(world, django_capture_on_commit_callbacks):
    claim = consented(world)
    document = proof_attach(claim=claim, kind=ProofKind.INVOICE, file=pdf(), actor=world["actor"])
    storage, name = document.file.storage, document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        proof_remove(document=document, actor=world["actor"])
    assert not ProofDocument.objects.exists()
    assert not storage.exists(name)


def test_another_organizations_user_cannot_reach_the_claim(world, charlie, verified_client):
    claim = consented(world)
    client = verified_client(charlie)
    proof = client.post(
        reverse("incentives:claim-proof", args=[claim.pk]), {"kind": ProofKind.INVOICE, "file": pdf()}
    )
    cancel = client.post(reverse("incentives:claim-cancel", args=[claim.pk]))
    assert (proof.status_code, cancel.status_code) == (404, 404)
    claim.refresh_from_db()
    assert claim.status == S.IN_PROGRESS and not ProofDocument.objects.exists()


# --- Submission -----------------------------------------------------------------------------------


def test_a_claim_with_all_proof_is_submitted(world):
    claim = submitted(world)
    assert claim.status == S.SUBMITTED
    assert claim.submitted_at is not None and claim.delivered_on == timezone.localdate()
    assert statuses(claim)[-1] == (S.PENDING_POE, S.SUBMITTED)


def _refused_submit(world, claim, **kwargs):
    before = Claim.objects.filter(pk=claim.pk).values().get()
    with pytest.raises(ValidationError) as caught:
        claim_submit(claim=claim, actor=world["actor"], **kwargs)
    assert Claim.objects.filter(pk=claim.pk).values().get() == before
    return caught.value


def test_missing_proof_is_named(world):
    claim = consented(world)
    proof_attach(claim=claim, kind=ProofKind.INVOICE, file=pdf(), actor=world["actor"])
    error = _refused_submit(world, claim, delivered_on=timezone.localdate())
    assert error.message_dict["proof"] == [
        "Proof of execution is missing: Findings & recommendations document."
    ]


def test_a_claim_without_any_proof_cannot_be_submitted(world):
    error = _refused_submit(world, consented(world), delivered_on=timezone.localdate())
    assert "Attach the proof of execution" in error.message_dict["proof"][0]


def test_a_late_submission_is_refused_with_the_deadline(world):
    claim = with_proof(world)
    with freeze_time(claim.expires_at + timedelta(minutes=1)):
        error = _refused_submit(world, claim, delivered_on=claim.expires_at.date())
    deadline = timezone.localtime(claim.expires_at)
    assert error.message_dict["status"] == [
        f"The submission is late: the deadline was {deadline:%d %B %Y %H:%M}."
    ]


def test_a_submission_long_after_delivery_is_late(world):
    claim = with_proof(world)
    delivered = timezone.localdate() - timedelta(days=61)
    error = _refused_submit(world, claim, delivered_on=delivered)
    assert "within 60 days of delivery" in error.message_dict["delivered_on"][0]


def test_the_delivery_date_must_be_within_the_activitys_dates(world):
    claim = with_proof(world)
    error = _refused_submit(world, claim, delivered_on=date(2024, 6, 30))
    assert "outside the activity's dates" in error.message_dict["delivered_on"][0]
    error = _refused_submit(world, claim)
    assert error.message_dict["delivered_on"] == ["Enter the date the activity was delivered."]


# --- Review and the partner's answer --------------------------------------------------------------


def test_only_vendor_staff_review(world, alice):
    claim = submitted(world)
    with pytest.raises(PermissionDenied):
        claim_review(claim=claim, reviewer=alice, decision=ReviewDecision.APPROVE)
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED and not ClaimReview.objects.exists()


def test_e1_approval_records_the_decision_and_the_approved_payout(world, reviewer):
    claim = submitted(world)
    claim = claim_review_start(claim=claim, reviewer=reviewer)
    assert claim.status == S.UNDER_REVIEW

    claim = claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.APPROVE, comment="Fine.")

    assert claim.status == S.APPROVED and claim.decided_at is not None
    assert claim.approved_payout_usd == Decimal("5000")
    review = ClaimReview.objects.get()
    assert (review.decision, review.reviewer, review.comment) == (ReviewDecision.APPROVE, reviewer, "Fine.")
    assert history_for(claim).last().actor == reviewer


def test_e3_more_information_is_answered_and_resubmitted(world, reviewer):
    claim = submitted(world)
    claim = claim_review(
        claim=claim,
        reviewer=reviewer,
        decision=ReviewDecision.REQUEST_INFO,
        reason_code=ReviewReason.GENERIC_CONTENT,
    )
    assert claim.status == S.PARTNER_ACTION_REQUIRED
    assert claim.action_due_at - claim.decided_at == timedelta(days=15)
    assert history_for(claim).last().note == ReviewReason.GENERIC_CONTENT.label

    proof_attach(claim=claim, kind=ProofKind.FINDINGS, file=pdf("tailored.pdf"), actor=world["actor"])
    claim = claim_respond(
        claim=claim, actor=world["actor"], response="Attached a report tailored to Fabrikam."
    )

    assert claim.status == S.SUBMITTED and claim.action_due_at is None and claim.resubmit_count == 0
    review = ClaimReview.objects.get()
    assert review.partner_response == "Attached a report tailored to Fabrikam." and review.responded_at
    claim = claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.APPROVE)
    assert claim.status == S.APPROVED


def test_a_rejected_claim_is_resubmitted_once_and_a_second_rejection_is_final(world, reviewer):
    claim = submitted(world)
    reject = {
        "reviewer": reviewer,
        "decision": ReviewDecision.REJECT,
        "reason_code": ReviewReason.SURVEY_MISSING,
    }

    claim = claim_review(claim=claim, **reject)
    assert claim.status == S.REJECTED
    claim = claim_submit(claim=claim, actor=world["actor"])
    assert (claim.status, claim.resubmit_count) == (S.SUBMITTED, 1)

    claim = claim_review(claim=claim, **reject)
    assert claim.status == S.FINAL_REJECTED
    assert ClaimReview.objects.filter(claim=claim).count() == 2
    with pytest.raises(ValidationError):
        claim_submit(claim=claim, actor=world["actor"])


def test_a_rejected_claim_cannot_be_resubmitted_twice(world):
    claim = ClaimFactory(
        organization=world["location"].organization,
        activity_type=world["workshop"],
        status=S.REJECTED,
        resubmit_count=1,
        delivered_on=timezone.localdate(),
        action_due_at=timezone.now() + timedelta(days=3),
    )
    error = _refused_submit(world, claim)
    assert "already resubmitted once" in error.message_dict["status"][0]


def test_a_decision_other_than_approval_needs_a_known_reason(world, reviewer):
    claim = submitted(world)
    with pytest.raises(ValidationError, match="reason"):
        claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.REJECT)
    with pytest.raises(ValidationError, match="Unknown reason code"):
        claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.REJECT, reason_code="MOOD")
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED and not ClaimReview.objects.exists()


def test_a_claim_not_submitted_cannot_be_reviewed(world, reviewer):
    claim = consented(world)
    with pytest.raises(ValidationError, match="Only submitted claims"):
        claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.APPROVE)


def test_only_a_claim_waiting_for_the_partner_is_answered(world):
    with pytest.raises(ValidationError, match="Partner action required"):
        claim_respond(claim=submitted(world), actor=world["actor"], response="Hello")


# --- Cancel, expiry, reminders --------------------------------------------------------------------


def test_a_canceled_claim_is_closed_and_frees_the_customer(world):
    claim = create(world)
    claim = claim_cancel(claim=claim, actor=world["actor"], note="Customer postponed.")
    assert claim.status == S.CANCELED
    assert history_for(claim).last().note == "Customer postponed."
    with pytest.raises(ValidationError, match="cannot move to Canceled"):
        claim_cancel(claim=claim, actor=world["actor"])
    assert create(world).status == S.DRAFT


def test_claims_past_their_deadlines_expire_and_the_rest_stay(world):
    organization = world["location"].organization
    now = timezone.now()

    def claim(status, **fields):
        return ClaimFactory(
            organization=organization, activity_type=world["workshop"], status=status, **fields
        )

    old_draft = claim(S.DRAFT, created_at=now - timedelta(days=31))
    new_draft = claim(S.DRAFT, created_at=now - timedelta(days=29))
    with freeze_time(now - timedelta(days=15)):
        old_consent = create(world, customer=CustomerFactory(organization=organization))
        consent_request(claim=old_consent, actor=world["actor"])
    new_consent = create(world, customer=CustomerFactory(organization=organization))
    consent_request(claim=new_consent, actor=world["actor"])
    late = claim(S.PENDING_POE, expires_at=now - timedelta(minutes=5))
    in_time = claim(S.IN_PROGRESS, expires_at=now + timedelta(days=1))
    unanswered = claim(S.PARTNER_ACTION_REQUIRED, action_due_at=now - timedelta(minutes=5))
    rejected = claim(S.REJECTED, action_due_at=now - timedelta(days=1))
    waiting = claim(S.PARTNER_ACTION_REQUIRED, action_due_at=now + timedelta(days=1))

    assert claims_expire(now=now) == 5
    assert claims_expire(now=now) == 0

    expected = {
        old_draft: S.EXPIRED,
        new_draft: S.DRAFT,
        old_consent: S.EXPIRED,
        new_consent: S.PENDING_CONSENT,
        late: S.EXPIRED,
        in_time: S.IN_PROGRESS,
        unanswered: S.FINAL_REJECTED,
        rejected: S.FINAL_REJECTED,
        waiting: S.PARTNER_ACTION_REQUIRED,
    }
    assert {c: Claim.objects.get(pk=c.pk).status for c in expected} == expected
    assert history_for(late).last().note == "Not submitted within the claim window."


def test_e5_an_expired_claim_frees_the_customer_for_other_partners(world, org_b):
    claim = consented(world)
    claims_expire(now=claim.expires_at + timedelta(seconds=1))
    claim.refresh_from_db()
    assert claim.status == S.EXPIRED
    assert create(world).status == S.DRAFT


def open_items(organization):
    return dict(
        ActionItem.objects.filter(organization=organization, status=ActionItemStatus.OPEN).values_list(
            "dedupe_key", "code"
        )
    )


def test_reminders_are_raised_once_and_resolved_when_done(world, reviewer):
    organization = world["location"].organization
    needs_proof = consented(world)
    info = submitted(world, customer=CustomerFactory(organization=organization))
    info = claim_review(
        claim=info,
        reviewer=reviewer,
        decision=ReviewDecision.REQUEST_INFO,
        reason_code=ReviewReason.POE_INCOMPLETE,
    )

    assert claims_remind() == 2
    assert open_items(organization) == {
        f"incentives-claim-{needs_proof.pk}-proof": ActionItemCode.CLAIM_PROOF_MISSING,
        f"incentives-claim-{info.pk}-info": ActionItemCode.CLAIM_INFO_REQUESTED,
    }
    assert claims_remind() == 2
    assert ActionItem.objects.count() == 2
    item = ActionItem.objects.get(code=ActionItemCode.CLAIM_INFO_REQUESTED)
    assert item.due_at == info.action_due_at and item.target_url == reverse(
        "incentives:claim-detail", kwargs={"pk": info.pk}
    )

    soon = info.action_due_at - timedelta(days=6)
    assert claims_remind(now=soon) == 3
    assert f"incentives-claim-{info.pk}-deadline" in open_items(organization)

    # Doing what was asked closes the items at once, without waiting for the next run.
    for kind in needs_proof.activity_type.required_proof:
        proof_attach(claim=needs_proof, kind=kind, file=pdf(), actor=world["actor"])
    claim_respond(claim=info, actor=world["actor"], response="Added the missing survey.")
    assert open_items(organization) == {}
    assert claims_remind(now=soon) == 0


def test_a_reminder_whose_cause_went_away_is_resolved_by_the_next_run(world):
    organization = world["location"].organization
    claim = consented(world)
    claims_remind()
    Claim.objects.filter(pk=claim.pk).update(status=S.CANCELED)
    claims_remind()
    assert open_items(organization) == {}


# --- Outcomes (phase 3) ---------------------------------------------------------------------------


def test_outcomes_are_linked_only_to_the_customers_transactions(world, reviewer):
    organization = world["location"].organization
    claim = submitted(world)
    own = TransactionFactory(organization=organization, customer=world["customer"])
    other = TransactionFactory(organization=organization)

    with pytest.raises(ValidationError) as caught:
        outcome_link(claim=claim, transactions=[own, other], actor=world["actor"])
    assert other.transaction_id in caught.value.message_dict["transactions"][0]
    assert not OutcomeLink.objects.exists()

    assert outcome_link(claim=claim, transactions=[own], actor=world["actor"]) == 1
    assert outcome_link(claim=claim, transactions=[own], actor=world["actor"]) == 0
    assert outcome_unlink(claim=claim, transactions=[own], actor=world["actor"]) == 1
    assert not OutcomeLink.objects.exists()


def test_outcomes_wait_for_the_claim_to_be_submitted(world):
    claim = consented(world)
    own = TransactionFactory(organization=world["location"].organization, customer=world["customer"])
    with pytest.raises(ValidationError, match="Only submitted, approved or completed"):
        outcome_link(claim=claim, transactions=[own], actor=world["actor"])


# --- Tasks and races ------------------------------------------------------------------------------


def test_the_beat_tasks_expire_and_remind(world, settings):
    from incentives.tasks import claims_expire_task, claims_remind_task  # noqa: PLC0415 - after fixtures

    old = ClaimFactory(
        organization=world["location"].organization,
        status=S.DRAFT,
        created_at=timezone.now() - timedelta(days=40),
    )
    consented(world)
    assert claims_expire_task.delay().get() == 1
    assert claims_remind_task.delay().get() == 1
    old.refresh_from_db()
    assert old.status == S.EXPIRED
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"incentives.tasks.claims_expire_task", "incentives.tasks.claims_remind_task"} <= tasks


def _in_threads(count: int, work) -> list:
    """Run `work(i)` in `count` threads started together; each thread has its own connection."""
    from django.db import connection  # noqa: PLC0415 - each thread's own connection

    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_ids_and_one_live_claim_per_customer(org_a, bob):
    program = ProgramFactory()
    location = PartnerLocationFactory(organization=org_a)
    EnrollmentFactory(organization=org_a, location=location, program=program)
    workshop = ActivityTypeFactory(engagement__program=program)
    ActivityRateFactory(activity_type=workshop)
    workshop.refresh_from_db()
    customers = [CustomerFactory(organization=org_a) for _ in range(4)]
    world = {"workshop": workshop, "location": location, "actor": bob, "customer": customers[0]}

    distinct = _in_threads(4, lambda i: create(world, customer=customers[i]).claim_id)
    same = _in_threads(4, lambda i: create(world, customer=customers[0], friendly_name=f"race {i}"))

    assert all(isinstance(claim_id, str) for claim_id in distinct), distinct
    assert len(set(distinct)) == 4
    winners = [result for result in same if isinstance(result, Claim)]
    losers = [result for result in same if isinstance(result, ClaimRefused)]
    # The first four claims hold customers[0] already: every racer is refused, none slips through.
    assert (len(winners), len(losers)) == (0, 4)
    Claim.objects.filter(customer=customers[0]).update(status=S.CANCELED)
    same = _in_threads(4, lambda i: create(world, customer=customers[0], friendly_name=f"race {i}"))
    assert sum(isinstance(result, Claim) for result in same) == 1
    assert sum(isinstance(result, ClaimRefused) for result in same) == 3
    assert Claim.objects.exclude(status=S.CANCELED).filter(customer=customers[0]).count() == 1


def test_the_market_tier_comes_from_the_locations_country(world):
    CountryMarketTierFactory(country="DE", market_tier="B")
    assert create(world).market_tier == "B"


def test_linking_outcomes_recomputes_a_variable_claims_approved_payout(world, reviewer):
    migration, opportunity = variable_world(world, estimated_value_usd=Decimal("400000"))
    claim = submitted(world, activity_type=migration, opportunity=opportunity)
    claim = claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.APPROVE)
    assert claim.approved_payout_usd == Decimal("20000.00")
    sale = TransactionFactory(
        organization=world["location"].organization,
        customer=world["customer"],
        transaction_amount_usd=Decimal("100000.00"),
    )

    outcome_link(claim=claim, transactions=[sale], actor=world["actor"])
    claim.refresh_from_db()
    assert claim.approved_payout_usd == Decimal("5000.00")

    outcome_unlink(claim=claim, transactions=[sale], actor=world["actor"])
    claim.refresh_from_db()
    assert claim.approved_payout_usd == Decimal("20000.00")


def test_every_submission_problem_is_named_at_once(world):
    claim = consented(world)
    proof_attach(claim=claim, kind=ProofKind.INVOICE, file=pdf(), actor=world["actor"])
    error = _refused_submit(world, claim, delivered_on=timezone.localdate() + timedelta(days=2))
    assert set(error.message_dict) == {"proof", "delivered_on"}
    assert error.message_dict["delivered_on"] == ["The delivery date cannot be in the future."]
