"""Alert rules on co-sell data: "a referral over <value> (in <country>) arrives"."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse

from cosell.models import Referral
from portal.capabilities import Capability
from portal.notifications.rules import (
    COUNTRY,
    NUMBER,
    Firing,
    RuleKind,
    RuleParameter,
    alert_rules_evaluate,
    register_rule_kind,
)


def _referral_arrives(rule, referral: Referral | None) -> list[Firing]:
    if referral is None or not referral.is_inbound or referral.is_draft:
        return []
    if not Referral.objects.visible_to(rule.owner).filter(pk=referral.pk).exists():
        return []
    minimum, country = rule.parameters.get("min_deal_value"), rule.parameters.get("country")
    if minimum is not None and (referral.deal_value is None or referral.deal_value < Decimal(minimum)):
        return []
    if country and referral.customer_country.upper() != country:
        return []
    value = (
        f"{referral.deal_value:,.0f} {referral.currency}" if referral.deal_value is not None else "no value"
    )
    return [
        Firing(
            key=f"referral:{referral.pk}",
            title=f"referral {referral.name} arrived ({value}, {referral.customer_country or 'no country'})",
            body=f"Customer: {referral.customer_name or '—'}. Answer it before it expires.",
            url=reverse("cosell:referral-detail", args=[referral.pk]),
            data={
                "referralId": str(referral.referral_id),
                "dealValue": referral.deal_value,
                "currency": referral.currency,
            },
        )
    ]


REFERRAL_ARRIVES = register_rule_kind(
    RuleKind(
        code="cosell.referral_arrives",
        label="An inbound referral arrives",
        description="When a referral you can see arrives with at least this deal value (in the "
        "referral's currency) and, if given, for a customer in this country.",
        capability=Capability.REFERRALS_MANAGE_OWN,
        parameters=(
            RuleParameter(
                "min_deal_value", "Minimum deal value", NUMBER, required=False, min_value=Decimal(0)
            ),
            RuleParameter("country", "Customer country", COUNTRY, required=False),
        ),
        evaluate=_referral_arrives,
    )
)


@receiver(post_save, sender=Referral, dispatch_uid="cosell.alerts.referral_arrives")
def _on_referral_saved(sender, instance: Referral, created: bool, **kwargs) -> None:
    if created and instance.is_inbound:
        transaction.on_commit(
            lambda: alert_rules_evaluate(
                REFERRAL_ARRIVES.code, organization_id=instance.organization_id, context=instance
            )
        )
