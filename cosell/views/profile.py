"""What the vendor's sellers see of the organization: its capability profile with its customer
references and solutions (spec §6), which only Referrals admins change, and how the sellers'
matching ranks it for a customer need (spec §7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import redirect, render
from django.urls import reverse

from cosell.forms import CapabilityProfileForm, CaseStudyForm, NeedForm, SolutionForm, model_form_values
from cosell.models import CaseStudy, Solution
from cosell.selectors import profile as profile_selectors
from cosell.selectors.matching import CustomerNeed, match_own
from cosell.services import profile as profile_services
from cosell.views.referrals import DENIED, REFERRAL_ACCESS
from portal.capabilities import Capability
from portal.tenancy import tenant_route
from portal.views import capability_required, form_errors, post_action, require_capability

ADMINS_ONLY = "Only Referrals admins change the capability profile."
manages_profile = capability_required(Capability.REFERRALS_MANAGE_ALL, message=ADMINS_ONLY)


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def profile(request):
    """What vendor sellers read to pick a partner: capabilities, customer references, solutions."""
    user = request.user
    instance = profile_selectors.capability_profile_of(user=user)
    data = None
    if request.method == "POST":
        require_capability(request, Capability.REFERRALS_MANAGE_ALL, message=ADMINS_ONLY)
        data = request.POST
    form = CapabilityProfileForm(data, instance=instance, prefix="profile")
    if data is not None and form.is_valid():
        try:
            profile_services.capability_profile_save(
                organization=user.organization, actor=user, values=model_form_values(form)
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Capability profile saved.")
            return redirect("cosell:profile")
    context = {
        "form": form,
        "profile": instance,
        "case_studies": profile_selectors.case_studies_of(user=user),
        "solutions": profile_selectors.solutions_of(user=user),
    }
    return render(request, "cosell/profile.html", context)


# --- Customer references and solutions: one form each -----------------------------------------------


@dataclass(frozen=True)
class Rows:
    """One kind of row of the profile: how it is named, edited, saved and deleted."""

    noun: str
    form_class: type
    save: Callable[..., models.Model]
    delete: Callable[..., None]


CASE_STUDIES = Rows(
    noun="customer reference",
    form_class=CaseStudyForm,
    save=lambda row, **kwargs: profile_services.case_study_save(case_study=row, **kwargs),
    delete=lambda row, **kwargs: profile_services.case_study_delete(case_study=row, **kwargs),
)
SOLUTIONS = Rows(
    noun="solution",
    form_class=SolutionForm,
    save=lambda row, **kwargs: profile_services.solution_save(solution=row, **kwargs),
    delete=lambda row, **kwargs: profile_services.solution_delete(solution=row, **kwargs),
)


def _row_form(request, rows: Rows, row: Any):
    form = rows.form_class(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        try:
            saved = rows.save(
                row,
                organization=request.user.organization,
                actor=request.user,
                values=model_form_values(form),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"{rows.noun.capitalize()} “{saved}” saved.")
            return redirect("cosell:profile")
    return render(request, "cosell/profile_row_form.html", {"form": form, "row": row, "noun": rows.noun})


def _row_delete(request, rows: Rows, row: Any):
    if request.method != "POST":
        return render(request, "cosell/profile_row_delete.html", {"row": row, "noun": rows.noun})
    return post_action(
        request,
        lambda: rows.delete(row, actor=request.user),
        success=f"{rows.noun.capitalize()} “{row}” deleted.",
        back=reverse("cosell:profile"),
    )


@manages_profile
def case_study_new(request):
    return _row_form(request, CASE_STUDIES, None)


@tenant_route(CaseStudy)
@manages_profile
def case_study_edit(request, pk: int):
    return _row_form(request, CASE_STUDIES, profile_selectors.case_study_for(user=request.user, pk=pk))


@tenant_route(CaseStudy)
@manages_profile
def case_study_delete(request, pk: int):
    return _row_delete(request, CASE_STUDIES, profile_selectors.case_study_for(user=request.user, pk=pk))


@manages_profile
def solution_new(request):
    return _row_form(request, SOLUTIONS, None)


@tenant_route(Solution)
@manages_profile
def solution_edit(request, pk: int):
    return _row_form(request, SOLUTIONS, profile_selectors.solution_for(user=request.user, pk=pk))


@tenant_route(Solution)
@manages_profile
def solution_delete(request, pk: int):
    return _row_delete(request, SOLUTIONS, profile_selectors.solution_for(user=request.user, pk=pk))


# --- Matching (spec §7) -----------------------------------------------------------------------------


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def matching(request):
    """ "How a seller would rank you": the organization's own score for a need, factor by factor, and
    its position; other partners' names and scores stay with the vendor (its sellers use the admin)."""
    form = NeedForm(request.GET if "country" in request.GET else None)
    context: dict[str, Any] = {"form": form, "own": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        need = CustomerNeed(
            country=data["country"],
            industry=data["industry"],
            products=tuple(data["products"]),
            solution_area=data["solution_area"],
            size=data["size"],
        )
        own = match_own(need=need, organization_id=request.user.organization_id)
        context.update(
            own=own.match, position=own.position, ranked_count=own.ranked, has_profile=own.has_profile
        )
    return render(request, "cosell/matching.html", context)
