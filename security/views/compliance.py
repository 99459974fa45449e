"""Compliance pages: program verification and its checks, document uploads with the instant
assessment, the legal profile, and compliance training (spec/accounts.md §3.2, §4).

People with ACCOUNT_VIEW or COMPLIANCE_MANAGE read; only COMPLIANCE_MANAGE changes anything.
Views parse input and call security.services.compliance; every rule and every write is theirs,
and their refusals (ValidationError, UploadRejected) are shown to the person as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Organization, User
from portal.capabilities import Capability, can
from portal.roles import Role
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import form_errors, show_errors
from security.choices import (
    CHECK_UPLOAD_STATUSES,
    MAX_APPEALS,
    CheckKind,
    CheckStatus,
    DocumentType,
    TrainingStatus,
)
from security.filters import TrainingFilterSet
from security.forms_compliance import (
    AppealForm,
    DocumentUploadForm,
    EnrollForm,
    LegalProfileForm,
    TrainingAssignForm,
    people_of,
)
from security.history import check_events
from security.models import (
    ProgramEnrollment,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)
from security.services import compliance as services
from security.verification.assist.policy import ALLOWED_TYPES

C = Capability

#: What helps when the automatic check fails (spec/accounts.md §4.1), shown beside every check
#: that needs action.
SUGGESTED_EVIDENCE: dict[str, str] = {
    CheckKind.EMAIL: (
        "Click the link in the verification e-mail sent to the primary contact; use a monitored work "
        "mailbox, not personal mail or a mailbox-less onmicrosoft.com login."
    ),
    CheckKind.EMPLOYMENT: (
        "An assignment letter from an authorized representative, or a domain ownership (WHOIS) record, "
        "domain purchase invoice or registry confirmation for the primary contact's e-mail domain."
    ),
    CheckKind.BUSINESS: (
        "A business registration certificate, certificate of incorporation, tax/VAT registration or "
        "government business licence showing the legal name and registration number exactly as on "
        "the legal profile."
    ),
    CheckKind.ADDRESS: (
        "A register extract showing the address, or a utility bill or bank statement at most 90 days "
        "old. P.O. boxes are not accepted."
    ),
    CheckKind.IDENTITY: "A government ID of the primary contact.",
    CheckKind.DOMAIN: "A domain ownership (WHOIS) record for the company's e-mail and web domain.",
}
#: Statuses in which the partner is the one to act.
NEEDS_ACTION = (CheckStatus.ACTION_REQUIRED, CheckStatus.REJECTED)


# --- Helpers --------------------------------------------------------------------------------------


def _can_read(user) -> bool:
    return can(user, C.ACCOUNT_VIEW) or can(user, C.COMPLIANCE_MANAGE)


def _require_read(request) -> None:
    if not _can_read(request.user):
        raise PermissionDenied("Your roles don't allow the Compliance pages.")


def _require_manage(request) -> None:
    if not can(request.user, C.COMPLIANCE_MANAGE):
        raise PermissionDenied(
            "Only a Compliance admin, an Account admin or a Global admin can change compliance details."
        )


def _check_or_404(request, pk: int) -> VerificationCheck:
    """The check if the user's organization owns it (else 404), then the right to see it (else 403)."""
    check = get_visible_or_404(VerificationCheck.objects.select_related("enrollment"), request.user, pk=pk)
    _require_read(request)
    return check


def _document_or_404(request, pk: int) -> VerificationDocument:
    document = get_visible_or_404(
        VerificationDocument.objects.select_related("check_ref__enrollment", "uploaded_by", "reviewer"),
        request.user,
        pk=pk,
    )
    _require_read(request)
    return document


def _assignment_or_404(request, pk: int, *, assignee_may: bool = False) -> TrainingAssignment:
    """The assignment if the organization owns it (else 404); then a compliance manager, or with
    `assignee_may` the person it is assigned to (else 403)."""
    assignment = get_visible_or_404(
        TrainingAssignment.objects.select_related("course", "user"), request.user, pk=pk
    )
    if not (assignee_may and assignment.user_id == request.user.pk):
        _require_manage(request)
    return assignment


def allowed_types(kind: str) -> list[str]:
    """The document types accepted for a check of `kind`, in the order DocumentType lists them;
    none for a check that is not verified with documents (email ownership)."""
    allowed = ALLOWED_TYPES.get(kind, frozenset(DocumentType.values))
    return [value for value in DocumentType.values if value in allowed]


def _evidence(check: VerificationCheck) -> str:
    return SUGGESTED_EVIDENCE.get(check.kind, "")


def _accepted_labels(kind: str) -> list[str]:
    return [DocumentType(value).label for value in allowed_types(kind)]


# --- Compliance overview --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingSummary:
    assigned: int
    overdue: int
    completed: int

    @property
    def open(self) -> int:
        return self.assigned + self.overdue


def training_summary(assignments: QuerySet[TrainingAssignment], *, today: date) -> TrainingSummary:
    open_ = Q(completed_at__isnull=True, canceled_at__isnull=True)
    counts = assignments.aggregate(
        assigned=Count("id", filter=open_ & Q(due_on__gte=today)),
        overdue=Count("id", filter=open_ & Q(due_on__lt=today)),
        completed=Count("id", filter=Q(completed_at__isnull=False)),
    )
    return TrainingSummary(**counts)


def compliance(request):
    """Every program enrollment with its verification status and checks, what needs action (the
    reason and the evidence that helps), who holds Compliance admin, and the training summary."""
    _require_read(request)
    user = request.user
    enrollments = list(
        ProgramEnrollment.objects.visible_to(user).prefetch_related(
            Prefetch("checks", queryset=VerificationCheck.objects.order_by("kind"))
        )
    )
    needs_action = []
    for enrollment in enrollments:
        enrollment.verification = services.verification_status(enrollment)
        enrollment.verification_label = CheckStatus(enrollment.verification).label
        for check in enrollment.checks.all():
            if check.status in NEEDS_ACTION:
                check.evidence = _evidence(check)
                check.accepted = _accepted_labels(check.kind)
                needs_action.append(check)
    admins = (
        User.objects.visible_to(user)
        .filter(role_assignments__role=Role.COMPLIANCE_ADMIN, is_active=True)
        .distinct()
        .order_by("email")
    )
    can_manage = can(user, C.COMPLIANCE_MANAGE)
    enrolled = [enrollment.program for enrollment in enrollments]
    context = {
        "enrollments": enrollments,
        "needs_action": needs_action,
        "compliance_admins": admins,
        "can_assign_admin": can(user, C.COMPLIANCE_ADMIN_ASSIGN),
        "can_manage": can_manage,
        "enroll_form": EnrollForm(enrolled=enrolled) if can_manage else None,
        "training": training_summary(TrainingAssignment.objects.visible_to(user), today=timezone.localdate()),
    }
    return render(request, "security/compliance.html", context)


@require_POST
def compliance_enroll(request):
    _require_manage(request)
    enrolled = ProgramEnrollment.objects.visible_to(request.user).values_list("program", flat=True)
    form = EnrollForm(request.POST, enrolled=enrolled)
    if not form.is_valid():
        messages.error(request, "Pick a program the organization is not enrolled in yet.")
        return redirect("security:compliance")
    try:
        enrollment = services.program_enroll(
            actor=request.user, organization=request.user.organization, program=form.cleaned_data["program"]
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(
            request, f"Enrolled in {enrollment.get_program_display()}: its verification checks have started."
        )
    return redirect("security:compliance")


# --- Checks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckHistoryRow:
    at: datetime
    who: str
    from_status: str
    to_status: str
    reason: str
    appeals_used: int


def check_history(check: VerificationCheck) -> list[CheckHistoryRow]:
    """Every status move of the check, oldest first; a reason is shown where it changed."""
    rows = []
    previous_reason = None
    for event in check_events(check):
        rows.append(
            CheckHistoryRow(
                at=event.at,
                who=event.who,
                from_status=CheckStatus(event.from_status).label if event.from_status else "",
                to_status=CheckStatus(event.to_status).label,
                reason=event.reason if event.reason != previous_reason else "",
                appeals_used=event.appeals_used,
            )
        )
        previous_reason = event.reason
    return rows


def _check_context(request, check: VerificationCheck, **extra: Any) -> dict[str, Any]:
    user = request.user
    can_manage = can(user, C.COMPLIANCE_MANAGE)
    documents = list(check.documents.select_related("uploaded_by"))
    shown_pk = request.GET.get("document")
    assessed = next((doc for doc in documents if str(doc.pk) == shown_pk), None)
    types = allowed_types(check.kind)
    context = {
        "check": check,
        "enrollment": check.enrollment,
        "documents": documents,
        "assessed": assessed or (documents[0] if documents else None),
        "just_uploaded": assessed is not None,
        "evidence": _evidence(check),
        "accepted": _accepted_labels(check.kind),
        "needs_action": check.status in NEEDS_ACTION,
        "can_upload": can_manage and check.status in CHECK_UPLOAD_STATUSES and bool(types),
        "can_appeal": can_manage
        and check.status == CheckStatus.REJECTED
        and check.appeals_used < MAX_APPEALS,
        "appeals_left": max(MAX_APPEALS - check.appeals_used, 0),
        "upload_form": DocumentUploadForm(allowed_types=types),
        "appeal_form": AppealForm(),
        "history": check_history(check),
    }
    context.update(extra)
    return context


@tenant_route(VerificationCheck)
def check_detail(request, pk: int):
    check = _check_or_404(request, pk)
    return render(request, "security/check_detail.html", _check_context(request, check))


@tenant_route(VerificationCheck)
@require_POST
def check_upload(request, pk: int):
    """Store a document for the check and show its instant assessment, or show why it was refused."""
    check = _check_or_404(request, pk)
    _require_manage(request)
    form = DocumentUploadForm(request.POST, request.FILES, allowed_types=allowed_types(check.kind))
    if not form.is_valid():
        context = _check_context(request, check, upload_form=form)
        return render(request, "security/check_detail.html", context, status=400)
    try:
        document = services.document_upload(
            actor=request.user,
            check=check,
            doc_type=form.cleaned_data["doc_type"],
            upload=form.cleaned_data["file"],
        )
    except UploadRejected as exc:
        context = _check_context(request, check, upload_form=form, rejection=exc)
        return render(request, "security/check_detail.html", context, status=400)
    except ValidationError as exc:
        context = _check_context(request, check, upload_form=form, upload_errors=exc.messages)
        return render(request, "security/check_detail.html", context, status=400)
    messages.success(
        request,
        f"{document.original_name} uploaded: {document.get_assist_band_display()} "
        f"(score {document.assist_score}). A reviewer makes the final decision.",
    )
    url = reverse("security:check-detail", args=[check.pk])
    return redirect(f"{url}?document={document.pk}#assessment")


@tenant_route(VerificationCheck)
@require_POST
def check_appeal(request, pk: int):
    check = _check_or_404(request, pk)
    _require_manage(request)
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the decision should be reviewed again.")
        return redirect("security:check-detail", pk=check.pk)
    try:
        check = services.check_appeal(actor=request.user, check=check, note=form.cleaned_data["note"])
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(
            request,
            f"Appeal submitted ({check.appeals_used} of {MAX_APPEALS} used). A reviewer looks at it again.",
        )
    return redirect("security:check-detail", pk=check.pk)


# --- Documents ------------------------------------------------------------------------------------


@tenant_route(VerificationDocument)
def document_detail(request, pk: int):
    """The document's assessment: score, band and every finding with its points and fix."""
    document = _document_or_404(request, pk)
    context = {"document": document, "check": document.check_ref, "findings": document.assist_findings}
    return render(request, "security/document_detail.html", context)


@tenant_route(VerificationDocument)
def document_download(request, pk: int):
    document = _document_or_404(request, pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file of this document is no longer stored.") from exc
    return FileResponse(handle, as_attachment=True, filename=document.original_name)


# --- Legal profile --------------------------------------------------------------------------------


def _check_names(checks: list[VerificationCheck]) -> str:
    return "; ".join(
        f"{check.get_kind_display()} ({check.enrollment.get_program_display()})" for check in checks
    )


def _show_field_restarts(form: LegalProfileForm, user) -> None:
    """Beside each legal field, the verified checks a change to it would restart."""
    verified = list(
        VerificationCheck.objects.visible_to(user)
        .filter(status=CheckStatus.VERIFIED)
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
    )
    for name in services.LEGAL_FIELDS:
        kinds = services.LEGAL_FIELDS_REVERIFY.get(name, ())
        affected = [check for check in verified if check.kind in kinds]
        if affected:
            form.fields[name].help_text = f"Changing this restarts verification: {_check_names(affected)}."


def legal_profile(request):
    """Edit the legal profile. A change that restarts verified checks is shown first and saved only
    once confirmed; after saving, the page lists the checks that restarted."""
    _require_read(request)
    user = request.user
    organization = get_visible_or_404(Organization, user, pk=user.organization_id)
    can_manage = can(user, C.COMPLIANCE_MANAGE)
    context: dict[str, Any] = {"organization": organization, "can_manage": can_manage}
    restarted_ids = [v for v in request.GET.get("restarted", "").split(",") if v.isdigit()]
    context["restarted"] = (
        VerificationCheck.objects.visible_to(user)
        .filter(pk__in=restarted_ids)
        .select_related("enrollment")
        .order_by("enrollment__program", "kind")
        if restarted_ids
        else []
    )
    form = LegalProfileForm(request.POST or None, instance=organization)
    if request.method == "POST":
        _require_manage(request)
        if form.is_valid():
            changes = form.changed_legal_fields()
            restarting = services.checks_restarted_by(organization, changes)
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect("security:legal-profile")
            if restarting and request.POST.get("confirm") != "1":
                # Tell before saving: the same values, posted again with `confirm`, save them.
                changed = [str(form.fields[name].label) for name in changes]
                context.update(form=form, restarting=restarting, changed=changed)
                return render(request, "security/legal_profile.html", context)
            try:
                # The form wrote the new values onto `organization`; the service diffs a fresh copy.
                stored = get_visible_or_404(Organization, user, pk=organization.pk)
                organization, restarted = services.legal_profile_update(
                    actor=user, organization=stored, **changes
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                if restarted:
                    messages.success(
                        request,
                        f"Legal profile saved. Verification restarted for {len(restarted)} "
                        f"check{'s' if len(restarted) != 1 else ''}.",
                    )
                    url = reverse("security:legal-profile")
                    ids = ",".join(str(check.pk) for check in restarted)
                    return redirect(f"{url}?restarted={ids}")
                messages.success(request, "Legal profile saved. No verification had to restart.")
                return redirect("security:legal-profile")
    _show_field_restarts(form, user)
    context["form"] = form
    return render(request, "security/legal_profile.html", context, status=400 if form.errors else 200)


# --- Training -------------------------------------------------------------------------------------


class TrainingPageFilterSet(TrainingFilterSet):
    """The API's training filters (same parameter names in the URL) with pickers for the page."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        courses = TrainingCourse.objects.visible_to(user).values_list("code", "title")
        people = people_of(user).values_list("pk", "email")
        self.filters["status"].extra["empty_label"] = "Any status"
        self.filters["courseCode"].label = "Course"
        self.filters["courseCode"].extra["widget"] = forms.Select(choices=[("", "Any course"), *courses])
        self.filters["userId"].label = "Person"
        self.filters["userId"].extra["widget"] = forms.Select(choices=[("", "Anyone"), *people])
        del self.filters["q"]


def training(request):
    """Assign a course to people with a due date; the list, filtered by status, course and person in
    the URL, with complete and cancel. Canceled assignments show only when asked for."""
    _require_read(request)
    user = request.user
    can_manage = can(user, C.COMPLIANCE_MANAGE)
    today = timezone.localdate()
    assign_form = TrainingAssignForm(request.POST or None, user=user) if can_manage else None
    if request.method == "POST":
        _require_manage(request)
        if assign_form.is_valid():
            try:
                created = services.training_assign(
                    actor=user, organization=user.organization, **assign_form.cleaned_data
                )
            except ValidationError as exc:
                form_errors(assign_form, exc)
            else:
                course = assign_form.cleaned_data["course"]
                due_on = assign_form.cleaned_data["due_on"]
                people = "people" if len(created) != 1 else "person"
                messages.success(
                    request, f"{course.title} assigned to {len(created)} {people}, due {due_on:%Y-%m-%d}."
                )
                return redirect(request.get_full_path())
    filters = TrainingPageFilterSet(
        request.GET,
        queryset=TrainingAssignment.objects.visible_to(user).select_related("course", "user"),
        request=request,
        user=user,
    )
    assignments = filters.qs
    if not request.GET.get("status"):
        assignments = assignments.filter(canceled_at__isnull=True)
    rows = list(assignments.order_by("due_on", "user__email", "id"))
    for row in rows:
        row.status_label = TrainingStatus(row.status).label
    context = {
        "assignments": rows,
        "filters": filters,
        "assign_form": assign_form,
        "can_manage": can_manage,
        "summary": training_summary(TrainingAssignment.objects.visible_to(user), today=today),
        "today": today,
    }
    status_code = 400 if assign_form is not None and assign_form.errors else 200
    return render(request, "security/training.html", context, status=status_code)


def _back_to_training(request):
    # Keep the list's filters (the buttons post from a filtered list), or go back to the profile
    # page where people complete their own training.
    target = request.POST.get("next", "")
    if target.startswith((reverse("security:training"), reverse("home:profile"))):
        return redirect(target)
    return redirect("security:training")


@tenant_route(TrainingAssignment)
@require_POST
def training_complete(request, pk: int):
    assignment = _assignment_or_404(request, pk, assignee_may=True)
    try:
        services.training_complete(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{assignment.course.title} completed by {assignment.user.email}.")
    return _back_to_training(request)


@tenant_route(TrainingAssignment)
@require_POST
def training_cancel(request, pk: int):
    assignment = _assignment_or_404(request, pk)
    try:
        services.training_cancel(actor=request.user, assignment=assignment)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"{assignment.course.title} canceled for {assignment.user.email}.")
    return _back_to_training(request)
