"""Incentives notifications (portal.notifications), delivered to a real SMTP server: the reviewer's
"more information", approval and rejection (with the reason) and the payment that completes a claim
reach the claim's owner and submitter and the people who can work claims — never a member without
that role or anyone of another organization, never twice for one decision, again for a new round."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import RoleAssignment
from earnings.choices import PaymentStatus
from earnings.models import Payment
from earnings.services.payments import payment_status_change
from incentives.choices import ClaimStatus, ProofKind, ReviewDecision, ReviewReason
from incentives.models import ClaimReview
from incentives.notifications import CLAIM_APPROVED, CLAIM_INFO_REQUESTED, CLAIM_PAID, CLAIM_REJECTED
from incentives.services import claim_respond, claim_review, claim_submit, claims_expire, proof_attach
from incentives.services.claims.notices import claim_decision_notify
from portal.notifications.models import Notification
from portal.roles import Role
from tests.factories import (
    ActivityRateFactory,
    ActivityTypeFactory,
    ClaimFactory,
    CustomerFactory,
    EnrollmentFactory,
    PartnerLocationFactory,
    ProgramFactory,
    UserFactory,
)
from tests.incentives.test_claim_earnings import APRIL, JUNE, MAY, run
from tests.incentives.test_claims import pdf, submitted
from tests.incentives.test_payouts import approved_claim
from tests.incentives.test_payouts import build_world as payout_world

pytestmark = pytest.mark.django_db

S = ClaimStatus


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(org_a, bob):
    """As tests.incentives.test_claims: Alpha's location enrolled, a fixed workshop paying 5,000 USD,
    Fabrikam; Bob creates and submits the claims."""
    program = ProgramFactory()
    location = PartnerLocationFactory(organization=org_a, country="DE")
    EnrollmentFactory(organization=org_a, location=location, program=program)
    workshop = ActivityTypeFactory(engagement__program=program, claim_window_days=90)
    ActivityRateFactory(activity_type=workshop, fixed_fee_usd=Decimal("5000"))
    workshop.refresh_from_db()
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


@pytest.fixture
def people(org_a, alice, bob, charlie):
    """Bob (Incentives user) owns and submits the claims; Alice (Global admin) and Mia (Incentives
    marketer) can work claims too; Rita (Referrals admin) cannot; Charlie is Beta's."""
    return {
        "marketer": UserFactory(
            organization=org_a, email="mia@alpha.example", roles=[Role.INCENTIVES_MARKETER]
        ),
        "other_role": UserFactory(
            organization=org_a, email="rita@alpha.example", roles=[Role.REFERRALS_ADMIN]
        ),
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
    }


CLAIM_PEOPLE = {"bob@alpha.example", "alice@alpha.example", "mia@alpha.example"}


def told(category, claim=None) -> list[str]:
    rows = Notification.objects.filter(category=category.code)
    if claim is not None:
        rows = rows.filter(url=reverse("incentives:claim-detail", kwargs={"pk": claim.pk}))
    return sorted(rows.values_list("recipient__email", flat=True))


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_more_information_reaches_the_claims_people_by_e_mail_once_per_round(
    world, people, reviewer, org_a, smtp_server, django_capture_on_commit_callbacks
):
    claim = submitted(world)
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review(
            claim=claim,
            reviewer=reviewer,
            decision=ReviewDecision.REQUEST_INFO,
            reason_code=ReviewReason.GENERIC_CONTENT,
            comment="Please attach the findings tailored to Fabrikam",
        )
    assert claim.status == S.PARTNER_ACTION_REQUIRED
    assert told(CLAIM_INFO_REQUESTED, claim) == sorted(CLAIM_PEOPLE)  # not Rita, not Charlie
    received = smtp_server.messages()
    assert sorted(message["To"] for message in received) == sorted(CLAIM_PEOPLE)
    message = received[0]
    assert message["Subject"] == f"[{org_a.legal_name}] Claim {claim.claim_id} needs more information"
    text = text_of(message)
    assert f"https://portal.test/incentives/claims/{claim.pk}/" in text
    assert str(ReviewReason.GENERIC_CONTENT.label) in text
    assert "Please attach the findings tailored to Fabrikam." in text
    assert f"by {timezone.localtime(claim.action_due_at):%d %B %Y}" in text

    # The same decision raised again (a retried request) tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert claim_decision_notify(claim, ClaimReview.objects.get(claim=claim)) == 0
    assert len(smtp_server.messages()) == 3

    # A second round on the same claim is news again.
    proof_attach(claim=claim, kind=ProofKind.FINDINGS, file=pdf("tailored.pdf"), actor=world["actor"])
    claim = claim_respond(claim=claim, actor=world["actor"], response="Attached the tailored report.")
    with django_capture_on_commit_callbacks(execute=True):
        claim_review(
            claim=claim,
            reviewer=reviewer,
            decision=ReviewDecision.REQUEST_INFO,
            reason_code=ReviewReason.INVOICE_MISMATCH,
        )
    assert told(CLAIM_INFO_REQUESTED, claim) == sorted([*CLAIM_PEOPLE, *CLAIM_PEOPLE])
    assert len(smtp_server.messages()) == 6


def test_a_rejection_carries_its_reason_and_a_final_one_says_it_is_final(
    world, people, reviewer, smtp_server, django_capture_on_commit_callbacks
):
    claim = submitted(world)
    reject = {
        "reviewer": reviewer,
        "decision": ReviewDecision.REJECT,
        "reason_code": ReviewReason.SURVEY_MISSING,
    }
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review(claim=claim, comment="The survey link was never opened", **reject)
    assert claim.status == S.REJECTED
    assert told(CLAIM_REJECTED, claim) == sorted(CLAIM_PEOPLE)
    first = Notification.objects.filter(category=CLAIM_REJECTED.code).first()
    assert first.title == f"Claim {claim.claim_id} rejected"
    assert str(ReviewReason.SURVEY_MISSING.label) in first.body
    assert "The survey link was never opened." in first.body
    assert "resubmit it once" in first.body
    text = text_of(smtp_server.messages()[0])
    assert str(ReviewReason.SURVEY_MISSING.label) in text

    claim = claim_submit(claim=claim, actor=world["actor"])
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review(claim=claim, **reject)
    assert claim.status == S.FINAL_REJECTED
    final = Notification.objects.filter(category=CLAIM_REJECTED.code).order_by("-pk").first()
    assert final.title == f"Claim {claim.claim_id} finally rejected"
    assert "The decision is final" in final.body
    assert len(smtp_server.messages()) == 6
    assert told(CLAIM_APPROVED) == [] and told(CLAIM_INFO_REQUESTED) == []


def test_an_approval_names_the_payout_and_reaches_the_owner_who_lost_the_role(
    world, people, reviewer, smtp_server, django_capture_on_commit_callbacks
):
    claim = submitted(world)
    # Bob no longer works claims, but he created and submitted this one: he still hears of it.
    RoleAssignment.objects.filter(user=people["bob"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        claim = claim_review(claim=claim, reviewer=reviewer, decision=ReviewDecision.APPROVE)
    assert claim.status == S.APPROVED
    assert told(CLAIM_APPROVED, claim) == sorted(CLAIM_PEOPLE)
    approved = Notification.objects.get(category=CLAIM_APPROVED.code, recipient=people["bob"])
    assert approved.title == f"Claim {claim.claim_id} approved"
    assert "payout of 5,000.00 USD" in approved.body
    assert len(smtp_server.messages()) == 3


def test_a_claim_finally_rejected_by_its_deadline_is_told_once(world, people, org_a):
    claim = ClaimFactory(
        organization=org_a,
        activity_type=world["workshop"],
        location=world["location"],
        customer=world["customer"],
        status=S.PARTNER_ACTION_REQUIRED,
        created_by=people["bob"],
        action_due_at=timezone.now() - timedelta(minutes=1),
    )
    assert claims_expire() == 1
    assert claims_expire() == 0
    assert told(CLAIM_REJECTED, claim) == sorted(CLAIM_PEOPLE)
    row = Notification.objects.filter(category=CLAIM_REJECTED.code).first()
    assert "did not act within 15 days" in row.body


def test_a_sent_payment_tells_the_claims_people_it_is_paid(
    org_a, alice, bob, charlie, smtp_server, django_capture_on_commit_callbacks
):
    paid_world = payout_world(org_a)
    owner = UserFactory(organization=org_a, email="olga@alpha.example", roles=[])
    claim = approved_claim(paid_world, paid_world["workshop"], created_by=owner)
    run(APRIL)
    run(MAY)
    run(JUNE)
    payment = Payment.objects.get()
    payment_status_change(payment=payment, to_status=PaymentStatus.IN_PROGRESS, actor=alice)
    with django_capture_on_commit_callbacks(execute=True):
        payment_status_change(payment=payment, to_status=PaymentStatus.SENT, actor=alice)
    claim.refresh_from_db()
    assert claim.status == S.COMPLETED
    # The owner, and whoever can work claims (Alice, Bob); never Beta's Charlie.
    assert told(CLAIM_PAID, claim) == ["alice@alpha.example", "bob@alpha.example", "olga@alpha.example"]
    paid = Notification.objects.filter(category=CLAIM_PAID.code).first()
    assert paid.title == f"Claim {claim.claim_id} paid"
    assert payment.payment_id in paid.body
    paid_mails = [m for m in smtp_server.messages() if m["Subject"].endswith(f"Claim {claim.claim_id} paid")]
    assert sorted(m["To"] for m in paid_mails) == told(CLAIM_PAID, claim)
    assert f"https://portal.test/incentives/claims/{claim.pk}/" in text_of(paid_mails[0])


def test_the_preferences_page_lists_the_incentives_categories(alice, verified_client):
    page = verified_client(alice).get(reverse("portal:notification-preferences")).content.decode()
    for category in (CLAIM_INFO_REQUESTED, CLAIM_APPROVED, CLAIM_REJECTED, CLAIM_PAID):
        assert category.label in page
