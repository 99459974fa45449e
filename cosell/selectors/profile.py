"""The capability profile page's rows: the organization's profile, customer references and solutions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cosell.models import CapabilityProfile, CaseStudy, Solution
from portal.tenancy import get_visible_or_404

__all__ = ("capability_profile_of", "case_studies_of", "case_study_for", "solution_for", "solutions_of")


def capability_profile_of(*, user: Any) -> CapabilityProfile:
    """The organization's profile, or an unsaved empty one before its first save."""
    organization = user.organization
    return CapabilityProfile.objects.visible_to(user).first() or CapabilityProfile(organization=organization)


def case_studies_of(*, user: Any) -> QuerySet[CaseStudy]:
    return CaseStudy.objects.visible_to(user).order_by("title", "id")


def solutions_of(*, user: Any) -> QuerySet[Solution]:
    return Solution.objects.visible_to(user).order_by("name", "id")


def case_study_for(*, user: Any, pk: int) -> CaseStudy:
    return get_visible_or_404(CaseStudy, user, pk=pk)


def solution_for(*, user: Any, pk: int) -> Solution:
    return get_visible_or_404(Solution, user, pk=pk)
