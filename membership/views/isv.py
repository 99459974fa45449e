"""ISV Success pages: the eligibility checklist, the application (a draft), its submission, its
status with a timeline and the reviewer's note, and once approved the ISV Success benefits
(spec/membership.md §3).

MEMBERSHIP_VIEW reads; MEMBERSHIP_MANAGE edits, submits and reopens. Views read through
`membership.selectors` and act through `membership.services.isv`; every rule and every write is the
services', and their ValidationErrors are shown on the form fields they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from membership.choices import IsvStatus
from membership.forms_isv import IsvApplicationForm, IsvSubmitForm
from membership.models import IsvSuccessApplication
from membership.selectors import benefits as benefit_selectors
from membership.selectors import isv as selectors
from membership.services import isv as services
from membership.views import DENIED
from portal.capabilities import Capability
from portal.history import history_for
from portal.views import capability_required, form_errors, post_action, require_capability

C = Capability
MANAGERS_ONLY = (
    "Only an AI Cloud Partner Program partner admin or a Global admin can change the ISV Success application."
)
#: Where a failed eligibility check (`selectors.isv_eligibility`, by code) is fixed: (URL name, link text).
FIX_LINKS: dict[str, tuple[str, str]] = {
    "membership": ("membership:index", "See the membership on the Overview page"),
    "verification": ("security:compliance", "Complete the account verification on the Compliance page"),
}


# --- Helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    code: str
    label: str
    ok: bool
    detail: str
    fix_url: str
    fix_label: str


def checklist(eligibility) -> list[ChecklistRow]:
    rows = []
    for check in eligibility.checks:
        url_name, fix_label = FIX_LINKS.get(check.code, ("", ""))
        rows.append(
            ChecklistRow(
                code=check.code,
                label=check.label,
                ok=check.ok,
                detail=check.detail,
                fix_url=reverse(url_name) if url_name and not check.ok else "",
                fix_label=fix_label,
            )
        )
    return rows


@dataclass(frozen=True)
class TimelineStep:
    status: str
    label: str
    state: str  # done | current | skipped | todo
    at: datetime | None


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    from_status: str
    to_status: str
    note: str


_STEP_ORDER = {
    IsvStatus.DRAFT: 0,
    IsvStatus.SUBMITTED: 1,
    IsvStatus.IN_REVIEW: 2,
    IsvStatus.APPROVED: 3,
    IsvStatus.REJECTED: 3,
}


def application_history(application: IsvSuccessApplication) -> list[HistoryRow]:
    """Every status change of the application (with the review note), oldest first."""
    return [
        HistoryRow(
            at=event.at,
            who=event.actor_label,
            from_status=IsvStatus(event.from_status).label if event.from_status else "",
            to_status=IsvStatus(event.to_status).label,
            note=event.note,
        )
        for event in history_for(application)
    ]


def timeline(application: IsvSuccessApplication, history: list[HistoryRow]) -> list[TimelineStep]:
    """Draft → submitted → in review → approved or rejected, with when each step of the current round
    (since the application last became a draft) was reached."""
    reached: dict[str, datetime] = {}
    labels = {label: value for value, label in IsvStatus.choices}
    for row in history:
        status = labels[row.to_status]
        if status == IsvStatus.DRAFT:
            reached = {}
        reached[status] = row.at
    position = _STEP_ORDER[IsvStatus(application.status)]
    decided = application.status in (IsvStatus.APPROVED, IsvStatus.REJECTED)
    steps = []
    for status in (IsvStatus.DRAFT, IsvStatus.SUBMITTED, IsvStatus.IN_REVIEW):
        index = _STEP_ORDER[status]
        if index < position:
            state = "done" if status in reached or status != IsvStatus.IN_REVIEW else "skipped"
        elif index == position:
            state = "current"
        else:
            state = "todo"
        steps.append(TimelineStep(status, status.label, state, reached.get(status)))
    if decided:
        final = IsvStatus(application.status)
        steps.append(
            TimelineStep(final, final.label, "current", reached.get(final) or application.reviewed_at)
        )
    else:
        steps.append(TimelineStep("decision", "Approved or rejected", "todo", None))
    return steps


def _isv_context(request, **extra: Any) -> dict[str, Any]:
    user = request.user
    organization = user.organization
    application = selectors.current_application(user)
    eligibility = selectors.isv_eligibility(organization)
    history = application_history(application) if application else []
    benefits = []
    if application is not None and application.status == IsvStatus.APPROVED:
        benefits = [
            (package, lines)
            for package, lines in benefit_selectors.benefit_lines(organization)
            if package.code == services.ISV_PACKAGE_CODE
        ]
    # What the application's state allows; the template shows it to those who may manage it.
    context = {
        "eligibility": eligibility,
        "checks": checklist(eligibility),
        "application": application,
        "history": history,
        "timeline": timeline(application, history) if application else [],
        "benefits": benefits,
        "startable": application is None and eligibility.eligible,
        "editable": application is not None and application.status == IsvStatus.DRAFT,
        "reopenable": application is not None and application.status == IsvStatus.REJECTED,
        "submit_form": IsvSubmitForm(),
    }
    context.update(extra)
    return context


# --- Pages ----------------------------------------------------------------------------------------


@capability_required(C.MEMBERSHIP_VIEW, message=DENIED)
def isv_success(request):
    """The eligibility checklist, the application's status and timeline, and the benefits once
    approved. A POST (MEMBERSHIP_MANAGE) reopens a rejected application as a draft."""
    if request.method == "POST":
        require_capability(request, C.MEMBERSHIP_MANAGE, message=MANAGERS_ONLY)
        application = selectors.current_application(request.user)
        if request.POST.get("action") != "reopen" or application is None:
            messages.error(request, "There is no rejected application to reopen.")
            return redirect("membership:isv")
        return post_action(
            request,
            lambda: services.isv_application_reopen(actor=request.user, application=application),
            success=f"{application.app_name} is a draft again: change it and submit it again.",
            back=lambda reopened: "membership:isv-application" if reopened else "membership:isv",
        )
    return render(request, "membership/isv.html", _isv_context(request))


@capability_required(C.MEMBERSHIP_VIEW, message=DENIED)
def isv_application(request):
    """The application form: GET shows the draft (or an empty form), POST saves a draft."""
    user = request.user
    application = selectors.current_application(user)
    editable = application is None or application.status == IsvStatus.DRAFT
    if request.method == "POST":
        require_capability(request, C.MEMBERSHIP_MANAGE, message=MANAGERS_ONLY)
        form = IsvApplicationForm.for_application(application, request.POST)
        if form.is_valid():
            try:
                saved = services.isv_application_save(
                    actor=user,
                    organization=user.organization,
                    data=form.service_data(),
                    application=application,
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request, f"Draft of {saved.app_name} saved. Accept the program agreement to submit it."
                )
                return redirect("membership:isv")
    else:
        form = IsvApplicationForm.for_application(application)
    context = {"application": application, "form": form, "editable": editable}
    return render(request, "membership/isv_application.html", context, status=400 if form.errors else 200)


@require_POST
@capability_required(C.MEMBERSHIP_MANAGE, message=MANAGERS_ONLY)
def isv_submit(request):
    """Submit the draft for review; it needs the program agreement and the eligibility to hold."""
    application = selectors.current_application(request.user)
    if application is None or application.status != IsvStatus.DRAFT:
        messages.error(request, "There is no draft application to submit: start or reopen one first.")
        return redirect("membership:isv")
    form = IsvSubmitForm(request.POST)
    if form.is_valid():
        try:
            services.isv_application_submit(
                actor=request.user,
                application=application,
                accept_agreement=form.cleaned_data["accept_agreement"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"{application.app_name} submitted: the ISV Success team reviews it.")
            return redirect("membership:isv")
    return render(request, "membership/isv.html", _isv_context(request, submit_form=form), status=400)
