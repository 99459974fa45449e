"""Compliance pages: program verification and its checks, document uploads with the instant
assessment, the legal profile, and compliance training (spec/accounts.md §3.2, §4).

People with ACCOUNT_VIEW or COMPLIANCE_MANAGE read; only COMPLIANCE_MANAGE changes anything, except
that people complete their own training. Views read through `security.selectors.compliance`, parse
input and call the services; their refusals (ValidationError, UploadRejected) are shown as they are.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Organization
from portal.capabilities import Capability
from portal.paging import LookaheadPaginator
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import (
    capability_required,
    form_errors,
    member_page,
    post_action,
    query_without,
    require_capability,
)
from security.choices import (
    CHECK_UPLOAD_STATUSES,
    LEGAL_FIELDS,
    LEGAL_FIELDS_REVERIFY,
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
)
from security.models import TrainingAssignment, VerificationCheck, VerificationDocument
from security.selectors.compliance import (
    check_history,
    checks_by_ids,
    checks_restarted_by,
    compliance_admins,
    enrollments,
    training_assignments,
    training_summary,
    verification_check,
    verification_document,
    verified_checks,
)
from security.services import compliance as services
from security.services import training as training_services
from security.services.legal_profile import legal_profile_update
from security.verification.assist.policy import ALLOWED_TYPES
from security.views import PAGE_SIZE

C = Capability

READ = (C.ACCOUNT_VIEW, C.COMPLIANCE_MANAGE)
READ_DENIED = "Your roles don't allow the Compliance pages."
MANAGE_DENIED = "Only a Compliance admin, an Account admin or a Global admin can change compliance details."

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


@capability_required(*READ, message=READ_DENIED)
def compliance(request):
    """Every program enrollment with its verification status and checks, what needs action (the
    reason and the evidence that helps), who holds Compliance admin, and the training summary."""
    user = request.user
    rows = list(enrollments(user))
    needs_action = []
    for enrollment in rows:
        enrollment.verification = services.verification_status(enrollment)
        enrollment.verification_label = CheckStatus(enrollment.verification).label
        for check in enrollment.checks.all():
            if check.status in NEEDS_ACTION:
                check.evidence = _evidence(check)
                check.accepted = _accepted_labels(check.kind)
                needs_action.append(check)
    context = {
        "enrollments": rows,
        "needs_action": needs_action,
        "compliance_admins": compliance_admins(user),
        "enroll_form": EnrollForm(enrolled=[enrollment.program for enrollment in rows]),
        "training": training_summary(user, today=timezone.localdate()),
    }
    return render(request, "security/compliance.html", context)


@capability_required(C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
@require_POST
def compliance_enroll(request):
    enrolled = [enrollment.program for enrollment in enrollments(request.user)]
    form = EnrollForm(request.POST, enrolled=enrolled)
    if not form.is_valid():
        messages.error(request, "Pick a program the organization is not enrolled in yet.")
        return redirect("security:compliance")
    return post_action(
        request,
        lambda: services.program_enroll(
            actor=request.user, organization=request.user.organization, program=form.cleaned_data["program"]
        ),
        success=lambda enrollment: (
            f"Enrolled in {enrollment.get_program_display()}: its verification checks have started."
        ),
        back=reverse("security:compliance"),
    )


# --- Checks ---------------------------------------------------------------------------------------


def _check_context(request, check: VerificationCheck, **extra: Any) -> dict[str, Any]:
    """The check with what may be done to it now (whether the person may is the template's
    `{% can %}`), its documents, the assessment shown and its history."""
    documents = list(check.documents.select_related("uploaded_by").defer("extracted_text"))
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
        "uploadable": check.status in CHECK_UPLOAD_STATUSES and bool(types),
        "appealable": check.status == CheckStatus.REJECTED and check.appeals_used < MAX_APPEALS,
        "appeals_left": max(MAX_APPEALS - check.appeals_used, 0),
        "upload_form": DocumentUploadForm(allowed_types=types),
        "appeal_form": AppealForm(),
        "history": check_history(check),
    }
    context.update(extra)
    return context


@tenant_route(VerificationCheck)
@capability_required(*READ, message=READ_DENIED)
def check_detail(request, pk: int):
    check = verification_check(request.user, pk)
    return render(request, "security/check_detail.html", _check_context(request, check))


@tenant_route(VerificationCheck)
@capability_required(C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
@require_POST
def check_upload(request, pk: int):
    """Store a document for the check and show its instant assessment, or show why it was refused."""
    check = verification_check(request.user, pk)
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
@capability_required(C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
@require_POST
def check_appeal(request, pk: int):
    check = verification_check(request.user, pk)
    back = reverse("security:check-detail", args=[check.pk])
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the decision should be reviewed again.")
        return redirect(back)
    return post_action(
        request,
        lambda: services.check_appeal(actor=request.user, check=check, note=form.cleaned_data["note"]),
        success=lambda appealed: (
            f"Appeal submitted ({appealed.appeals_used} of {MAX_APPEALS} used). A reviewer looks at it again."
        ),
        back=back,
    )


# --- Documents ------------------------------------------------------------------------------------


@tenant_route(VerificationDocument)
@capability_required(*READ, message=READ_DENIED)
def document_detail(request, pk: int):
    """The document's assessment: score, band and every finding with its points and fix."""
    document = verification_document(request.user, pk)
    context = {"document": document, "check": document.check_ref, "findings": document.assist_findings}
    return render(request, "security/document_detail.html", context)


@tenant_route(VerificationDocument)
@capability_required(*READ, message=READ_DENIED)
def document_download(request, pk: int):
    document = verification_document(request.user, pk)
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
    verified = verified_checks(user)
    for name in LEGAL_FIELDS:
        kinds = LEGAL_FIELDS_REVERIFY.get(name, ())
        affected = [check for check in verified if check.kind in kinds]
        if affected:
            form.fields[name].help_text = f"Changing this restarts verification: {_check_names(affected)}."


@capability_required(*READ, message=READ_DENIED)
def legal_profile(request):
    """Edit the legal profile (COMPLIANCE_MANAGE). A change that restarts verified checks is shown
    first and saved only once confirmed; after saving, the page lists the checks that restarted."""
    user = request.user
    organization = get_visible_or_404(Organization, user, pk=user.organization_id)
    context: dict[str, Any] = {"organization": organization}
    restarted_ids = [int(v) for v in request.GET.get("restarted", "").split(",") if v.isdigit()]
    context["restarted"] = checks_by_ids(user, restarted_ids) if restarted_ids else []
    form = LegalProfileForm(request.POST or None, instance=organization)
    if request.method == "POST":
        require_capability(request, C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
        if form.is_valid():
            changes = form.changed_legal_fields()
            restarting = checks_restarted_by(organization, changes)
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
                organization, restarted = legal_profile_update(actor=user, organization=stored, **changes)
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


@capability_required(*READ, message=READ_DENIED)
def training(request):
    """Assign a course to people with a due date (COMPLIANCE_MANAGE); the list, filtered by the
    API's parameters (`status`, `courseCode`, `userId`, `q`) in the URL, with complete and cancel.
    Canceled assignments show only when asked for."""
    user = request.user
    assign_form = TrainingAssignForm(request.POST or None, user=user)
    if request.method == "POST":
        require_capability(request, C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
        if assign_form.is_valid():
            try:
                created = training_services.training_assign(
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
    filters = TrainingFilterSet(request.GET, queryset=training_assignments(user), request=request)
    assignments = filters.qs
    if not request.GET.get("status"):
        assignments = assignments.filter(canceled_at__isnull=True)
    page = LookaheadPaginator(assignments, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.status_label = TrainingStatus(row.status).label
    today = timezone.localdate()
    context = {
        "assignments": page.object_list,
        "page_obj": page,
        "query_without_page": query_without(request, "page"),
        "filters": filters,
        "assign_form": assign_form,
        "summary": training_summary(user, today=today),
        "today": today,
    }
    return render(request, "security/training.html", context, status=400 if assign_form.errors else 200)


def _back_to_training(request) -> str:
    # Keep the list's filters (the buttons post from a filtered list), or go back to the profile
    # page where people complete their own training.
    target = request.POST.get("next", "")
    if target.startswith((reverse("security:training"), reverse("home:profile"))):
        return target
    return reverse("security:training")


def _assignment(request, pk: int) -> TrainingAssignment:
    return get_visible_or_404(
        TrainingAssignment.objects.select_related("course", "user"), request.user, pk=pk
    )


@tenant_route(TrainingAssignment)
@member_page
@require_POST
def training_complete(request, pk: int):
    """People complete their own training; a compliance manager completes it for anyone."""
    assignment = _assignment(request, pk)
    if assignment.user_id != request.user.pk:
        require_capability(request, C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
    return post_action(
        request,
        lambda: training_services.training_complete(actor=request.user, assignment=assignment),
        success=f"{assignment.course.title} completed by {assignment.user.email}.",
        back=_back_to_training(request),
    )


@tenant_route(TrainingAssignment)
@capability_required(C.COMPLIANCE_MANAGE, message=MANAGE_DENIED)
@require_POST
def training_cancel(request, pk: int):
    assignment = _assignment(request, pk)
    return post_action(
        request,
        lambda: training_services.training_cancel(actor=request.user, assignment=assignment),
        success=f"{assignment.course.title} canceled for {assignment.user.email}.",
        back=_back_to_training(request),
    )
