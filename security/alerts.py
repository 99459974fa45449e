"""Alert rules on security data: "the security score falls below <threshold>"."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse

from portal.capabilities import Capability
from portal.notifications.models import AlertRule
from portal.notifications.rules import (
    NUMBER,
    Firing,
    RuleKind,
    RuleParameter,
    alert_rules_evaluate,
    register_rule_kind,
)
from security.models import SecurityScoreSnapshot


def _score_below(rule: AlertRule, snapshot: SecurityScoreSnapshot | None) -> list[Firing]:
    """Fires when the score crosses below the threshold; not again until it has been back above."""
    if snapshot is None:
        return []
    threshold = Decimal(rule.parameters["threshold"])
    below = snapshot.score < threshold
    was_below = bool(rule.last_state.get("below"))
    if below != was_below:
        AlertRule.objects.filter(pk=rule.pk).update(last_state={**rule.last_state, "below": below})
    if not below or was_below:
        return []
    return [
        Firing(
            key=f"below:{snapshot.taken_on.isoformat()}",
            title=f"the security score is {snapshot.score}, below {threshold:g}",
            body="See which requirements are not met on the Security page.",
            url=reverse("security:index"),
            data={"score": snapshot.score, "threshold": str(threshold), "takenOn": snapshot.taken_on},
        )
    ]


SCORE_BELOW = register_rule_kind(
    RuleKind(
        code="security.score_below",
        label="The security score falls below a threshold",
        description="When the daily security score goes below this number (once per fall).",
        capability=Capability.SECURITY_VIEW,
        parameters=(
            RuleParameter("threshold", "Threshold", NUMBER, min_value=Decimal(1), max_value=Decimal(100)),
        ),
        evaluate=_score_below,
    )
)


@receiver(post_save, sender=SecurityScoreSnapshot, dispatch_uid="security.alerts.score_below")
def _on_snapshot_saved(sender, instance: SecurityScoreSnapshot, **kwargs) -> None:
    transaction.on_commit(
        lambda: alert_rules_evaluate(
            SCORE_BELOW.code, organization_id=instance.organization_id, context=instance
        )
    )
