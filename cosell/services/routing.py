"""Routing rules (spec §5): the only writers of `RoutingRule`, for the pages, the API and the admin.

A rule is configuration: each write checks the rule as a whole (`RoutingRule.clean`: someone to
assign to, a user of the organization, one default rule) and leaves an audit row with what changed.
Which rule routes a referral is read by cosell.selectors.routing; the referral services store it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from cosell.models import RoutingRule
from portal.audit import apply_changes, audit_record
from portal.locks import lock

__all__ = ("RULE_FIELDS", "routing_rule_create", "routing_rule_delete", "routing_rule_update")

#: What a person or client sets on a rule (the organization and creation time are the service's).
RULE_FIELDS = (
    "name",
    "priority",
    "is_active",
    "is_default",
    "match_countries",
    "match_solution_ids",
    "match_products",
    "match_min_deal_value",
    "assign_to_team",
    "assign_to_user",
    "notify_emails",
)


def _audit_value(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    return value


def _audit_changes(changes: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """{field: [before, after]} as JSON values (a user as its id, an amount as text)."""
    return {name: [_audit_value(before), _audit_value(after)] for name, (before, after) in changes.items()}


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise ValidationError({name: ["Not a field of a routing rule."] for name in unknown})
    return dict(values)


def _validate(rule: RoutingRule) -> None:
    # The rule's own check names the default rule it collides with; the database's constraints
    # stay as the last guard, so they are not checked twice here.
    rule.full_clean(exclude=["organization"], validate_constraints=False)


@transaction.atomic
def routing_rule_create(*, organization: Any, actor: Any, values: Mapping[str, Any]) -> RoutingRule:
    """A new rule of `organization` from `values` (fields of RULE_FIELDS)."""
    rule = RoutingRule(organization=organization, **_checked(values))
    _validate(rule)
    rule.save()
    audit_record(
        actor=actor,
        action="routing_rule.created",
        organization_id=rule.organization_id,
        target=rule,
        changes=_audit_changes({name: [None, getattr(rule, name)] for name in values}),
    )
    return rule


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, actor: Any, values: Mapping[str, Any]) -> RoutingRule:
    """Change some fields of a rule; nothing is written when nothing changes."""
    rule = lock(rule, "assign_to_user")
    changes = apply_changes(rule, _checked(values))
    if not changes:
        return rule
    _validate(rule)
    rule.save(update_fields=sorted(changes))
    audit_record(
        actor=actor,
        action="routing_rule.updated",
        organization_id=rule.organization_id,
        target=rule,
        changes=_audit_changes(changes),
    )
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule, actor: Any) -> None:
    """Delete a rule; referrals it routed keep their assignment (their `routing_rule` is cleared)."""
    rule = lock(rule)
    audit_record(
        actor=actor,
        action="routing_rule.deleted",
        organization_id=rule.organization_id,
        target=rule,
        changes={"name": rule.name},
    )
    rule.delete()
