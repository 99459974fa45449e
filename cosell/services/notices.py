"""Telling people about inbound referrals (portal.notifications), raised by the referral services in
the transaction of what happened: arrival, assignment, the expiry warnings and the expiry.

Who hears of it:
* received: the people the organization's routing picked — the rule's user and the people of the
  organization named in the rule's `notify_emails` — else (no rule, or a rule naming only a team)
  the people who manage all referrals;
* assigned: the new assignee;
* about to expire, expired: the assignee, else (unassigned, or no longer an active member) the
  people who manage all referrals.

Each `event_key` names one occurrence, so a retried task or a rerun of the hourly and nightly jobs
tells nobody twice, while a new occurrence (another assignment, a moved deadline) does.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from accounts.audiences import people, people_named, people_who_can
from cosell.choices import AWAITING_ANSWER, ReferralStatus
from cosell.models import Referral
from cosell.notifications import REFERRAL_ASSIGNED, REFERRAL_EXPIRED, REFERRAL_EXPIRING, REFERRAL_RECEIVED
from cosell.selectors.routing import RoutingDecision
from portal.capabilities import Capability
from portal.notifications import notify

__all__ = (
    "referral_assigned_notify",
    "referral_expired_notify",
    "referral_expiring_notify",
    "referral_received_notify",
)

#: The threshold names of cosell.services.reminders, as the warning says them.
_LEFT = {"3d": "3 days", "1d": "1 day"}


def _url(referral: Referral) -> str:
    return reverse("cosell:referral-detail", kwargs={"pk": referral.pk})


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%d %B %Y %H:%M %Z}" if moment else ""


def _answer_by(referral: Referral) -> str:
    if referral.expiration_at is None:
        return "Accept or decline it in the portal."
    return f"Accept or decline it by {_when(referral.expiration_at)}, or it closes as Expired."


def _managers(organization_id: int) -> QuerySet:
    return people_who_can(organization_id, Capability.REFERRALS_MANAGE_ALL)


def _routed_people(referral: Referral, decision: RoutingDecision) -> QuerySet:
    """The people the routing decision picked, else the referral managers."""
    rule = decision.rule
    if rule is not None:
        # `notify_emails` reaches the organization's own people (in any case); an address that is
        # nobody's here (a mailing list, someone of another organization) is not notified.
        emails = sorted({email.strip().lower() for email in rule.notify_emails or [] if email.strip()})
        assignee = [decision.user.pk] if decision.user is not None else []
        chosen = (
            people(referral.organization_id)
            .annotate(email_lower=Lower("email"))
            .filter(Q(pk__in=assignee) | Q(email_lower__in=emails))
        )
        if chosen.exists():
            return chosen
    return _managers(referral.organization_id)


def _responsible(referral: Referral) -> QuerySet:
    """The assignee, else the referral managers."""
    if referral.assigned_user_id is not None:
        assignee = people_named(referral.organization_id, [referral.assigned_user_id])
        if assignee.exists():
            return assignee
    return _managers(referral.organization_id)


def _customer(referral: Referral) -> str:
    country = f" ({referral.customer_country})" if referral.customer_country else ""
    return f"{referral.customer_name or 'A customer'}{country}"


def referral_received_notify(referral: Referral, decision: RoutingDecision) -> int:
    """An inbound referral arrived and was routed (`referral_create`)."""
    value = (
        f" Deal value {referral.deal_value:,.2f} {referral.currency}."
        if referral.deal_value is not None
        else ""
    )
    return notify(
        category_code=REFERRAL_RECEIVED.code,
        organization_id=referral.organization_id,
        recipients=_routed_people(referral, decision),
        title=f"New inbound referral: {referral.name}",
        body=f"{_customer(referral)}.{value} {decision.summary} {_answer_by(referral)}",
        url=_url(referral),
        event_key=f"{REFERRAL_RECEIVED.code}:{referral.pk}",
    )


def referral_assigned_notify(referral: Referral, *, how: str) -> int:
    """The referral has a new assignee (routing, or the vendor's admin); `how` says by what."""
    if referral.assigned_user_id is None:
        return 0
    waiting = (
        referral.status == ReferralStatus.NEW
        and referral.substatus in AWAITING_ANSWER
        and referral.expiration_at is not None
    )
    next_step = _answer_by(referral) if waiting else "Open it to work the deal."
    return notify(
        category_code=REFERRAL_ASSIGNED.code,
        organization_id=referral.organization_id,
        recipients=people_named(referral.organization_id, [referral.assigned_user_id]),
        title=f"Referral {referral.name} is assigned to you",
        body=f"{_customer(referral)}: assigned to you {how}. {next_step}",
        url=_url(referral),
        # The version names this write: assigned again later (even to the same person) is news.
        event_key=f"{REFERRAL_ASSIGNED.code}:{referral.pk}:{referral.assigned_user_id}:{referral.version}",
    )


def referral_expiring_notify(referral: Referral, *, threshold: str) -> int:
    """An unanswered referral crossed an expiry threshold ("3d", "1d"): once per referral, threshold
    and deadline."""
    left = _LEFT.get(threshold, threshold)
    deadline = referral.expiration_at
    return notify(
        category_code=REFERRAL_EXPIRING.code,
        organization_id=referral.organization_id,
        recipients=_responsible(referral),
        title=f"Referral {referral.name} expires in {left}",
        body=f"{_customer(referral)}: it expires on {_when(deadline)}. Accept or decline it before then, "
        "or it closes as Expired.",
        url=_url(referral),
        event_key=f"{REFERRAL_EXPIRING.code}:{referral.pk}:{threshold}:{deadline:%Y%m%dT%H%M%S}",
    )


def referral_expired_notify(referral: Referral) -> int:
    """The nightly job closed the referral as Expired."""
    return notify(
        category_code=REFERRAL_EXPIRED.code,
        organization_id=referral.organization_id,
        recipients=_responsible(referral),
        title=f"Referral {referral.name} expired",
        body=f"{_customer(referral)}: nobody accepted or declined it by {_when(referral.expiration_at)}, "
        "so it closed as Expired and can no longer be accepted.",
        url=_url(referral),
        event_key=f"{REFERRAL_EXPIRED.code}:{referral.pk}",
    )
