"""Verification (spec/accounts.md §3.2, §4): program enrollments and their checks, and the
verification documents with their assisted assessment.

Every status change of a check goes through `check_move`, which checks `CHECK_TRANSITIONS`, writes
the audit row, appends the move to the check's history (portal.history: who, from, to, the reason
as its note, the appeals used) and raises or resolves the Action Center item. The legal profile
(`legal_profile`) and compliance training (`training`) have their own modules.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, Severity
from accounts.models import Organization
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal import uploads
from portal.audit import audit_record
from portal.capabilities import is_vendor_staff
from portal.history import Entry, history_record, history_record_many
from portal.locks import lock
from portal.roles import Role
from security.choices import (
    CHECK_TRANSITIONS,
    CHECK_UPLOAD_STATUSES,
    MAX_APPEALS,
    CheckKind,
    CheckStatus,
    DocumentType,
    Program,
    ReviewerDecision,
)
from security.models import ProgramEnrollment, VerificationCheck, VerificationDocument
from security.services.notices import verification_result_notify

if TYPE_CHECKING:
    from security.verification.assist import Assessment

__all__ = (
    "ACCEPTED",
    "ACTION_REQUIRED",
    "DOCUMENT_TYPES",
    "EXECUTABLE_MESSAGE",
    "PROGRAM_CHECKS",
    "REJECTED",
    "REVIEW_DECISIONS",
    "check_appeal",
    "check_move",
    "check_transition",
    "document_review",
    "document_upload",
    "program_enroll",
    "verification_status",
)

CS = CheckStatus
K = CheckKind

#: The checks each program's verification runs (spec/accounts.md §4.1). Every program verifies the
#: primary contact's mailbox and employment and the legal entity with its address; the CSP programs,
#: whose partners administer customer tenants, also verify the contact's identity, and the
#: programs that bill directly also the company's domain.
PROGRAM_CHECKS: dict[str, tuple[str, ...]] = {
    Program.AI_CLOUD_PARTNER_PROGRAM: (K.EMAIL, K.EMPLOYMENT, K.BUSINESS, K.ADDRESS),
    Program.CSP_DIRECT_BILL: (K.EMAIL, K.EMPLOYMENT, K.BUSINESS, K.ADDRESS, K.IDENTITY, K.DOMAIN),
    Program.CSP_INDIRECT_PROVIDER: (K.EMAIL, K.EMPLOYMENT, K.BUSINESS, K.ADDRESS, K.IDENTITY, K.DOMAIN),
    Program.CSP_INDIRECT_RESELLER: (K.EMAIL, K.EMPLOYMENT, K.BUSINESS, K.ADDRESS, K.IDENTITY),
    Program.COMMERCIAL_MARKETPLACE: (K.EMAIL, K.EMPLOYMENT, K.BUSINESS, K.ADDRESS),
}

#: A program's status is its worst check's; earlier is worse (the partner has to act first).
_STATUS_SEVERITY: tuple[str, ...] = (
    CS.REJECTED,
    CS.ACTION_REQUIRED,
    CS.NOT_STARTED,
    CS.PENDING,
    CS.DOCUMENTS_SUBMITTED,
    CS.APPEAL_SUBMITTED,
    CS.IN_REVIEW,
    CS.VERIFIED,
)

#: File types a verification document may have (sniffed from the content, never from the name).
DOCUMENT_TYPES = frozenset({uploads.PDF, uploads.PNG, uploads.JPEG})
_EXTENSIONS = {uploads.JPEG: "jpg"}
EXECUTABLE_MESSAGE = "Executable files are never accepted; upload the document as PDF, PNG or JPEG."
#: First bytes of programs: Windows PE ("MZ"), ELF, Mach-O (32/64 bit, both byte orders, universal)
#: and scripts ("#!").
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xca\xfe\xba\xbf",
    b"#!",
)

ACCEPTED, REJECTED, ACTION_REQUIRED = "accepted", "rejected", "action_required"
#: A reviewer's decision on a document and where it moves the check: accepted → verified; rejected →
#: rejected (the partner may appeal); action_required → another document is needed.
REVIEW_DECISIONS: dict[str, str] = {
    ACCEPTED: CS.VERIFIED,
    REJECTED: CS.REJECTED,
    ACTION_REQUIRED: CS.ACTION_REQUIRED,
}
_REVIEWABLE = frozenset({CS.DOCUMENTS_SUBMITTED, CS.APPEAL_SUBMITTED, CS.IN_REVIEW})

#: Who sees a check that needs action (spec/accounts.md §5); the Owner holds every Account admin right.
_VERIFICATION_AUDIENCE = [Role.OWNER, Role.ACCOUNT_ADMIN, Role.COMPLIANCE_ADMIN]


def _refuse(message: str, *, field: str = "status", code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# --- Enrollments and checks -----------------------------------------------------------------------


@transaction.atomic
def program_enroll(*, actor: Any, organization: Organization, program: str) -> ProgramEnrollment:
    """Enroll the organization in `program` and start its verification: one check per kind, pending."""
    if program not in Program.values:
        raise _refuse(f"Unknown program {program!r}.", field="program")
    label = Program(program).label
    if ProgramEnrollment.objects.filter(organization=organization, program=program).exists():
        raise _refuse(
            f"{organization.legal_name} is already enrolled in {label}.", field="program", code="unique"
        )
    now = timezone.now()
    enrollment = ProgramEnrollment(organization=organization, program=program, enrolled_at=now)
    try:
        with transaction.atomic():
            enrollment.save(force_insert=True)
    except IntegrityError as exc:
        # Another request enrolled the organization in the same program a moment ago.
        raise _refuse(
            f"{organization.legal_name} is already enrolled in {label}.", field="program", code="unique"
        ) from exc
    checks = VerificationCheck.objects.bulk_create(
        [
            VerificationCheck(
                organization=organization,
                enrollment=enrollment,
                kind=kind,
                status=CS.PENDING,
                reason="Verification started with the enrollment.",
                updated_at=now,
            )
            for kind in PROGRAM_CHECKS[program]
        ]
    )
    history_record_many(
        [Entry.of(c, to_status=c.status, note=c.reason, data={"appeals_used": 0}) for c in checks],
        actor=actor,
        at=now,
    )
    audit_record(
        actor=actor,
        action="security.program.enrolled",
        organization_id=organization.pk,
        target=enrollment,
        changes={"program": program, "checks": list(PROGRAM_CHECKS[program])},
    )
    return enrollment


def verification_status(enrollment: ProgramEnrollment) -> str:
    """`verified` when every check of the enrollment is; otherwise its worst check's status.

    Reads `enrollment.checks.all()`, so a prefetched list costs no query.
    """
    statuses = {check.status for check in enrollment.checks.all()}
    if not statuses:
        return CS.NOT_STARTED
    return min(statuses, key=_STATUS_SEVERITY.index)


def _item_key(check: VerificationCheck) -> str:
    return f"verification-check-{check.pk}"


def _sync_action_item(check: VerificationCheck, actor: Any) -> None:
    """VERIFICATION_ACTION_REQUIRED (spec §5): raised while a check waits for the partner
    (action required, rejected), refreshed on every such move, resolved once the check is verified."""
    if check.status in (CS.ACTION_REQUIRED, CS.REJECTED):
        program = check.enrollment.get_program_display()
        verb = "was rejected" if check.status == CS.REJECTED else "needs action"
        action_item_raise(
            organization_id=check.organization_id,
            code=ActionItemCode.VERIFICATION_ACTION_REQUIRED,
            dedupe_key=_item_key(check),
            severity=Severity.HIGH,
            title=f"{program}: the {check.get_kind_display().lower()} check {verb}",
            body=check.reason,
            target_url=reverse("security:check-detail", args=[check.pk]),
            audience_roles=list(_VERIFICATION_AUDIENCE),
        )
    elif check.status == CS.VERIFIED:
        action_item_resolve(organization_id=check.organization_id, dedupe_key=_item_key(check), actor=actor)


def check_move(check: VerificationCheck, *, to_status: str, actor: Any, reason: str) -> VerificationCheck:
    """Move a check the caller locked (`portal.locks.lock`) if spec §4.1 allows it, with its
    history event, audit row and Action Center item; an appeal counts against MAX_APPEALS."""
    from_status = check.status
    allowed = CHECK_TRANSITIONS.get(from_status, frozenset())
    if to_status not in allowed:
        names = ", ".join(sorted(str(CS(s).label).lower() for s in allowed)) or "none"
        target = CS(to_status).label.lower() if to_status in CS.values else repr(to_status)
        raise _refuse(
            f"A check that is {CS(from_status).label.lower()} cannot become {target}; allowed: {names}.",
            code="transition",
        )
    fields = ["status", "reason", "updated_at"]
    changes: dict[str, Any] = {"status": [from_status, to_status]}
    if to_status == CS.APPEAL_SUBMITTED:
        if check.appeals_used >= MAX_APPEALS:
            raise _refuse(
                f"This check has been appealed {check.appeals_used} times, the most allowed; "
                "contact partner support to take it further.",
                code="appeals_exhausted",
            )
        changes["appeals_used"] = [check.appeals_used, check.appeals_used + 1]
        check.appeals_used += 1
        fields.append("appeals_used")
    check.status = to_status
    check.reason = reason.strip()
    check.updated_at = timezone.now()
    check.save(update_fields=fields)
    history_record(
        subject=check,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        note=check.reason,
        data={"appeals_used": check.appeals_used},
    )
    audit_record(
        actor=actor,
        action="security.check.status_changed",
        organization_id=check.organization_id,
        target=check,
        changes={**changes, "reason": check.reason} if check.reason else changes,
    )
    _sync_action_item(check, actor)
    return check


#: What a partner may do with `check_transition`: appeal. Uploads move the check by themselves,
#: and everything else is the vendor's verification.
_PARTNER_TARGETS = frozenset({CS.APPEAL_SUBMITTED})
_REASON_REQUIRED = frozenset({CS.ACTION_REQUIRED, CS.REJECTED, CS.APPEAL_SUBMITTED})


@transaction.atomic
def check_transition(
    *, actor: Any, check: VerificationCheck, to_status: str, reason: str = ""
) -> VerificationCheck:
    """Move a check along spec §4.1 (`CHECK_TRANSITIONS`).

    The vendor's verification (vendor staff, or `actor=None` for the automatic checks) makes any
    allowed move; a partner only appeals. Action required, rejected and appeals need a reason: it
    is what the partner (or reviewer) reads.
    """
    if actor is not None and not is_vendor_staff(actor) and to_status not in _PARTNER_TARGETS:
        raise PermissionDenied("Only the vendor's verification moves a check; you may appeal a rejection.")
    if to_status in _REASON_REQUIRED and not reason.strip():
        raise _refuse("Say why: the reason is shown with the check.", field="reason", code="required")
    return check_move(lock(check, "enrollment"), to_status=to_status, actor=actor, reason=reason)


@transaction.atomic
def check_appeal(*, actor: Any, check: VerificationCheck, note: str) -> VerificationCheck:
    """Rejected → appeal submitted, at most MAX_APPEALS times per check; the note is the appeal."""
    if not note.strip():
        raise _refuse("Explain why the check should be verified after all.", field="note", code="required")
    check = lock(check, "enrollment")
    if check.status != CS.REJECTED:
        raise _refuse(
            f"Only a rejected check can be appealed; this one is {check.get_status_display().lower()}."
        )
    return check_move(check, to_status=CS.APPEAL_SUBMITTED, actor=actor, reason=note)


# --- Documents ------------------------------------------------------------------------------------


def _describe(kind: str | None) -> str:
    if kind == uploads.CSV:
        return "a text file"
    if kind:
        return f"a {kind.upper()} file"
    return "not a document we can read"


def _read_upload(upload: UploadedFile) -> tuple[bytes, str]:
    """The upload's bytes and sniffed type, or `UploadRejected` saying exactly what is wrong."""
    max_mb = settings.SECURITY_VERIFICATION_MAX_MB
    if not upload.size:
        raise uploads.UploadRejected("The file is empty; upload the document as PDF, PNG or JPEG.")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if head.removeprefix(b"\xef\xbb\xbf").startswith(_EXECUTABLE_MAGIC):
        raise uploads.UploadRejected(EXECUTABLE_MESSAGE)
    try:
        file_type = uploads.validate_upload(upload, allowed=set(DOCUMENT_TYPES), max_bytes=max_mb * 1_048_576)
    except uploads.UploadRejected as exc:
        if upload.size > max_mb * 1_048_576:
            message = (
                f"The file is {upload.size / 1_048_576:.1f} MB; verification documents may be at most "
                f"{max_mb} MB. Scan it at a lower resolution (150–300 dpi is enough) or upload only "
                "the pages that show the details."
            )
        else:
            message = (
                f"The file is {_describe(uploads.sniff(head))}; upload the document as PDF, PNG or JPEG."
            )
        raise uploads.UploadRejected(message) from exc
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data, file_type


def _assess(*, check: VerificationCheck, data: bytes, file_type: str, doc_type: str) -> Assessment:
    # Imported here: the verification package pulls in pypdf and Pillow, which only an upload needs.
    from security.verification.assist import ProfileFacts, assess  # noqa: PLC0415
    from security.verification.extract import DocumentUnreadable  # noqa: PLC0415

    try:
        return assess(
            data=data,
            file_type=file_type,
            declared_type=doc_type,
            check_kind=check.kind,
            profile=ProfileFacts.from_organization(check.organization),
            today=timezone.localdate(),
        )
    except DocumentUnreadable as exc:
        # Corrupt, encrypted or empty files are refused before anything is stored.
        raise uploads.UploadRejected(str(getattr(exc, "message", "") or exc)) from exc


def document_upload(
    *, actor: Any, check: VerificationCheck, doc_type: str, upload: UploadedFile
) -> VerificationDocument:
    """Store a verification document with its instant assessment (spec §4.2).

    Refused with `UploadRejected`, and nothing stored, when the file is empty, larger than
    SECURITY_VERIFICATION_MAX_MB, a program, not a PDF/PNG/JPEG, corrupt or encrypted. The file is
    stored under a random name with its SHA-256. An action-required check moves to documents
    submitted; on a rejected check the document is the evidence of the appeal that follows.
    """
    if doc_type not in DocumentType.values:
        raise _refuse(f"Choose the kind of document; {doc_type!r} is not one.", field="doc_type")
    if check.status not in CHECK_UPLOAD_STATUSES:
        raise _refuse(
            f"Documents are uploaded while a check needs action or was rejected; this one is "
            f"{check.get_status_display().lower()}.",
        )
    data, file_type = _read_upload(upload)
    assessment = _assess(check=check, data=data, file_type=file_type, doc_type=doc_type)
    with transaction.atomic():
        check = lock(check, "enrollment")
        if check.status not in CHECK_UPLOAD_STATUSES:
            raise _refuse(f"The check became {check.get_status_display().lower()} in the meantime.")
        document = VerificationDocument(
            organization_id=check.organization_id,
            check_ref=check,
            doc_type=doc_type,
            original_name=re.split(r"[\\/]", upload.name or "document")[-1][:255] or "document",
            file_type=file_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor if getattr(actor, "pk", None) else None,
            detected_doc_type=assessment.detected_doc_type or "",
            page_count=assessment.page_count,
            extracted_text=assessment.text,
            assist_score=assessment.score,
            assist_band=assessment.band,
            assist_findings=assessment.as_dict()["findings"],
        )
        # The stored name is random: the partner's file name never reaches the file system.
        document.file.save(
            f"{uuid.uuid4().hex}.{_EXTENSIONS.get(file_type, file_type)}", ContentFile(data), save=False
        )
        stored = document.file.name
        try:
            document.save(force_insert=True)
            audit_record(
                actor=actor,
                action="security.document.uploaded",
                organization_id=check.organization_id,
                target=check,
                changes={
                    "document": str(document.document_id),
                    "doc_type": doc_type,
                    "file": document.original_name,
                    "sha256": document.sha256,
                    "assist_score": assessment.score,
                    "assist_band": str(assessment.band),
                },
            )
            if check.status == CS.ACTION_REQUIRED:
                check_move(
                    check,
                    to_status=CS.DOCUMENTS_SUBMITTED,
                    actor=actor,
                    reason=f"{DocumentType(doc_type).label} uploaded: {document.original_name}.",
                )
        except BaseException:
            document.file.storage.delete(stored)
            raise
    return document


@transaction.atomic
def document_review(
    *, actor: Any, document: VerificationDocument, decision: str, note: str
) -> VerificationDocument:
    """A vendor reviewer's decision (the assessment is only advice): the check moves to in review,
    then verified (accepted), rejected, or action required (another document is needed)."""
    if not is_vendor_staff(actor):
        raise PermissionDenied("Verification documents are reviewed by vendor staff only.")
    if decision not in REVIEW_DECISIONS:
        raise _refuse(
            f"Unknown decision {decision!r}; choose {', '.join(REVIEW_DECISIONS)}.", field="decision"
        )
    if decision != ACCEPTED and not note.strip():
        raise _refuse("Tell the partner why, and what would pass.", field="note", code="required")
    document = lock(document)
    if document.reviewer_decision != ReviewerDecision.PENDING:
        raise _refuse(
            f"This document was already reviewed ({document.get_reviewer_decision_display().lower()}).",
            field="decision",
            code="reviewed",
        )
    check = lock(document.check_ref, "enrollment")
    if check.status not in _REVIEWABLE:
        raise _refuse(
            "Documents are reviewed while the check is documents submitted, appeal submitted or in review; "
            f"this one is {check.get_status_display().lower()}."
        )
    if check.status != CS.IN_REVIEW:
        check_move(check, to_status=CS.IN_REVIEW, actor=actor, reason=f"Reviewing {document.original_name}.")
    label = document.get_doc_type_display()
    reason = note.strip() or f"{label} accepted."
    check_move(check, to_status=REVIEW_DECISIONS[decision], actor=actor, reason=reason)
    document.reviewer_decision = (
        ReviewerDecision.ACCEPTED if decision == ACCEPTED else ReviewerDecision.REJECTED
    )
    document.reviewer = actor
    document.reviewed_at = timezone.now()
    document.reviewer_note = note.strip()
    document.save(update_fields=["reviewer_decision", "reviewer", "reviewed_at", "reviewer_note"])
    audit_record(
        actor=actor,
        action="security.document.reviewed",
        organization_id=document.organization_id,
        target=check,
        changes={
            "document": str(document.document_id),
            "decision": decision,
            "assist_score": document.assist_score,
            "note": document.reviewer_note,
        },
    )
    verification_result_notify(document, check=check, appeals_left=max(0, MAX_APPEALS - check.appeals_used))
    return document
