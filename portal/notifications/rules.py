"""Alert rules: a person's own conditions on the data they can see ("a referral over 100,000 in CH
arrives", "the security score falls below 80"), declared by the workspaces as rule kinds.

A workspace registers a `RuleKind` in its `alerts` module (found by `autodiscover_modules`): its
parameters, the capability a person needs to set it, and `evaluate(rule, context)` returning the
`Firing`s of this evaluation. A kind is evaluated when its data changes (the workspace calls
`alert_rules_evaluate(kind, organization_id, context)`, e.g. from a post_save) or every day
(`scheduled=True`). A firing notifies the rule's owner once per change (`Firing.key`: the event
key of the notification) and is sent to the organization's webhooks as `alert.fired`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.notifications.categories import Category, register_category
from portal.notifications.models import AlertRule
from portal.webhooks import register_event, webhook_emit

logger = logging.getLogger(__name__)

ALERT_FIRED = register_category(
    Category(
        "alerts.rule_fired",
        "One of your alert rules fired",
        "The rules you set on the Alert rules page.",
    )
)
WEBHOOK_EVENT = register_event("alert.fired", "An alert rule of the organization fired.")

NUMBER, PERCENT, TEXT, COUNTRY, CHOICE = "number", "percent", "text", "country", "choice"


@dataclass(frozen=True)
class RuleParameter:
    name: str
    label: str
    kind: str = NUMBER
    required: bool = True
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    choices: tuple[str, ...] = ()
    help_text: str = ""

    def clean(self, value: Any) -> Any:
        """The value as stored, or ValidationError naming the parameter and the value."""
        if value in (None, ""):
            if self.required:
                raise ValidationError({self.name: f"{self.label} is required."})
            return None
        if self.kind in (NUMBER, PERCENT):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise ValidationError({self.name: f"{value!r} is not a number."}) from None
            if not number.is_finite():
                raise ValidationError({self.name: f"{value!r} is not a number."})
            low = (
                self.min_value
                if self.min_value is not None
                else (Decimal(0) if self.kind == PERCENT else None)
            )
            high = (
                self.max_value
                if self.max_value is not None
                else (Decimal(100) if self.kind == PERCENT else None)
            )
            if low is not None and number < low:
                raise ValidationError({self.name: f"{self.label} must be at least {low}; {number} is below."})
            if high is not None and number > high:
                raise ValidationError({self.name: f"{self.label} must be at most {high}; {number} is above."})
            return str(number)
        text = str(value).strip()
        if self.kind == COUNTRY:
            if len(text) != 2 or not text.isalpha():
                raise ValidationError(
                    {self.name: f"{value!r} is not a two-letter country code (ISO 3166-1)."}
                )
            return text.upper()
        if self.kind == CHOICE and text not in self.choices:
            raise ValidationError({self.name: f"{value!r} is not one of {', '.join(self.choices)}."})
        return text[:200]


@dataclass(frozen=True)
class Firing:
    key: str  # what changed: the same key never fires the same rule twice
    title: str
    body: str = ""
    url: str = ""
    data: dict | None = None  # for the webhook


@dataclass(frozen=True)
class RuleKind:
    code: str
    label: str
    description: str
    capability: str
    parameters: tuple[RuleParameter, ...]
    #: The firings of one evaluation of `rule` (`context`: what changed, or None on schedule).
    evaluate: Callable[[AlertRule, Any], list[Firing]]
    scheduled: bool = False
    #: Checks of the cleaned parameters against the actor's data (e.g. the customer is theirs).
    check: Callable[[Any, dict[str, Any]], None] | None = None

    def clean(self, parameters: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(parameters) - {p.name for p in self.parameters})
        if unknown:
            raise ValidationError(
                {
                    "parameters": f"{self.label} has no parameter {', '.join(unknown)}; it takes "
                    f"{', '.join(p.name for p in self.parameters)}."
                }
            )
        errors: dict[str, list[str]] = {}
        cleaned = {}
        for parameter in self.parameters:
            try:
                cleaned[parameter.name] = parameter.clean(parameters.get(parameter.name))
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


_KINDS: dict[str, RuleKind] = {}


def register_rule_kind(kind: RuleKind) -> RuleKind:
    _KINDS[kind.code] = kind
    return kind


def rule_kind(code: str) -> RuleKind:
    try:
        return _KINDS[code]
    except KeyError:
        known = ", ".join(sorted(_KINDS))
        raise ValidationError({"kind": f"{code!r} is not a kind of alert rule; known: {known}."}) from None


def rule_kinds() -> list[RuleKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.label)


# --- Services -------------------------------------------------------------------------------------


def _may_use(actor: Any, kind: RuleKind) -> None:
    from portal.capabilities import can  # noqa: PLC0415

    if not can(actor, kind.capability):
        raise ValidationError({"kind": f"Your roles don't let you see the data of {kind.label!r}."})


@transaction.atomic
def alert_rule_create(*, actor: Any, kind: str, name: str, parameters: dict[str, Any]) -> AlertRule:
    """A rule of the actor's own; its kind must exist, the actor must see its data, and every
    parameter must be one the kind takes, with a valid value."""
    found = rule_kind(kind)
    _may_use(actor, found)
    name = (name or "").strip() or found.label
    cleaned = found.clean(parameters or {})
    if found.check is not None:
        found.check(actor, cleaned)
    return AlertRule.objects.create(
        organization_id=actor.organization_id,
        owner=actor,
        name=name[:120],
        kind=found.code,
        parameters=cleaned,
    )


@transaction.atomic
def alert_rule_update(
    *,
    actor: Any,
    rule: AlertRule,
    name: str | None = None,
    parameters: dict | None = None,
    is_active: bool | None = None,
) -> AlertRule:
    found = rule_kind(rule.kind)
    _may_use(actor, found)
    if name is not None:
        rule.name = name.strip()[:120] or found.label
    if parameters is not None:
        cleaned = found.clean(parameters)
        if found.check is not None:
            found.check(actor, cleaned)
        rule.parameters = cleaned
        rule.last_state = {}
    if is_active is not None:
        rule.is_active = is_active
    rule.save()
    return rule


def alert_rule_delete(*, actor: Any, rule: AlertRule) -> None:
    rule.delete()


def alert_rules_evaluate(kind: str, *, organization_id: int | None = None, context: Any = None) -> int:
    """Evaluate the active rules of `kind` (of one organization, or all); returns the firings sent."""
    found = _KINDS.get(kind)
    if found is None:
        return 0
    rules = AlertRule.objects.filter(kind=kind, is_active=True).select_related("owner", "organization")
    if organization_id is not None:
        rules = rules.filter(organization_id=organization_id)
    fired = 0
    for rule in rules:
        if not rule.owner.is_active:
            continue
        try:
            with transaction.atomic():
                fired += _fire(rule, found.evaluate(rule, context))
        except Exception:  # one broken rule must not stop the others
            logger.exception("alert rule %s (%s) could not be evaluated", rule.pk, kind)
    return fired


def alert_rules_evaluate_scheduled() -> dict[str, int]:
    """Every scheduled kind, every organization (beat, daily)."""
    return {kind.code: alert_rules_evaluate(kind.code) for kind in _KINDS.values() if kind.scheduled}


def _fire(rule: AlertRule, firings: list[Firing]) -> int:
    from portal.notifications.services import notify  # noqa: PLC0415 - services import this module

    sent = 0
    for firing in firings:
        created = notify(
            category_code=ALERT_FIRED.code,
            organization_id=rule.organization_id,
            recipients=get_user_model().objects.filter(pk=rule.owner_id),
            title=f"{rule.name}: {firing.title}",
            body=firing.body,
            url=firing.url,
            event_key=f"alert:{rule.pk}:{firing.key}",
            organization_name=rule.organization.legal_name,
        )
        if created:
            sent += 1
            webhook_emit(
                organization_id=rule.organization_id,
                event=WEBHOOK_EVENT,
                data={
                    "ruleId": rule.pk,
                    "ruleName": rule.name,
                    "kind": rule.kind,
                    "parameters": rule.parameters,
                    "key": firing.key,
                    "title": firing.title,
                    "url": firing.url,
                    **(firing.data or {}),
                },
            )
    if sent:
        AlertRule.objects.filter(pk=rule.pk).update(last_fired_at=timezone.now())
    return sent
