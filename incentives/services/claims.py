"""The claim lifecycle (spec/incentives.md §6–§8): creation, consent, proof, review, expiry, outcomes.

Every status change goes through `claim_transition`, which checks `TRANSITIONS`, records the
change in the claim's history, writes an audit row and emits "incentives.claim.status_changed".
Each service locks the claim row first, so two requests on one claim are applied one after the
other and each sees the other's result.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from accounts.action_center import action_item_raise, action_item_resolve
from accounts.audit import audit_record
from accounts.capabilities import Capability, can, is_vendor_staff, locations_granting
from accounts.choices import ActionItemCode, ActionItemStatus, Role, Severity
from accounts.models import ActionItem, Customer, PartnerLocation
from earnings.models import Transaction
from incentives.choices import (
    TERMINAL_STATUSES,
    ClaimStatus,
    CustomerIdType,
    ProofKind,
    ReviewDecision,
    ReviewReason,
)
from incentives.models import ActivityType, Claim, ClaimReview, Opportunity, OutcomeLink, ProofDocument
from incentives.services.eligibility import (
    EligibilityCode,
    RuleFailure,
    customer_eligibility,
    market_tier_of,
)
from incentives.services.payouts import claim_payouts_compute, potential_payout
from portal import uploads
from portal.history import history_record
from portal.models import HistoryEvent
from portal.webhooks import register_event, webhook_emit

__all__ = (
    "CLAIM_STATUS_CHANGED",
    "PROOF_STATUSES",
    "TRANSITIONS",
    "ClaimRefused",
    "claim_cancel",
    "claim_create",
    "claim_respond",
    "claim_review",
    "claim_review_start",
    "claim_submit",
    "claim_transition",
    "claims_expire",
    "claims_remind",
    "consent_claim",
    "consent_record",
    "consent_request",
    "outcome_link",
    "outcome_unlink",
    "proof_attach",
    "proof_remove",
    "proof_missing_kinds",
)

CLAIM_STATUS_CHANGED = register_event(
    "incentives.claim.status_changed",
    "A claim moved to another status (e.g. Submitted, Approved, Partner action required).",
)

S = ClaimStatus
_CANCEL_OR_EXPIRE = frozenset({S.CANCELED, S.EXPIRED})
_DECISIONS = frozenset({S.APPROVED, S.PARTNER_ACTION_REQUIRED, S.REJECTED, S.FINAL_REJECTED})
#: Where a claim may go from each status (spec §6). Terminal statuses go nowhere. Any live claim may
#: be canceled by the partner, except an approved one: its earnings exist, and taking them back is a
#: reversal in the Earnings ledger. Only claims with a running deadline expire; the ones waiting for
#: the partner after a review end as Final rejected when their 15 days pass.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING_CONSENT}) | _CANCEL_OR_EXPIRE,
    S.PENDING_CONSENT: frozenset({S.CONSENT_DECLINED, S.IN_PROGRESS}) | _CANCEL_OR_EXPIRE,
    S.IN_PROGRESS: frozenset({S.PENDING_POE}) | _CANCEL_OR_EXPIRE,
    S.PENDING_POE: frozenset({S.SUBMITTED}) | _CANCEL_OR_EXPIRE,
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.CANCELED}) | _DECISIONS,
    S.UNDER_REVIEW: frozenset({S.CANCELED}) | _DECISIONS,
    S.PARTNER_ACTION_REQUIRED: frozenset({S.SUBMITTED, S.FINAL_REJECTED, S.CANCELED}),
    S.REJECTED: frozenset({S.SUBMITTED, S.FINAL_REJECTED, S.CANCELED}),
    S.APPROVED: frozenset({S.COMPLETED}),
    **{status: frozenset() for status in TERMINAL_STATUSES},
}

#: Statuses in which the partner may add or remove proof of execution.
PROOF_STATUSES = frozenset({S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED})
#: File types accepted as proof (sniffed from the content, never taken from the name).
PROOF_TYPES = frozenset({uploads.PDF, uploads.PNG, uploads.JPEG, uploads.DOCX, uploads.XLSX, uploads.PPTX})
_CONTENT_TYPES = {
    uploads.PDF: "application/pdf",
    uploads.PNG: "image/png",
    uploads.JPEG: "image/jpeg",
    uploads.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    uploads.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    uploads.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_EXTENSIONS = {uploads.JPEG: "jpg"}
MAX_PROOF_FILES = 10

DRAFT_DAYS = 30
CONSENT_DAYS = 14
ACTION_DAYS = 15
REMIND_DAYS = 7

CONSENT_SALT = "incentives.claim.consent"
DUPLICATE_MESSAGE = (
    "This customer already has a live claim for this activity, by your organization or another partner."
)

#: Partners who act on claims: the Action Center shows them the claim reminders.
_CLAIM_ROLES = [Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER, Role.INCENTIVES_MARKETER]


class ClaimRefused(ValidationError):
    """A claim that may not be created: one message per failed rule, coded with the rule's code."""

    def __init__(self, failures: list[RuleFailure]):
        self.failures = list(failures)
        super().__init__([ValidationError(failure.message, code=failure.code) for failure in self.failures])


# --- Transitions ----------------------------------------------------------------------------------


def _lock(claim: Claim) -> Claim:
    return Claim.objects.select_for_update().select_related("activity_type").get(pk=claim.pk)


def _jsonable(value: Any) -> Any:
    """Dates, times and amounts as the audit log's JSON stores them."""
    if isinstance(value, date | Decimal):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def _refuse(message: str, *, field: str = "status", code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def claim_transition(
    *, claim: Claim, to_status: str, actor: Any, note: str = "", fields: dict[str, Any] | None = None
) -> Claim:
    """Move a locked claim to `to_status` if spec §6 allows it, saving `fields` with the status.

    Writes the history event, the audit row and the webhook; closes the Action Center items the
    new status makes moot. Callers lock the claim (`_lock`) before they check anything.
    """
    from_status = claim.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_status, ()))) or "none (the claim is closed)"
        raise _refuse(
            f"A claim in {from_status} cannot move to {to_status}; allowed: {allowed}.", code="transition"
        )
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        changes: dict[str, Any] = {"status": [from_status, to_status]}
        for name, value in (fields or {}).items():
            changes[name] = [_jsonable(getattr(claim, name)), _jsonable(value)]
            setattr(claim, name, value)
        claim.status = to_status
        claim.updated_at = now
        claim.save(update_fields=["status", "updated_at", *(fields or {})])
        history_record(subject=claim, actor=actor, from_status=from_status, to_status=to_status, note=note)
        audit_record(
            actor=actor,
            action="incentives.claim.status_changed",
            organization_id=claim.organization_id,
            target=claim,
            changes={**changes, "note": note} if note else changes,
        )
        webhook_emit(
            organization_id=claim.organization_id,
            event=CLAIM_STATUS_CHANGED,
            data={
                "claimId": claim.claim_id,
                "fromStatus": from_status,
                "status": to_status,
                "activityCode": claim.activity_type.code,
                "customerTenantId": str(claim.customer_tenant_id),
                "note": note,
            },
        )
        _reminders_settle(claim)
    return claim


# --- Creation -------------------------------------------------------------------------------------


def _claim_id_next(year: int) -> str:
    """The next "CLM-<year>-<6 digits>", under a transaction-scoped advisory lock: no two equal."""
    prefix = f"CLM-{year}-"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"incentives.claim_id.{year}"])
    last = Claim.objects.filter(claim_id__startswith=prefix).aggregate(last=Max("claim_id"))["last"]
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _lock_customer_activity(activity_type: ActivityType, tenant_id: uuid.UUID) -> None:
    """Serialise claim creation per activity and customer tenant, so R1 and R2 are checked on
    committed data: a second partner waits here until the first claim is in the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"incentives.claim.{activity_type.pk}.{tenant_id}"]
        )


def _check_owner(actor: Any, location: PartnerLocation, customer: Customer, opportunity: Opportunity | None):
    if not can(actor, Capability.INCENTIVES_CLAIMS):
        raise PermissionDenied("Creating claims needs the Incentives admin, user or marketer role.")
    errors: dict[str, str] = {}
    if location.organization_id != actor.organization_id:
        errors["location"] = "This location does not belong to your organization."
    else:
        granted = locations_granting(actor, Capability.INCENTIVES_CLAIMS)
        if granted is not None and location.pk not in granted:
            errors["location"] = "Your incentives role does not cover this location."
    if customer.organization_id != actor.organization_id:
        errors["customer"] = "This customer is not one of your organization's customers."
    if opportunity is not None:
        if opportunity.organization_id != actor.organization_id:
            errors["opportunity"] = "This opportunity is not shared with your organization."
        elif opportunity.customer_id != customer.pk:
            errors["opportunity"] = f"This opportunity belongs to another customer, not {customer.name}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def claim_create(
    *,
    actor: Any,
    activity_type: ActivityType,
    location: PartnerLocation,
    customer: Customer,
    friendly_name: str,
    opportunity: Opportunity | None = None,
    contact_name: str = "",
    contact_email: str = "",
    estimated_deal_size_usd: Decimal | None = None,
    customer_id_type: str | None = None,
) -> Claim:
    """Create a Draft claim, or raise `ClaimRefused` naming every eligibility rule it fails.

    The customer ID type defaults to the MSX opportunity ID for a claim on an opportunity and to
    the tenant ID otherwise. The potential payout shown before the partner committed is recorded.
    """
    _check_owner(actor, location, customer, opportunity)
    if customer_id_type is None:
        customer_id_type = CustomerIdType.MSX_OPPORTUNITY if opportunity else CustomerIdType.TENANT_ID
    if customer_id_type not in CustomerIdType.values:
        raise _refuse(f"Unknown customer ID type {customer_id_type!r}.", field="customer_id_type")
    if estimated_deal_size_usd is not None and Decimal(estimated_deal_size_usd) < 0:
        raise _refuse("The estimated deal size cannot be negative.", field="estimated_deal_size_usd")

    _lock_customer_activity(activity_type, customer.tenant_id)
    eligibility = customer_eligibility(
        activity_type=activity_type, customer=customer, location=location, opportunity=opportunity
    )
    if not eligibility.eligible:
        raise ClaimRefused(eligibility.failures)
    payout = potential_payout(activity_type=activity_type, location=location, opportunity=opportunity)
    now = timezone.now()
    claim = Claim(
        organization_id=actor.organization_id,
        claim_id=_claim_id_next(timezone.localdate().year),
        activity_type=activity_type,
        location=location,
        customer=customer,
        customer_tenant_id=customer.tenant_id,
        customer_id_type=customer_id_type,
        opportunity=opportunity,
        friendly_name=friendly_name.strip(),
        market_tier=market_tier_of(location),
        estimated_deal_size_usd=estimated_deal_size_usd,
        potential_payout_usd=payout.amount_usd,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    claim.full_clean(validate_unique=False, validate_constraints=False)
    try:
        # The partial unique index (R1) is the last line of defence should anything bypass the lock.
        with transaction.atomic():
            claim.save(force_insert=True)
    except IntegrityError as exc:
        if "incentives_one_live_claim_per_customer" not in str(exc):
            raise
        raise ClaimRefused([RuleFailure(EligibilityCode.DUPLICATE_CLAIM, DUPLICATE_MESSAGE)]) from exc
    history_record(subject=claim, actor=actor, to_status=claim.status, note="Claim created.")
    audit_record(
        actor=actor,
        action="incentives.claim.created",
        organization_id=claim.organization_id,
        target=claim,
        changes={
            "activity": activity_type.code,
            "customer": customer.name,
            "potential_payout_usd": str(claim.potential_payout_usd),
        },
    )
    return claim


# --- Customer consent -----------------------------------------------------------------------------


def consent_request(*, claim: Claim, actor: Any) -> str:
    """Draft → Pending customer consent; returns the signed path the customer opens without login.

    The link is valid for 14 days; after that the claim expires (spec §6).
    """
    with transaction.atomic():
        claim = _lock(claim)
        _check_partner(actor, claim)
        if claim.status == S.DRAFT and not claim.contact_email:
            raise _refuse(
                "Enter the customer contact's e-mail address before asking for consent.",
                field="contact_email",
                code="required",
            )
        claim = claim_transition(
            claim=claim,
            to_status=S.PENDING_CONSENT,
            actor=actor,
            note=f"Consent requested from {claim.contact_email}.",
        )
    token = signing.dumps({"claim": claim.pk, "claim_id": claim.claim_id}, salt=CONSENT_SALT)
    return reverse("incentives:consent", kwargs={"token": token})


def consent_claim(token: str) -> Claim:
    """The claim a consent link is for; a tampered, foreign or expired link is refused."""
    try:
        data = signing.loads(token, salt=CONSENT_SALT, max_age=timedelta(days=CONSENT_DAYS))
    except signing.SignatureExpired as exc:
        raise _refuse("This consent link has expired.", field="token", code="expired") from exc
    except signing.BadSignature as exc:
        raise _refuse("This consent link is not valid.", field="token", code="invalid") from exc
    claim = Claim.objects.filter(pk=data.get("claim"), claim_id=data.get("claim_id")).first()
    if claim is None:
        raise _refuse("This consent link is not valid.", field="token", code="invalid")
    return claim


@transaction.atomic
def consent_record(*, token: str, accept: bool, note: str = "") -> Claim:
    """The customer's answer: accept → In progress (the claim window starts), decline → Consent declined."""
    claim = _lock(consent_claim(token))
    if claim.status != S.PENDING_CONSENT:
        raise _refuse(
            f"This consent request is no longer open: the claim is {claim.status}.", code="answered"
        )
    # The customer has no account: history and audit name the contact the link was sent to.
    customer = f"Customer contact {claim.contact_email}".strip()
    if not accept:
        return claim_transition(
            claim=claim, to_status=S.CONSENT_DECLINED, actor=customer, note=note or "The customer declined."
        )
    now = timezone.now()
    return claim_transition(
        claim=claim,
        to_status=S.IN_PROGRESS,
        actor=customer,
        note=note or "The customer consented.",
        fields={"consent_at": now, "expires_at": now + timedelta(days=claim.activity_type.claim_window_days)},
    )


# --- Proof of execution ---------------------------------------------------------------------------


def _check_partner(actor: Any, claim: Claim) -> None:
    if not can(actor, Capability.INCENTIVES_CLAIMS, claim.organization_id):
        raise PermissionDenied("Working on claims needs the Incentives admin, user or marketer role.")


def proof_missing_kinds(claim: Claim, present: Iterable[str] | None = None) -> list[str]:
    """The required proof kinds (spec §7) the claim has no document of yet, in catalogue order.

    `present`: the kinds attached, when the caller has them already.
    """
    if present is None:
        present = ProofDocument.objects.filter(claim=claim).values_list("kind", flat=True)
    attached = set(present)
    return [kind for kind in claim.activity_type.required_proof if kind not in attached]


def _kind_labels(kinds: Iterable[str]) -> str:
    return ", ".join(str(ProofKind(kind).label) for kind in kinds)


def proof_attach(*, claim: Claim, kind: str, file: UploadedFile, actor: Any) -> ProofDocument:
    """Attach one proof document; the file's type is sniffed and it is stored under a random name.

    In progress → Pending POE with the first document.
    """
    _check_partner(actor, claim)
    if kind not in ProofKind.values:
        raise _refuse(
            f"Unknown proof kind {kind!r}; expected one of {', '.join(ProofKind.values)}.", field="kind"
        )
    max_bytes = settings.INCENTIVES_PROOF_MAX_MB * 1024 * 1024
    try:
        detected = uploads.validate_upload(file, allowed=set(PROOF_TYPES), max_bytes=max_bytes)
    except uploads.UploadRejected as exc:
        raise _refuse(exc.message, field="file", code="file") from exc
    with transaction.atomic():
        claim = _lock(claim)
        _check_partner(actor, claim)
        if claim.status not in PROOF_STATUSES:
            raise _refuse(f"Proof cannot be changed while the claim is {claim.status}.")
        count = ProofDocument.objects.filter(claim=claim).count()
        if count >= MAX_PROOF_FILES:
            raise _refuse(
                f"A claim holds at most {MAX_PROOF_FILES} files; remove one before adding another.",
                field="file",
                code="too_many",
            )
        digest = hashlib.sha256()
        file.seek(0)
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        document = ProofDocument(
            organization_id=claim.organization_id,
            claim=claim,
            kind=kind,
            original_name=re.split(r"[\\/]", file.name or "proof")[-1][:255] or "proof",
            content_type=_CONTENT_TYPES[detected],
            size=file.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        # The stored name is random: the partner's file name never reaches the file system.
        document.file.save(f"{uuid.uuid4().hex}.{_EXTENSIONS.get(detected, detected)}", file, save=False)
        stored = document.file.name
        try:
            document.save(force_insert=True)
            audit_record(
                actor=actor,
                action="incentives.claim.proof_attached",
                organization_id=claim.organization_id,
                target=claim,
                changes={"kind": kind, "file": document.original_name, "sha256": document.sha256},
            )
            if claim.status == S.IN_PROGRESS:
                claim_transition(
                    claim=claim,
                    to_status=S.PENDING_POE,
                    actor=actor,
                    note=f"{ProofKind(kind).label} attached.",
                )
            else:
                _reminders_settle(claim)
        except BaseException:
            document.file.storage.delete(stored)
            raise
    return document


@transaction.atomic
def proof_remove(*, document: ProofDocument, actor: Any) -> None:
    claim = _lock(document.claim)
    _check_partner(actor, claim)
    if claim.status not in PROOF_STATUSES:
        raise _refuse(f"Proof cannot be changed while the claim is {claim.status}.")
    storage, name = document.file.storage, document.file.name
    audit_record(
        actor=actor,
        action="incentives.claim.proof_removed",
        organization_id=claim.organization_id,
        target=claim,
        changes={"kind": document.kind, "file": document.original_name, "sha256": document.sha256},
    )
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- Submission -----------------------------------------------------------------------------------


def _deadline(claim: Claim) -> datetime | None:
    """When the partner's current step is due: the claim window, or 15 days after a review."""
    if claim.status in (S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        return claim.action_due_at
    if claim.status in (S.DRAFT, S.PENDING_CONSENT, S.IN_PROGRESS, S.PENDING_POE):
        return claim.expires_at
    return None


def _submit(claim: Claim, *, actor: Any, delivered_on: date | None, note: str) -> Claim:
    """Checks shared by submit and respond; the claim is locked. Nothing changes when one fails."""
    now = timezone.now()
    if claim.status not in (S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        if claim.status == S.IN_PROGRESS:
            raise _refuse(
                "Attach the proof of execution before submitting the claim.",
                field="proof",
                code="proof_missing",
            )
        raise _refuse(f"A claim in {claim.status} cannot be submitted.", code="transition")
    if claim.status == S.REJECTED and claim.resubmit_count >= 1:
        raise _refuse(
            "This claim was already resubmitted once after a rejection; it cannot be resubmitted again.",
            code="resubmitted",
        )
    # Every problem is named at once, so the partner fixes them together.
    errors: dict[str, list[ValidationError]] = {}

    def problem(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    deadline = _deadline(claim)
    if deadline is not None and now > deadline:
        problem(
            "status",
            "late",
            f"The submission is late: the deadline was {timezone.localtime(deadline):%d %B %Y %H:%M}.",
        )
    missing = proof_missing_kinds(claim)
    if missing:
        problem("proof", "proof_missing", f"Proof of execution is missing: {_kind_labels(missing)}.")
    delivered_on = delivered_on or claim.delivered_on
    activity = claim.activity_type
    if delivered_on is None:
        problem("delivered_on", "required", "Enter the date the activity was delivered.")
    elif not activity.starts_on <= delivered_on <= activity.ends_on:
        problem(
            "delivered_on",
            "outside_dates",
            f"The activity was delivered on {delivered_on:%d %B %Y}, outside the activity's dates "
            f"({activity.starts_on:%d %B %Y} – {activity.ends_on:%d %B %Y}).",
        )
    elif delivered_on > timezone.localdate():
        problem("delivered_on", "future", "The delivery date cannot be in the future.")
    elif claim.status == S.PENDING_POE:
        submit_by = delivered_on + timedelta(days=activity.submission_deadline_days)
        if timezone.localdate() > submit_by:
            problem(
                "delivered_on",
                "late",
                f"The submission is late: claims are due within {activity.submission_deadline_days} days "
                f"of delivery, by {submit_by:%d %B %Y}.",
            )
    if errors:
        raise ValidationError(errors)
    fields: dict[str, Any] = {"delivered_on": delivered_on, "submitted_at": now, "action_due_at": None}
    if claim.status == S.REJECTED:
        fields["resubmit_count"] = claim.resubmit_count + 1
    return claim_transition(claim=claim, to_status=S.SUBMITTED, actor=actor, note=note, fields=fields)


@transaction.atomic
def claim_submit(*, claim: Claim, actor: Any, delivered_on: date | None = None) -> Claim:
    """Pending POE, Partner action required or Rejected (once) → Submitted, with every proof present."""
    claim = _lock(claim)
    _check_partner(actor, claim)
    note = "Resubmitted after rejection." if claim.status == S.REJECTED else ""
    return _submit(claim, actor=actor, delivered_on=delivered_on, note=note)


@transaction.atomic
def claim_respond(*, claim: Claim, actor: Any, response: str) -> Claim:
    """The partner's answer to the latest review: recorded on the review, and the claim is resubmitted."""
    claim = _lock(claim)
    _check_partner(actor, claim)
    response = response.strip()
    if not response:
        raise _refuse("Write an answer to the reviewer.", field="response", code="required")
    if claim.status != S.PARTNER_ACTION_REQUIRED:
        raise _refuse(f"Only a claim in Partner action required can be answered; this one is {claim.status}.")
    review = ClaimReview.objects.filter(claim=claim).order_by("-decided_at", "-pk").first()
    if review is not None:
        review.partner_response = response
        review.responded_at = timezone.now()
        review.save(update_fields=["partner_response", "responded_at"])
    return _submit(claim, actor=actor, delivered_on=None, note=response)


# --- Review (vendor staff) ------------------------------------------------------------------------


def _check_reviewer(reviewer: Any) -> None:
    if not is_vendor_staff(reviewer):
        raise PermissionDenied("Claims are reviewed by vendor staff only.")


@transaction.atomic
def claim_review_start(*, claim: Claim, reviewer: Any) -> Claim:
    """Submitted → Under review: a reviewer took the claim."""
    _check_reviewer(reviewer)
    claim = _lock(claim)
    return claim_transition(claim=claim, to_status=S.UNDER_REVIEW, actor=reviewer, note="Review started.")


@transaction.atomic
def claim_review(
    *, claim: Claim, reviewer: Any, decision: str, reason_code: str = "", comment: str = ""
) -> Claim:
    """A reviewer's decision on a Submitted or Under review claim (spec §8).

    Ask for information or reject: the partner has 15 days to act. A claim rejected once before
    (and resubmitted) is rejected finally. Approval computes the approved payout.
    """
    _check_reviewer(reviewer)
    claim = _lock(claim)
    if decision not in ReviewDecision.values:
        raise _refuse(f"Unknown decision {decision!r}.", field="decision")
    if reason_code and reason_code not in ReviewReason.values:
        raise _refuse(f"Unknown reason code {reason_code!r}.", field="reason_code")
    if decision != ReviewDecision.APPROVE and not reason_code:
        raise _refuse("Choose the reason the partner will see.", field="reason_code", code="required")
    if claim.status not in (S.SUBMITTED, S.UNDER_REVIEW):
        raise _refuse(f"Only submitted claims can be reviewed; this one is {claim.status}.")
    now = timezone.now()
    fields: dict[str, Any] = {"decided_at": now}
    if decision == ReviewDecision.APPROVE:
        to_status = S.APPROVED
    elif decision == ReviewDecision.REQUEST_INFO:
        to_status = S.PARTNER_ACTION_REQUIRED
        fields["action_due_at"] = now + timedelta(days=ACTION_DAYS)
    elif decision == ReviewDecision.REJECT and claim.resubmit_count == 0:
        to_status = S.REJECTED
        fields["action_due_at"] = now + timedelta(days=ACTION_DAYS)
    else:
        to_status = S.FINAL_REJECTED
        fields["action_due_at"] = None
    ClaimReview.objects.create(
        organization_id=claim.organization_id,
        claim=claim,
        reviewer=reviewer,
        decision=decision,
        reason_code=reason_code,
        comment=comment.strip(),
        decided_at=now,
    )
    reason = str(ReviewReason(reason_code).label) if reason_code else ""
    note = " ".join(part for part in (reason, comment.strip()) if part)
    claim = claim_transition(claim=claim, to_status=to_status, actor=reviewer, note=note, fields=fields)
    if to_status == S.APPROVED:
        claim_payouts_compute(claim_ids=[claim.pk])
        claim.refresh_from_db()
    return claim


# --- Cancel, expire, remind -----------------------------------------------------------------------


@transaction.atomic
def claim_cancel(*, claim: Claim, actor: Any, note: str = "") -> Claim:
    """The partner withdraws a live claim; the customer becomes free for other partners (R1)."""
    claim = _lock(claim)
    _check_partner(actor, claim)
    return claim_transition(claim=claim, to_status=S.CANCELED, actor=actor, note=note.strip())


def _entered_status_at() -> Subquery:
    """When each claim entered its current status, from its history."""
    return Subquery(
        HistoryEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim),
            object_id=Cast(OuterRef("pk"), CharField()),
            to_status=OuterRef("status"),
        )
        .order_by("-at")
        .values("at")[:1]
    )


def _overdue_rules(now: datetime) -> list[tuple[Any, str, str]]:
    """(claims past a deadline, the status they end in, the note) per rule of spec §6."""
    draft_before = now - timedelta(days=DRAFT_DAYS)
    consent_before = now - timedelta(days=CONSENT_DAYS)
    pending = (
        Claim.objects.filter(status=S.PENDING_CONSENT)
        .alias(entered=_entered_status_at())
        .filter(Q(entered__lt=consent_before) | Q(entered__isnull=True, updated_at__lt=consent_before))
    )
    return [
        (
            Claim.objects.filter(status=S.DRAFT, created_at__lt=draft_before),
            S.EXPIRED,
            f"Not sent to the customer within {DRAFT_DAYS} days.",
        ),
        (pending, S.EXPIRED, f"The customer did not answer within {CONSENT_DAYS} days."),
        (
            Claim.objects.filter(status__in=[S.IN_PROGRESS, S.PENDING_POE], expires_at__lt=now),
            S.EXPIRED,
            "Not submitted within the claim window.",
        ),
        (
            Claim.objects.filter(status__in=[S.PARTNER_ACTION_REQUIRED, S.REJECTED], action_due_at__lt=now),
            S.FINAL_REJECTED,
            f"The partner did not act within {ACTION_DAYS} days of the review.",
        ),
    ]


def claims_expire(*, now: datetime | None = None) -> int:
    """Close every claim past its deadline (spec §6), each in its own transaction; safe to rerun.

    Each claim is locked and checked against its rule again, so a claim the partner acted on
    since it was selected is left alone; a claim locked by a request right now waits for the next run.
    """
    now = now or timezone.now()
    closed = 0
    for overdue, to_status, note in _overdue_rules(now):
        for pk in list(overdue.values_list("pk", flat=True)):
            with transaction.atomic():
                claim = (
                    overdue.filter(pk=pk)
                    .select_related("activity_type")
                    .select_for_update(skip_locked=True, of=("self",))
                    .first()
                )
                if claim is None:
                    continue
                claim_transition(claim=claim, to_status=to_status, actor=None, note=note)
                closed += 1
    return closed


def _reminder_key(claim: Claim, reason: str) -> str:
    return f"incentives-claim-{claim.pk}-{reason}"


def _claim_url(claim: Claim) -> str:
    return reverse("incentives:claim-detail", kwargs={"pk": claim.pk})


def _reminders_settle(claim: Claim) -> None:
    """Resolve the claim's Action Center items whose cause the claim's current state removed."""
    if claim.status != S.PARTNER_ACTION_REQUIRED:
        action_item_resolve(organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "info"))
    if claim.status not in (S.IN_PROGRESS, S.PENDING_POE) or not proof_missing_kinds(claim):
        action_item_resolve(organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "proof"))
    if claim.status not in (S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED):
        action_item_resolve(
            organization_id=claim.organization_id, dedupe_key=_reminder_key(claim, "deadline")
        )


def _remind(claim: Claim, reason: str, *, code: str, title: str, body: str, due_at, severity) -> None:
    action_item_raise(
        organization_id=claim.organization_id,
        code=code,
        dedupe_key=_reminder_key(claim, reason),
        title=title[:200],
        body=body,
        severity=severity,
        due_at=due_at,
        target_url=_claim_url(claim),
        audience_roles=_CLAIM_ROLES,
        location_id=claim.location_id,
    )


def claims_remind(*, now: datetime | None = None) -> int:
    """Raise or refresh the Action Center items of claims that need the partner; resolve the rest.

    More information requested, proof missing, and a deadline within 7 days: one item per claim
    and reason (idempotent). Returns how many items this run raised or refreshed.
    """
    now = now or timezone.now()
    live = (
        Claim.objects.filter(status__in=[S.IN_PROGRESS, S.PENDING_POE, S.PARTNER_ACTION_REQUIRED, S.REJECTED])
        .select_related("activity_type", "customer")
        .prefetch_related(
            Prefetch("proof", queryset=ProofDocument.objects.only("pk", "claim_id", "kind")),
            Prefetch("reviews", queryset=ClaimReview.objects.order_by("-decided_at", "-pk")),
        )
        .order_by("pk")
    )
    raised: set[tuple[int, str]] = set()
    for claim in live:
        if claim.status == S.PARTNER_ACTION_REQUIRED:
            review = next(iter(claim.reviews.all()), None)
            reason = review.get_reason_code_display() if review and review.reason_code else ""
            _remind(
                claim,
                "info",
                code=ActionItemCode.CLAIM_INFO_REQUESTED,
                title=f"Claim {claim.claim_id}: the reviewer asked for more information",
                body=" ".join(p for p in (reason, review.comment if review else "") if p),
                due_at=claim.action_due_at,
                severity=Severity.HIGH,
            )
            raised.add((claim.organization_id, _reminder_key(claim, "info")))
        if claim.status in (S.IN_PROGRESS, S.PENDING_POE):
            missing = proof_missing_kinds(claim, [document.kind for document in claim.proof.all()])
            if missing:
                _remind(
                    claim,
                    "proof",
                    code=ActionItemCode.CLAIM_PROOF_MISSING,
                    title=f"Claim {claim.claim_id}: proof of execution missing",
                    body=f"Attach {_kind_labels(missing)} and submit the claim.",
                    due_at=claim.expires_at,
                    severity=Severity.MEDIUM,
                )
                raised.add((claim.organization_id, _reminder_key(claim, "proof")))
        deadline = _deadline(claim)
        if deadline is not None and now <= deadline <= now + timedelta(days=REMIND_DAYS):
            _remind(
                claim,
                "deadline",
                code=ActionItemCode.CLAIM_DEADLINE_NEAR,
                title=f"Claim {claim.claim_id} is due on {timezone.localtime(deadline):%d %B %Y}",
                body=f"{claim.friendly_name} for {claim.customer.name}: submit it before the deadline or it "
                f"closes without payment.",
                due_at=deadline,
                severity=Severity.HIGH,
            )
            raised.add((claim.organization_id, _reminder_key(claim, "deadline")))
    stale = ActionItem.objects.filter(
        code__in=[
            ActionItemCode.CLAIM_INFO_REQUESTED,
            ActionItemCode.CLAIM_PROOF_MISSING,
            ActionItemCode.CLAIM_DEADLINE_NEAR,
        ],
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", "dedupe_key")
    for organization_id, dedupe_key in list(stale):
        if (organization_id, dedupe_key) not in raised:
            action_item_resolve(organization_id=organization_id, dedupe_key=dedupe_key)
    return len(raised)


# --- Outcomes (phase 3) ---------------------------------------------------------------------------

_OUTCOME_STATUSES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.COMPLETED})


def _outcome_check(claim: Claim, actor: Any, transactions: Iterable[Transaction]) -> list[Transaction]:
    _check_partner(actor, claim)
    if claim.status not in _OUTCOME_STATUSES:
        raise _refuse(
            "Only submitted, approved or completed claims are linked to outcomes; "
            f"this one is {claim.status}."
        )
    rows = list(transactions)
    if not rows:
        raise _refuse("Choose at least one transaction.", field="transactions", code="required")
    foreign = [
        row.transaction_id
        for row in rows
        if row.organization_id != claim.organization_id or row.customer_id != claim.customer_id
    ]
    if foreign:
        raise _refuse(
            f"These transactions are not {claim.customer.name}'s: {', '.join(sorted(foreign))}.",
            field="transactions",
            code="other_customer",
        )
    return rows


@transaction.atomic
def outcome_link(*, claim: Claim, transactions: Iterable[Transaction], actor: Any) -> int:
    """Link the claim to the customer's transactions (one activity, many outcomes; many activities,
    one outcome); returns how many links are new. The payout is recomputed from the outcomes."""
    claim = _lock(claim)
    rows = _outcome_check(claim, actor, transactions)
    existing = set(OutcomeLink.objects.filter(claim=claim).values_list("transaction_id", flat=True))
    new = [row for row in rows if row.pk not in existing]
    OutcomeLink.objects.bulk_create(
        [
            OutcomeLink(organization_id=claim.organization_id, claim=claim, transaction=row, linked_by=actor)
            for row in new
        ],
        ignore_conflicts=True,
    )
    if new:
        audit_record(
            actor=actor,
            action="incentives.claim.outcomes_linked",
            organization_id=claim.organization_id,
            target=claim,
            changes={"transactions": sorted(row.transaction_id for row in new)},
        )
        _recompute_with_sharers(claim, [row.pk for row in new])
    return len(new)


@transaction.atomic
def outcome_unlink(*, claim: Claim, transactions: Iterable[Transaction], actor: Any) -> int:
    """Remove links; returns how many were removed. The payout is recomputed."""
    claim = _lock(claim)
    rows = _outcome_check(claim, actor, transactions)
    ids = [row.pk for row in rows]
    removed, _ = OutcomeLink.objects.filter(claim=claim, transaction_id__in=ids).delete()
    if removed:
        audit_record(
            actor=actor,
            action="incentives.claim.outcomes_unlinked",
            organization_id=claim.organization_id,
            target=claim,
            changes={"transactions": sorted(row.transaction_id for row in rows)},
        )
        _recompute_with_sharers(claim, ids)
    return removed


def _recompute_with_sharers(claim: Claim, transaction_ids: list[int]) -> None:
    """A transaction's amount is shared among its claims: every claim on it is recomputed."""
    sharers = set(
        OutcomeLink.objects.filter(transaction_id__in=transaction_ids).values_list("claim_id", flat=True)
    )
    claim_payouts_compute(claim_ids=sorted(sharers | {claim.pk}))
