"""`cosell_demo_seed`: the catalogue, then (while the demo organizations have none) the
referrals; and the report of what the demo organizations hold afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from cosell.demo.catalogue import cosell_demo_catalogue
from cosell.demo.organizations import demo_organizations
from cosell.demo.referrals import demo_referrals_seed
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution

__all__ = ("CosellSeedReport", "cosell_demo_loaded", "cosell_demo_seed")


@dataclass
class CosellSeedReport:
    profiles: int = 0
    case_studies: int = 0
    solutions: int = 0
    routing_rules: int = 0
    referrals: int = 0
    created_referrals: int = 0
    expired: int = 0
    #: "Draft" or "Status/Substatus" → how many referrals of the demo organizations are in it.
    states: dict[str, int] = field(default_factory=dict)


def cosell_demo_loaded() -> bool:
    """True once the demo organizations have referrals."""
    return Referral.objects.filter(organization__in=demo_organizations()).exists()


def _state(is_draft: bool, status: str, substatus: str) -> str:
    return "Draft" if is_draft else f"{status}/{substatus}"


def cosell_demo_seed(*, seed: int = 7) -> CosellSeedReport:
    """Profiles, case studies, solutions and routing rules; then referrals in every state.

    Idempotent: the catalogue is upserted and referrals are made only while the demo
    organizations have none. The same seed gives the same deal values and closing dates.
    """
    report = CosellSeedReport()
    organizations = demo_organizations()
    with transaction.atomic():
        cosell_demo_catalogue(organizations)
        if organizations and not cosell_demo_loaded():
            demo_referrals_seed(organizations, seed, report)
    scope = Q(organization__in=organizations)
    report.profiles = CapabilityProfile.objects.filter(scope).count()
    report.case_studies = CaseStudy.objects.filter(scope).count()
    report.solutions = Solution.objects.filter(scope).count()
    report.routing_rules = RoutingRule.objects.filter(scope).count()
    report.referrals = Referral.objects.filter(scope).count()
    for is_draft, status, substatus in Referral.objects.filter(scope).values_list(
        "is_draft", "status", "substatus"
    ):
        state = _state(is_draft, status, substatus)
        report.states[state] = report.states.get(state, 0) + 1
    return report
