"""Inbound routing (spec/cosell.md §5), the read side: which team or user an incoming referral
goes to, and why.

Active rules are tried by priority, then id; the first whose every non-empty criterion matches
wins; else the organization's default rule; else every Referrals admin. `routing_decide` answers
for a referral (the referral services store its answer); `routing_test` answers the rule tester
without a referral; `routing_problems` flags rules that can never fire. The pages read their
rules through `routing_rules_listed` and `routing_rule_for`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from cosell.models import Referral, RoutingRule
from portal.capabilities import ROLE_CAPABILITIES, Capability
from portal.tenancy import get_visible_or_404

__all__ = (
    "ALL_ADMINS_TEAM",
    "Problem",
    "RoutingDecision",
    "RoutingInput",
    "RulesListing",
    "routing_decide",
    "routing_explanation",
    "routing_problems",
    "routing_rule_for",
    "routing_rule_next_priority",
    "routing_rules_listed",
    "routing_test",
)

#: What `assigned_team` says when no rule applies and the organization has no default.
ALL_ADMINS_TEAM = "Referrals admins"


@dataclass(frozen=True)
class RoutingInput:
    """What the rules look at: the referral's customer country, solutions, products and value."""

    country: str
    solution_ids: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    deal_value: Decimal | None = None

    @classmethod
    def of(cls, referral: Referral) -> RoutingInput:
        requirements = referral.requirements or {}
        return cls(
            country=referral.customer_country,
            solution_ids=tuple(
                t.get("id", "") for t in referral.target or [] if t.get("type") == "SolutionProfile"
            ),
            products=tuple(tag.get("id", "") for tag in requirements.get("products") or []),
            deal_value=referral.deal_value,
        )


@dataclass
class RoutingDecision:
    rule: RoutingRule | None
    team: str
    user: User | None = None
    #: The Referrals admins the referral goes to when no rule applies (no default rule).
    admins: list[User] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.rule is not None and self.rule.is_default

    @property
    def summary(self) -> str:
        target = self.team or (self.user.email if self.user else "")
        if self.rule is None:
            return f"No rule applies and there is no default rule: {ALL_ADMINS_TEAM}."
        kind = "default rule" if self.rule.is_default else f"rule {self.rule.name!r}"
        return f"Routed by {kind} to {target}."


@dataclass(frozen=True)
class Problem:
    """A rule that is shadowed or overlaps another (spec §5)."""

    rule: RoutingRule
    other: RoutingRule
    code: str  # "unreachable" or "overlap"
    message: str


def _ordered_rules(organization_id: int) -> QuerySet[RoutingRule]:
    return RoutingRule.objects.filter(organization_id=organization_id, is_active=True).select_related(
        "assign_to_user"
    )


def _criteria(rule: RoutingRule, given: RoutingInput) -> list[tuple[bool, str]]:
    """(matched, sentence) for each non-empty criterion of the rule."""
    checks: list[tuple[bool, str]] = []
    if rule.match_countries:
        countries = ", ".join(rule.match_countries)
        ok = given.country in rule.match_countries
        checks.append((ok, f"country {given.country or '(none)'} {'is' if ok else 'is not'} in {countries}"))
    if rule.match_solution_ids:
        wanted = ", ".join(rule.match_solution_ids)
        hit = sorted(set(given.solution_ids) & set(rule.match_solution_ids))
        shown = ", ".join(given.solution_ids) or "(none)"
        checks.append((bool(hit), f"solution {shown} {'is' if hit else 'is not'} one of {wanted}"))
    if rule.match_products:
        wanted = ", ".join(rule.match_products)
        hit = sorted(set(given.products) & set(rule.match_products))
        shown = ", ".join(given.products) or "(none)"
        checks.append(
            (bool(hit), f"products {shown} {'include' if hit else 'do not include'} one of {wanted}")
        )
    if rule.match_min_deal_value is not None:
        minimum = rule.match_min_deal_value.normalize()
        ok = given.deal_value is not None and given.deal_value >= rule.match_min_deal_value
        value = "(none)" if given.deal_value is None else f"{given.deal_value.normalize():f}"
        checks.append((ok, f"deal value {value} {'is at least' if ok else 'is below'} {minimum:f}"))
    return checks


def _assignee(rule: RoutingRule) -> str:
    return rule.assign_to_team or (rule.assign_to_user.email if rule.assign_to_user else "")


def _referral_admins(organization_id: int) -> list[User]:
    roles = [role for role, caps in ROLE_CAPABILITIES.items() if Capability.REFERRALS_MANAGE_ALL in caps]
    return list(
        User.objects.filter(organization_id=organization_id, is_active=True, role_assignments__role__in=roles)
        .distinct()
        .order_by("email")
    )


def routing_decide(*, organization_id: int, given: RoutingInput) -> RoutingDecision:
    """Which rule fires for `given`, with one explanation line per rule tried (spec §5)."""
    lines: list[str] = []
    default: RoutingRule | None = None
    for rule in _ordered_rules(organization_id).order_by("priority", "id"):
        if rule.is_default:
            default = rule
            continue
        checks = _criteria(rule, given)
        label = f"Rule {rule.name!r} (priority {rule.priority})"
        if not checks:
            lines.append(f"{label}: no criteria, matches everything → {_assignee(rule)}.")
            return RoutingDecision(rule, rule.assign_to_team, rule.assign_to_user, explanation=lines)
        failed = [text for ok, text in checks if not ok]
        if failed:
            lines.append(f"{label}: skipped — {'; '.join(failed)}.")
            continue
        lines.append(f"{label}: matches — {'; '.join(text for _, text in checks)} → {_assignee(rule)}.")
        return RoutingDecision(rule, rule.assign_to_team, rule.assign_to_user, explanation=lines)
    if default is not None:
        lines.append(f"No rule matched: default rule {default.name!r} → {_assignee(default)}.")
        return RoutingDecision(default, default.assign_to_team, default.assign_to_user, explanation=lines)
    admins = _referral_admins(organization_id)
    lines.append(
        f"No rule matched and there is no default rule: assigned to all Referrals admins "
        f"({', '.join(user.email for user in admins) or 'none yet'})."
    )
    return RoutingDecision(None, ALL_ADMINS_TEAM, None, admins=admins, explanation=lines)


def routing_test(
    *,
    organization,
    country: str,
    solution_id: str = "",
    products: Sequence[str] = (),
    deal_value: Decimal | None = None,
) -> RoutingDecision:
    """The rule tester: the decision for a referral with these properties, nothing stored."""
    given = RoutingInput(
        country=(country or "").strip().upper(),
        solution_ids=(solution_id.strip(),) if solution_id and solution_id.strip() else (),
        products=tuple(p for p in products if p),
        deal_value=deal_value,
    )
    return routing_decide(organization_id=organization.pk, given=given)


# --- Problems -------------------------------------------------------------------------------------


def _covers(wider: Iterable, narrower: Iterable) -> bool:
    """A criterion list `wider` matches everything `narrower` matches (empty = any)."""
    wider, narrower = set(wider), set(narrower)
    return not wider or (bool(narrower) and narrower <= wider)


def _intersects(one: Iterable, two: Iterable) -> bool:
    one, two = set(one), set(two)
    return not one or not two or bool(one & two)


def _value_covers(wider: Decimal | None, narrower: Decimal | None) -> bool:
    return wider is None or (narrower is not None and narrower >= wider)


def _shadows(earlier: RoutingRule, later: RoutingRule) -> bool:
    """Every input `later` matches is matched by `earlier` first: `later` never fires."""
    return (
        _covers(earlier.match_countries, later.match_countries)
        and _covers(earlier.match_solution_ids, later.match_solution_ids)
        and _covers(earlier.match_products, later.match_products)
        and _value_covers(earlier.match_min_deal_value, later.match_min_deal_value)
    )


def _overlaps(one: RoutingRule, two: RoutingRule) -> bool:
    return (
        _intersects(one.match_countries, two.match_countries)
        and _intersects(one.match_solution_ids, two.match_solution_ids)
        and _intersects(one.match_products, two.match_products)
    )


def routing_problems(organization) -> list[Problem]:
    """Flag active rules that can never fire (an earlier rule covers all they match) and pairs
    that both match some input (the earlier one wins there, which may not be what was meant)."""
    rules = [
        rule for rule in _ordered_rules(organization.pk).order_by("priority", "id") if not rule.is_default
    ]
    problems: list[Problem] = []
    for index, later in enumerate(rules):
        shadowed = False
        for earlier in rules[:index]:
            if _shadows(earlier, later):
                problems.append(
                    Problem(
                        later,
                        earlier,
                        "unreachable",
                        f"Rule {later.name!r} (priority {later.priority}) never fires: rule {earlier.name!r} "
                        f"(priority {earlier.priority}) matches everything it matches and is tried first.",
                    )
                )
                shadowed = True
                break
        if shadowed:
            continue
        for earlier in rules[:index]:
            if _overlaps(earlier, later):
                problems.append(
                    Problem(
                        later,
                        earlier,
                        "overlap",
                        f"Rules {earlier.name!r} and {later.name!r} both match some referrals; "
                        f"{earlier.name!r} (priority {earlier.priority}) wins for those.",
                    )
                )
    return problems


# --- What the pages read --------------------------------------------------------------------------


@dataclass
class RulesListing:
    """The rules in the order they are tried, each with `problems` (a rule shows the problems it
    causes: shadowed by or overlapping an earlier rule, named in the message)."""

    rules: list[RoutingRule]
    problems: list[Problem]
    #: Problems not about a listed rule (none today; the page still shows them at the top).
    unplaced: list[Problem]


def routing_rules_listed(*, user: Any) -> RulesListing:
    rules = list(
        RoutingRule.objects.visible_to(user)
        .select_related("assign_to_user")
        .order_by("is_default", "priority", "id")
    )
    problems = routing_problems(user.organization)
    by_rule: dict[int, list[Problem]] = {}
    for problem in problems:
        by_rule.setdefault(problem.rule.pk, []).append(problem)
    listed = {rule.pk for rule in rules}
    for rule in rules:
        rule.problems = by_rule.get(rule.pk, [])
    unplaced = [problem for problem in problems if problem.rule.pk not in listed]
    return RulesListing(rules=rules, problems=problems, unplaced=unplaced)


def routing_rule_for(*, user: Any, pk: int) -> RoutingRule:
    """One rule of the user's organization (404 otherwise)."""
    return get_visible_or_404(RoutingRule.objects.select_related("assign_to_user"), user, pk=pk)


def routing_rule_next_priority(organization: Any) -> int:
    """The priority a new rule starts with: 10 after the organization's last non-default rule."""
    last = (
        RoutingRule.objects.filter(organization=organization, is_default=False)
        .order_by("-priority")
        .values_list("priority", flat=True)
        .first()
    )
    return (last + 10) if last is not None else 10


def routing_explanation(referral: Referral) -> RoutingDecision | None:
    """Why the routing picks who it picks for an inbound referral, replayed on the rules as they
    are today (None for the organization's own deals, which are not routed)."""
    if not referral.is_inbound:
        return None
    return routing_decide(organization_id=referral.organization_id, given=RoutingInput.of(referral))
