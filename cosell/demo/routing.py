"""The demo organizations' inbound routing rules (spec §5); Fabrikam's are spec §5's example
(DE+AT / SOL-ABC-001 → DACH Data team, any country / SOL-ABC-001 → Global Data team, default →
Inbound triage)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Organization, User
from cosell.demo.organizations import CONTOSO, DOMAINS, FABRIKAM, NORTHWIND, TAILWIND
from cosell.models import RoutingRule
from cosell.services.routing import routing_rule_create, routing_rule_update

__all__ = ("DEMO_ACTOR", "ROUTING_RULES", "demo_rule_upsert")

#: Who the audit log says wrote the demo catalogue.
DEMO_ACTOR = "demo data"


@dataclass(frozen=True)
class DemoRule:
    partner_global_id: str
    name: str
    priority: int
    team: str = ""
    #: Local part of the demo user the rule assigns to (the team when that user is missing).
    user: str = ""
    countries: tuple[str, ...] = ()
    solution_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    min_deal_value: Decimal | None = None
    is_default: bool = False


ROUTING_RULES = [
    DemoRule(
        FABRIKAM,
        "DACH data platform",
        10,
        "DACH Data team",
        countries=("DE", "AT"),
        solution_ids=("SOL-ABC-001",),
    ),
    DemoRule(FABRIKAM, "Data platform, any country", 20, "Global Data team", solution_ids=("SOL-ABC-001",)),
    DemoRule(
        FABRIKAM,
        "Modern Work leads",
        30,
        "Modern Work team",
        user="referrals.user",
        products=("Microsoft365", "Teams"),
    ),
    DemoRule(FABRIKAM, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(CONTOSO, "Ireland desk", 10, "Dublin team", countries=("IE",)),
    DemoRule(CONTOSO, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(NORTHWIND, "Large deals", 10, "Enterprise sales", min_deal_value=Decimal("250000")),
    DemoRule(NORTHWIND, "Default", 1000, "Inbound triage", is_default=True),
    DemoRule(TAILWIND, "Canada", 10, "Toronto team", countries=("CA",)),
    DemoRule(TAILWIND, "Default", 1000, "Inbound triage", is_default=True),
]


def demo_rule_upsert(organization: Organization, rule: DemoRule) -> None:
    """The demo rule of `organization` by its name, created or brought back to the demo's values
    through the routing rule services (nothing is written when it already has them)."""
    if rule.is_default:
        other_default = RoutingRule.objects.filter(organization=organization, is_default=True).exclude(
            name=rule.name
        )
        if other_default.exists():
            # The organization chose its own default rule; the demo leaves it alone.
            return
    user = None
    if rule.user:
        user = User.objects.filter(
            email=f"{rule.user}@{DOMAINS[rule.partner_global_id]}", is_active=True
        ).first()
    values = {
        "priority": rule.priority,
        "is_active": True,
        "is_default": rule.is_default,
        "match_countries": list(rule.countries),
        "match_solution_ids": list(rule.solution_ids),
        "match_products": list(rule.products),
        "match_min_deal_value": rule.min_deal_value,
        "assign_to_team": "" if user else rule.team,
        "assign_to_user": user,
    }
    existing = RoutingRule.objects.filter(organization=organization, name=rule.name).first()
    if existing is None:
        routing_rule_create(organization=organization, actor=DEMO_ACTOR, values={"name": rule.name, **values})
    else:
        routing_rule_update(rule=existing, actor=DEMO_ACTOR, values=values)
