"""Compliance (spec/accounts.md §3.2, §4): program enrollments and their verification checks,
verification documents with the assisted assessment, the legal business profile, compliance training.

Every status change of a check goes through `_move`, which checks `CHECK_TRANSITIONS`, writes the
audit row, appends the move to the check's history (portal.history: who, from, to, the reason as
its note, the appeals used) and raises or resolves the Action Center item.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.action_center import action_item_raise, action_item_resolve
from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem, Organization, User
from portal import uploads
from portal.audit import apply_changes, audit_record
from portal.capabilities import Capability, can, is_vendor_staff
from portal.history import Entry, history_record, history_record_many
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
from security.models import (
    ProgramEnrollment,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)

if TYPE_CHECKING:
    from security.verification.assist import Assessment

__all__ = (
    "DOCUMENT_TYPES",
    "EXECUTABLE_MESSAGE",
    "LEGAL_FIELDS",
    "LEGAL_FIELDS_REVERIFY",
    "PROGRAM_CHECKS",
    "REVIEW_DECISIONS",
    "TRAINING_REMIND_DAYS",
    "check_appeal",
    "check_transition",
    "checks_restarted_by",
    "document_review",
    "document_upload",
    "legal_profile_update",
    "program_enroll",
    "training_assign",
    "training_cancel",
    "training_complete",
    "trainings_remind",
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

#: The fields of the legal business profile (spec/accounts.md §1), the only ones
#: `legal_profile_update` changes.
LEGAL_FIELDS: tuple[str, ...] = (
    "legal_name",
    "doing_business_as",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "website",
    "company_registration_number",
    "tax_id",
    "company_size",
    "primary_contact_first_name",
    "primary_contact_last_name",
    "primary_contact_email",
    "primary_contact_phone",
)

_ADDRESS = (K.ADDRESS,)
_PRIMARY_CONTACT = (K.EMAIL, K.EMPLOYMENT, K.IDENTITY)
#: Changing one of these fields restarts the verified checks it names, in every enrollment
#: (spec/accounts.md §1: legal name, address or primary contact). The contact's phone number does
#: not identify the person, so it restarts nothing; a new web site or contact mailbox domain needs
#: the domain proven again.
LEGAL_FIELDS_REVERIFY: dict[str, tuple[str, ...]] = {
    "legal_name": (K.BUSINESS,),
    "address_line1": _ADDRESS,
    "address_line2": _ADDRESS,
    "city": _ADDRESS,
    "state": _ADDRESS,
    "postal_code": _ADDRESS,
    "country": _ADDRESS,
    "primary_contact_first_name": _PRIMARY_CONTACT,
    "primary_contact_last_name": _PRIMARY_CONTACT,
    "primary_contact_email": (*_PRIMARY_CONTACT, K.DOMAIN),
    "website": (K.DOMAIN,),
}

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
#: Who sees the training reminder: the holders of "compliance.manage".
_TRAINING_AUDIENCE = [Role.COMPLIANCE_ADMIN, Role.GLOBAL_ADMIN]
#: Trainings due within this many days (or overdue) are reminded.
TRAINING_REMIND_DAYS = 7
TRAINING_DUE_KEY = "compliance-training-due"


def _refuse(message: str, *, field: str = "status", code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _check_compliance_manager(actor: Any, organization_id: int) -> None:
    """The Compliance, Account or Global admin of the organization (COMPLIANCE_MANAGE), or vendor
    support."""
    if is_vendor_staff(actor) or can(actor, Capability.COMPLIANCE_MANAGE, organization_id):
        return
    raise PermissionDenied(
        "Verification and the legal profile are managed by the Compliance or Account admin."
    )


# --- Enrollments and checks -----------------------------------------------------------------------


@transaction.atomic
def program_enroll(*, actor: Any, organization: Organization, program: str) -> ProgramEnrollment:
    """Enroll the organization in `program` and start its verification: one check per kind, pending."""
    _check_compliance_manager(actor, organization.pk)
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


def _lock(check: VerificationCheck) -> VerificationCheck:
    return VerificationCheck.objects.select_for_update().select_related("enrollment").get(pk=check.pk)


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


def _move(check: VerificationCheck, *, to_status: str, actor: Any, reason: str) -> VerificationCheck:
    """Move a locked check if spec §4.1 allows it; an appeal counts against MAX_APPEALS."""
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
    if actor is not None and not is_vendor_staff(actor):
        _check_compliance_manager(actor, check.organization_id)
        if to_status not in _PARTNER_TARGETS:
            raise PermissionDenied(
                "Only the vendor's verification moves a check; you may appeal a rejection."
            )
    if to_status in _REASON_REQUIRED and not reason.strip():
        raise _refuse("Say why: the reason is shown with the check.", field="reason", code="required")
    return _move(_lock(check), to_status=to_status, actor=actor, reason=reason)


@transaction.atomic
def check_appeal(*, actor: Any, check: VerificationCheck, note: str) -> VerificationCheck:
    """Rejected → appeal submitted, at most MAX_APPEALS times per check; the note is the appeal."""
    _check_compliance_manager(actor, check.organization_id)
    if not note.strip():
        raise _refuse("Explain why the check should be verified after all.", field="note", code="required")
    check = _lock(check)
    if check.status != CS.REJECTED:
        raise _refuse(
            f"Only a rejected check can be appealed; this one is {check.get_status_display().lower()}."
        )
    return _move(check, to_status=CS.APPEAL_SUBMITTED, actor=actor, reason=note)


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
    _check_compliance_manager(actor, check.organization_id)
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
        check = _lock(check)
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
                _move(
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
    document = VerificationDocument.objects.select_for_update().get(pk=document.pk)
    if document.reviewer_decision != ReviewerDecision.PENDING:
        raise _refuse(
            f"This document was already reviewed ({document.get_reviewer_decision_display().lower()}).",
            field="decision",
            code="reviewed",
        )
    check = _lock(document.check_ref)
    if check.status not in _REVIEWABLE:
        raise _refuse(
            "Documents are reviewed while the check is documents submitted, appeal submitted or in review; "
            f"this one is {check.get_status_display().lower()}."
        )
    if check.status != CS.IN_REVIEW:
        _move(check, to_status=CS.IN_REVIEW, actor=actor, reason=f"Reviewing {document.original_name}.")
    label = document.get_doc_type_display()
    reason = note.strip() or f"{label} accepted."
    _move(check, to_status=REVIEW_DECISIONS[decision], actor=actor, reason=reason)
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
    return document


# --- Legal business profile -----------------------------------------------------------------------


def checks_restarted_by(organization: Organization, changed_fields: Iterable[str]) -> list[VerificationCheck]:
    """The verified checks of every enrollment that changing `changed_fields` would restart."""
    kinds = {kind for field in changed_fields for kind in LEGAL_FIELDS_REVERIFY.get(field, ())}
    if not kinds:
        return []
    return list(
        VerificationCheck.objects.filter(organization=organization, kind__in=kinds, status=CS.VERIFIED)
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
    )


def _clean_value(field: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.strip()
        return value.upper() if field == "country" else value
    return value


@transaction.atomic
def legal_profile_update(
    *, actor: Any, organization: Organization, **fields: Any
) -> tuple[Organization, list[VerificationCheck]]:
    """Change the legal business profile; returns the organization and the checks restarted.

    A new legal name, address or primary contact restarts the affected verified checks of every
    enrollment (verified → pending); checks in other statuses are left as they are.
    """
    _check_compliance_manager(actor, organization.pk)
    unknown = sorted(set(fields) - set(LEGAL_FIELDS))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError("This is not a field of the legal business profile.", code="unknown")
                for name in unknown
            }
        )
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = apply_changes(organization, {name: _clean_value(name, value) for name, value in fields.items()})
    if not changes:
        return organization, []
    organization.full_clean()
    organization.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="security.legal_profile.updated",
        organization_id=organization.pk,
        target=organization,
        changes=changes,
    )
    restarted = []
    for check in checks_restarted_by(organization, changes):
        labels = sorted(
            {name.replace("_", " ") for name in changes if check.kind in LEGAL_FIELDS_REVERIFY.get(name, ())}
        )
        restarted.append(
            _move(
                _lock(check),
                to_status=CS.PENDING,
                actor=actor,
                reason=f"The legal profile changed ({', '.join(labels)}): verification restarted.",
            )
        )
    return organization, restarted


# --- Compliance training --------------------------------------------------------------------------


def _check_training_manager(actor: Any, organization_id: int) -> None:
    if not can(actor, Capability.COMPLIANCE_MANAGE, organization_id):
        raise PermissionDenied("Compliance training is arranged by the Compliance admin.")


def _name_list(users: Iterable[User]) -> str:
    return ", ".join(sorted(user.get_full_name() for user in users))


@transaction.atomic
def training_assign(
    *,
    actor: Any,
    organization: Organization,
    course: TrainingCourse,
    users: Iterable[User | int],
    due_on: date,
) -> list[TrainingAssignment]:
    """Assign `course` to each person, due on `due_on`; all or nothing.

    Only active people of the organization (not API service accounts), a due date after today, and
    one open assignment per course and person.
    """
    _check_training_manager(actor, organization.pk)
    if not course.is_active:
        raise _refuse(f"{course.title} is no longer offered.", field="course")
    if due_on <= timezone.localdate():
        raise _refuse("The due date must be in the future.", field="due_on")
    ids = sorted({user if isinstance(user, int) else user.pk for user in users})
    if not ids:
        raise _refuse("Choose at least one person.", field="users", code="required")
    people = list(User.objects.filter(pk__in=ids, organization=organization))
    errors: list[str] = []
    if len(people) != len(ids):
        errors.append("Some of the people chosen are not members of your organization.")
    inactive = [p for p in people if not p.is_active or p.is_service_account]
    if inactive:
        errors.append(f"Training is assigned to active people only, not to {_name_list(inactive)}.")
    open_ = TrainingAssignment.objects.filter(
        course=course, user__in=people, completed_at__isnull=True, canceled_at__isnull=True
    ).select_related("user")
    if holders := [assignment.user for assignment in open_]:
        errors.append(f"{_name_list(holders)} already have {course.title} open; complete or cancel it first.")
    if errors:
        raise ValidationError({"users": [ValidationError(e, code="invalid") for e in errors]})
    now = timezone.now()
    try:
        with transaction.atomic():
            assignments = TrainingAssignment.objects.bulk_create(
                [
                    TrainingAssignment(
                        organization=organization,
                        course=course,
                        user=person,
                        assigned_by=actor,
                        assigned_at=now,
                        due_on=due_on,
                    )
                    for person in sorted(people, key=lambda p: p.email)
                ]
            )
    except IntegrityError as exc:
        # Someone assigned the same course to one of these people a moment ago.
        raise _refuse(
            f"One of these people already has {course.title} open; reload and try again.", field="users"
        ) from exc
    for assignment in assignments:
        audit_record(
            actor=actor,
            action="security.training.assigned",
            organization_id=organization.pk,
            target=assignment,
            changes={"course": course.code, "user": assignment.user.email, "due_on": due_on.isoformat()},
        )
    _training_item_sync(organization.pk, today=timezone.localdate())
    return assignments


def _close_assignment(*, actor: Any, assignment: TrainingAssignment, completed: bool) -> TrainingAssignment:
    assignment = TrainingAssignment.objects.select_for_update().select_related("course").get(pk=assignment.pk)
    is_assignee = getattr(actor, "pk", None) == assignment.user_id
    if not is_assignee:
        _check_training_manager(actor, assignment.organization_id)
    if assignment.completed_at or assignment.canceled_at:
        raise _refuse(f"This training is already {assignment.status}.")
    now = timezone.now()
    field = "completed_at" if completed else "canceled_at"
    setattr(assignment, field, now)
    assignment.save(update_fields=[field])
    audit_record(
        actor=actor,
        action=f"security.training.{'completed' if completed else 'canceled'}",
        organization_id=assignment.organization_id,
        target=assignment,
        changes={"course": assignment.course.code, "user_id": assignment.user_id},
    )
    _training_item_sync(assignment.organization_id, today=timezone.localdate())
    return assignment


@transaction.atomic
def training_complete(*, actor: Any, assignment: TrainingAssignment) -> TrainingAssignment:
    """The assignee (or a compliance manager for them) marks the training done."""
    return _close_assignment(actor=actor, assignment=assignment, completed=True)


@transaction.atomic
def training_cancel(*, actor: Any, assignment: TrainingAssignment) -> TrainingAssignment:
    return _close_assignment(actor=actor, assignment=assignment, completed=False)


def _due_assignments(today: date):
    return TrainingAssignment.objects.filter(
        completed_at__isnull=True,
        canceled_at__isnull=True,
        user__is_active=True,
        due_on__lte=today + timedelta(days=TRAINING_REMIND_DAYS),
    )


def _training_item_sync(organization_id: int, *, today: date) -> bool:
    """COMPLIANCE_TRAINING_DUE for one organization: raised or refreshed while any open training is
    due within TRAINING_REMIND_DAYS or overdue, resolved when none is left. True when raised."""
    due = list(_due_assignments(today).filter(organization_id=organization_id).only("due_on"))
    if not due:
        action_item_resolve(organization_id=organization_id, dedupe_key=TRAINING_DUE_KEY)
        return False
    overdue = sum(1 for a in due if a.due_on < today)
    first = min(a.due_on for a in due)
    horizon = today + timedelta(days=TRAINING_REMIND_DAYS)
    body = f"{len(due)} open compliance training(s) due by {horizon:%d %B %Y}"
    body += f", {overdue} of them overdue." if overdue else "."
    action_item_raise(
        organization_id=organization_id,
        code=ActionItemCode.COMPLIANCE_TRAINING_DUE,
        dedupe_key=TRAINING_DUE_KEY,
        severity=Severity.HIGH if overdue else Severity.MEDIUM,
        title="Compliance training overdue" if overdue else "Compliance training due soon",
        body=body,
        due_at=timezone.make_aware(datetime.combine(first, time.min)),
        target_url=reverse("security:training"),
        audience_roles=list(_TRAINING_AUDIENCE),
    )
    return True


def _needs_reminder(assignment: TrainingAssignment, today: date) -> bool:
    """Once when the due date comes within reach, once more when it passes, then weekly."""
    if assignment.last_reminded_at is None:
        return True
    last = timezone.localdate(assignment.last_reminded_at)
    if assignment.due_on < today and last <= assignment.due_on:
        return True
    return last <= today - timedelta(days=TRAINING_REMIND_DAYS)


def trainings_remind(*, today: date | None = None) -> int:
    """Beat: e-mail each person whose training is due within 7 days or overdue (see
    `_needs_reminder`) and keep every organization's COMPLIANCE_TRAINING_DUE item in step.

    Idempotent: a second run on the same day sends nothing and changes nothing. Returns how many
    people were reminded.
    """
    today = today or timezone.localdate()
    reminded = 0
    organizations: set[int] = set()
    # Unscoped on purpose: the beat job works for every organization.
    due = _due_assignments(today).select_related("course", "user").order_by("pk")
    for assignment in due:
        organizations.add(assignment.organization_id)
        if not _needs_reminder(assignment, today):
            continue
        with transaction.atomic():
            updated = TrainingAssignment.objects.filter(
                pk=assignment.pk, last_reminded_at=assignment.last_reminded_at
            ).update(last_reminded_at=timezone.now())
            if not updated:
                continue  # another run reminded this person a moment ago
            reminded += 1
            _send_reminder(assignment, today)
    stale = ActionItem.objects.filter(
        code=ActionItemCode.COMPLIANCE_TRAINING_DUE,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", flat=True)
    for organization_id in sorted(organizations | set(stale)):
        with transaction.atomic():
            _training_item_sync(organization_id, today=today)
    return reminded


def _send_reminder(assignment: TrainingAssignment, today: date) -> None:
    course, user = assignment.course, assignment.user
    if assignment.due_on < today:
        subject = f"Overdue: {course.title}"
        when = f"was due on {assignment.due_on:%d %B %Y}"
    else:
        subject = f"Due on {assignment.due_on:%d %B %Y}: {course.title}"
        when = f"is due on {assignment.due_on:%d %B %Y}"
    message = (
        f"Your compliance training {course.title} ({course.duration_minutes} minutes) {when}.\n"
        f"Take it here: {course.url}\n"
    )
    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
            fail_silently=True,
        )
    )
