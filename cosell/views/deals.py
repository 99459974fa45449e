"""The deal workflow (spec §3): five steps saved as a draft from the first on, resumed from My deals,
and submitted once the whole document is valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from cosell.choices import DealKind
from cosell.forms import STEPS
from cosell.models import Referral
from cosell.selectors.referrals import solution_id_of
from cosell.services import referrals as referral_services
from cosell.views.referrals import DENIED, REFERRAL_ACCESS, detail_url, errors_onto, money, referral_or_404
from portal.tenancy import tenant_route
from portal.views import capability_required


def step_initial(referral: Referral | None, step: int) -> dict[str, Any]:
    if referral is None:
        return {}
    profile = referral.customer_profile or {}
    address = profile.get("address") or {}
    requirements = referral.requirements or {}
    consent = referral.consent or {}
    if step == 1:
        return {
            "name": referral.name,
            "customer_name": profile.get("name", referral.customer_name),
            "address_line1": address.get("addressLine1", ""),
            "city": address.get("city", ""),
            "state": address.get("state", ""),
            "postal_code": address.get("postalCode", ""),
            "country": address.get("country", referral.customer_country),
            "size": profile.get("size", referral.customer_size),
            "contacts": profile.get("team") or [],
        }
    if step == 2:
        tags = {
            kind: [t.get("id") for t in requirements.get(kind, [])]
            for kind in ("industries", "products", "services")
        }
        return {
            "solution": solution_id_of(referral) or None,
            **tags,
            "partner_role": referral.partner_role,
            "solution_area": referral.solution_area,
        }
    if step == 3:
        return {
            "deal_value": money(referral.deal_value),
            "currency": referral.currency,
            "closing_date": referral.closing_at.date() if referral.closing_at else None,
        }
    if step == 4:
        return {"team": referral.team or []}
    return {
        "deal_kind": referral.deal_kind or DealKind.CO_SELL,
        "consent_share": bool(consent.get("consentToToShareInfoWithOthers")),
        "consent_contact": bool(consent.get("consentToContact")),
        "notes": referral.notes,
    }


#: Which step holds the field a submit error names (by the top of its JSON path).
STEP_OF_PATH = {
    "name": 1,
    "customerProfile": 1,
    "target": 2,
    "details.requirements": 2,
    "partnerRole": 2,
    "solutionArea": 2,
    "details.dealValue": 3,
    "details.currency": 3,
    "details.closingDateTime": 3,
    "team": 4,
    "type": 5,
    "dealKind": 5,
    "consent": 5,
    "details.notes": 5,
}


def step_of(path: str) -> int | None:
    for prefix, step in sorted(STEP_OF_PATH.items(), key=lambda item: -len(item[0])):
        if path == prefix or path.startswith(prefix + "."):
            return step
    return None


def _step_form(step: int, organization, data=None, initial=None):
    form_class = STEPS[step][1]
    kwargs: dict[str, Any] = {"initial": initial or {}}
    if step == 2:
        kwargs["organization"] = organization
    return form_class(data, **kwargs)


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def deal_new(request):
    """Step 1 of a new deal; the draft exists from the first save on."""
    return _deal_step(request, None, 1)


@tenant_route(Referral, step="1")
@capability_required(*REFERRAL_ACCESS, message=DENIED)
def deal_step(request, pk: int, step: int):
    referral = referral_or_404(request, pk)
    if not referral.is_draft:
        messages.info(request, "This deal was submitted; edit it from its page.")
        return redirect(detail_url(referral))
    if step not in STEPS:
        raise Http404("No such step.")
    return _deal_step(request, referral, step)


def _deal_step(request, draft: Referral | None, step: int):
    organization = request.user.organization
    form = _step_form(
        step,
        organization,
        data=request.POST if request.method == "POST" else None,
        initial=step_initial(draft, step),
    )
    context: dict[str, Any] = {
        "draft": draft,
        "step": step,
        "steps": STEPS,
        "form": form,
        "submit_errors": [],
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, "cosell/deal_step.html", context)
    try:
        draft = referral_services.deal_draft_save(
            organization=organization, actor=request.user, data=form.document(), referral=draft
        )
    except ValidationError as exc:
        errors_onto(form, exc, form.PATHS)
        return render(request, "cosell/deal_step.html", context)
    action = request.POST.get("action", "next")
    if action == "draft":
        messages.success(request, f"Draft saved at step {step} of {len(STEPS)}. Resume it from My deals.")
        return redirect("cosell:deal-step", pk=draft.pk, step=step)
    if action == "submit" and step == len(STEPS):
        try:
            submitted = referral_services.deal_submit(referral=draft, actor=request.user)
        except ValidationError as exc:
            context["draft"] = draft
            context["submit_errors"] = _submit_errors(exc)
            return render(request, "cosell/deal_step.html", context)
        messages.success(request, f"{submitted.name} submitted.")
        return redirect(detail_url(submitted))
    return redirect("cosell:deal-step", pk=draft.pk, step=min(step + 1, len(STEPS)))


@dataclass(frozen=True)
class SubmitError:
    path: str
    message: str
    step: int | None


def _submit_errors(exc: ValidationError) -> list[SubmitError]:
    if not hasattr(exc, "error_dict"):
        return [SubmitError("", message, None) for message in exc.messages]
    return [
        SubmitError(path, message, step_of(path))
        for path, errors in exc.message_dict.items()
        for message in errors
    ]
