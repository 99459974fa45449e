"""Referrals and deals (spec/cosell.md §2–§4, §5's assignment, §10): the only writers of `Referral`.

Each write runs inside `referral_recorded`, bumps `version` (the eTag) and `updated_at`, and emits
a webhook once the transaction commits. `referral_recorded` appends the write to the referral's
history (portal.history) in the same transaction: one event listing every changed JSON path
with its old and new value, the actor, its kind, the source and the request's id (spec §4).
A write outside it (a raw UPDATE) leaves no event, so the admin and the demo use it too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cosell.choices import (
    AWAITING_ANSWER,
    STATUS_MOVES,
    SUBSTATUSES,
    DealKind,
    HistorySource,
    LossReason,
    MicrosoftStatus,
    ReferralStatus,
    ReferralSubstatus,
    ReferralType,
)
from cosell.models import Referral, Solution
from cosell.selectors.routing import RoutingDecision, RoutingInput, routing_decide
from cosell.services.activity import referral_recorded
from cosell.services.notices import (
    referral_assigned_notify,
    referral_expired_notify,
    referral_received_notify,
)
from cosell.services.reminders import referral_reminders_settle
from cosell.validation import (
    VENDOR_ID,
    json_value,
    organization_ref,
    referral_from_json,
    referral_to_json,
)
from portal.locks import lock, lock_many
from portal.webhooks import register_event, webhook_emit

__all__ = (
    "REFERRAL_CREATED",
    "REFERRAL_STATUS_CHANGED",
    "REFERRAL_UPDATED",
    "VENDOR_EDITABLE",
    "WON_HOLD",
    "IllegalTransition",
    "StaleReferral",
    "deal_draft_save",
    "deal_submit",
    "referral_accept",
    "referral_close",
    "referral_create",
    "referral_decline",
    "referral_route",
    "referral_update",
    "referral_vendor_update",
    "referrals_expire",
)

REFERRAL_CREATED = register_event("cosell.referral.created", "A referral or deal was created or received.")
REFERRAL_UPDATED = register_event("cosell.referral.updated", "A referral's details changed.")
REFERRAL_STATUS_CHANGED = register_event(
    "cosell.referral.status_changed", "A referral moved to another status or substatus."
)

#: spec §3: an eligible deal may be marked Won only this long after it was created.
WON_HOLD = timedelta(hours=72)


class StaleReferral(ValidationError):
    """The If-Match eTag is not the referral's current one: someone changed it in between."""

    def __init__(self, referral: Referral, if_match: str):
        self.current_etag = referral.etag
        super().__init__(
            {
                "eTag": ValidationError(
                    f"The referral changed since you read it (If-Match {if_match}, current {referral.etag}); "
                    "read it again and re-apply your change.",
                    code="stale",
                )
            }
        )


class IllegalTransition(ValidationError):
    """A status/substatus pair outside spec §2.1's table, or a change to a closed referral."""

    code_name = "invalid_status_transition"

    def __init__(self, message: str):
        super().__init__({"status": ValidationError(message, code=self.code_name)})


def _save(referral: Referral, fields: list[str] | tuple[str, ...] | set[str]) -> None:
    referral.version += 1
    referral.updated_at = timezone.now()
    referral.full_clean(exclude=["organization", "routing_rule", "assigned_user", "created_by"])
    referral.save(update_fields=sorted({*fields, "version", "updated_at"}))


def _emit(referral: Referral, event: str, **extra: Any) -> None:
    data = {"id": str(referral.referral_id), "engagementId": str(referral.engagement_id), **extra}
    data.setdefault("status", referral.status)
    data.setdefault("substatus", referral.substatus)
    data["eTag"] = referral.etag
    webhook_emit(organization_id=referral.organization_id, event=event, data=data)


def _status_changed(referral: Referral, old: tuple[str, str]) -> None:
    _emit(
        referral,
        REFERRAL_STATUS_CHANGED,
        fromStatus=old[0],
        fromSubstatus=old[1],
    )


# --- Creation -------------------------------------------------------------------------------------


def _is_inbound(organization, fields: dict[str, Any]) -> bool:
    invited_by = (fields.get("invite_context") or {}).get("invitedBy") or {}
    inviter = invited_by.get("organizationId")
    return bool(inviter) and inviter != organization_ref(organization)


def _targets_vendor(fields: dict[str, Any]) -> bool:
    return any(
        target.get("type") == "BusinessProfileLocation" and target.get("id") == VENDOR_ID
        for target in fields.get("target") or []
    )


def _deal_kind(fields: dict[str, Any]) -> str:
    if fields.get("deal_kind"):
        return fields["deal_kind"]
    return DealKind.CO_SELL if fields.get("type") == ReferralType.SHARED else DealKind.PRIVATE


def _expiry_days() -> int:
    return settings.COSELL_REFERRAL_EXPIRY_DAYS


def _vendor_referral_create(*, referral: Referral, actor: Any, source: str) -> Referral:
    """spec §3 call 2: the connected referral for the vendor in the same engagement."""
    vendor_side = Referral(
        organization_id=referral.organization_id,
        engagement_id=referral.engagement_id,
        name=referral.name,
        type=ReferralType.SHARED,
        qualification=referral.qualification,
        deal_kind=referral.deal_kind,
        status=ReferralStatus.NEW,
        substatus=ReferralSubstatus.PENDING,
        microsoft_status=MicrosoftStatus.PENDING,
        customer_profile=referral.customer_profile,
        customer_name=referral.customer_name,
        customer_country=referral.customer_country,
        customer_size=referral.customer_size,
        consent=referral.consent,
        notes=referral.notes,
        deal_value=referral.deal_value,
        currency=referral.currency,
        closing_at=referral.closing_at,
        requirements=referral.requirements,
        target=[{"type": "BusinessProfileLocation", "id": VENDOR_ID}],
        invite_context=referral.invite_context,
        created_by_id=referral.created_by_id,
    )
    with referral_recorded(vendor_side, actor=actor, source=source):
        vendor_side.full_clean(exclude=["organization", "routing_rule", "assigned_user", "created_by"])
        vendor_side.save()
    return vendor_side


def _submit(*, referral: Referral, actor: Any, source: str) -> Referral:
    """Turn a validated, saved partner deal into a live one: New/Pending, then auto-accepted
    (the owner's own deal, spec §12's worked history), and for co-sell the vendor-side referral."""
    co_sell = referral.deal_kind == DealKind.CO_SELL and referral.type == ReferralType.SHARED
    with referral_recorded(referral, actor="system", source=HistorySource.SYSTEM):
        referral.status = ReferralStatus.ACTIVE
        referral.substatus = ReferralSubstatus.ACCEPTED
        referral.accepted_at = referral.created_at
        if co_sell:
            referral.microsoft_status = MicrosoftStatus.PENDING
        _save(referral, ["status", "substatus", "accepted_at", "microsoft_status"])
    if co_sell and not _targets_vendor({"target": referral.target}):
        # Unscoped on purpose: engagement ids are UUIDs, and the vendor side may sit in any tenant.
        already = Referral.objects.filter(
            engagement_id=referral.engagement_id, target__contains=[{"id": VENDOR_ID}]
        ).exists()
        if not already:
            _vendor_referral_create(referral=referral, actor=actor, source=source)
    return referral


@transaction.atomic
def referral_create(*, organization, actor: Any, data: dict, source: str) -> Referral:
    """Create a referral from a Partner Center document (spec §2).

    Inbound ones (invited by the vendor or another partner) arrive New/Received with an acceptance
    deadline and are routed; the organization's own deals are accepted at once, and shared co-sell
    deals get their connected vendor-side referral.
    """
    fields = referral_from_json(data, partial=False)
    inbound = _is_inbound(organization, fields)
    now = timezone.now()
    fields.pop("status", None)
    fields.pop("substatus", None)
    referral = Referral(
        organization=organization,
        created_at=now,
        updated_at=now,
        is_inbound=inbound,
        created_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    if inbound:
        referral.status, referral.substatus = ReferralStatus.NEW, ReferralSubstatus.RECEIVED
        referral.expiration_at = now + timedelta(days=_expiry_days())
        referral.deal_kind = fields.get("deal_kind", "")
    else:
        referral.status, referral.substatus = ReferralStatus.NEW, ReferralSubstatus.PENDING
        referral.deal_kind = _deal_kind(fields)
        if _targets_vendor(fields):
            referral.microsoft_status = MicrosoftStatus.PENDING
    with referral_recorded(referral, actor=actor, source=source):
        referral.full_clean(exclude=["organization", "routing_rule", "assigned_user", "created_by"])
        referral.save()
    decision = _route(referral) if inbound else None
    if not inbound and not _targets_vendor(fields):
        _submit(referral=referral, actor=actor, source=source)
    _emit(referral, REFERRAL_CREATED)
    if decision is not None:
        referral_received_notify(referral, decision)
    return referral


@transaction.atomic
def deal_draft_save(*, organization, actor: Any, data: dict, referral: Referral | None = None) -> Referral:
    """Save the deal workflow's progress: any subset of the document, checked for what is there."""
    if referral is not None:
        referral = lock(referral, "organization")
        if not referral.is_draft:
            raise ValidationError({"": ["Only drafts are saved step by step; this deal was submitted."]})
        merged = _merge(referral_to_json(referral), data)
        merged["dealKind"] = data.get("dealKind", referral.deal_kind or None)
        fields = referral_from_json(merged, partial=True)
    else:
        fields = referral_from_json(data, partial=True)
    for key in ("status", "substatus"):
        fields.pop(key, None)
    if referral is None:
        now = timezone.now()
        referral = Referral(
            organization=organization,
            is_draft=True,
            created_at=now,
            updated_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
            status=ReferralStatus.NEW,
            substatus=ReferralSubstatus.PENDING,
            **{"type": ReferralType.INDEPENDENT, **fields},
        )
        referral.name = referral.name or "Untitled deal"
    else:
        for name, value in fields.items():
            setattr(referral, name, value)
        referral.version += 1
        referral.updated_at = timezone.now()
    with referral_recorded(referral, actor=actor, source=HistorySource.UI):
        referral.save()
    return referral


@transaction.atomic
def deal_submit(*, referral: Referral, actor: Any) -> Referral:
    """Validate the draft in full (spec §3) and make it a live deal."""
    referral = lock(referral, "organization")
    if not referral.is_draft:
        raise ValidationError({"": ["This deal was already submitted."]})
    document = referral_to_json(referral)
    document["dealKind"] = referral.deal_kind or None
    fields = referral_from_json({k: v for k, v in document.items() if v is not None}, partial=False)
    fields.pop("status", None)
    fields.pop("substatus", None)
    fields["deal_kind"] = _deal_kind(fields)
    now = timezone.now()
    with referral_recorded(referral, actor=actor, source=HistorySource.UI):
        for name, value in fields.items():
            setattr(referral, name, value)
        referral.is_draft = False
        referral.created_at = now
        _save(referral, [*fields, "is_draft", "created_at"])
    _submit(referral=referral, actor=actor, source=HistorySource.UI)
    _emit(referral, REFERRAL_CREATED)
    return referral


# --- Updates and transitions ----------------------------------------------------------------------


def _merge(base: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7396) of `patch` into `base`."""
    if not isinstance(patch, dict) or not isinstance(base, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(base.get(key), value)
    return merged


def _etag_matches(referral: Referral, if_match: str) -> bool:
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    return "*" in wanted or referral.etag.strip('"') in wanted


def _check_move(referral: Referral, status: str, substatus: str) -> None:
    if referral.is_closed:
        raise IllegalTransition(
            f"The referral is closed ({referral.substatus}); no further changes are allowed."
        )
    allowed = STATUS_MOVES.get(referral.status, frozenset())
    if status not in allowed:
        raise IllegalTransition(
            f"A referral in {referral.status}/{referral.substatus} cannot move to status {status}; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}."
        )
    if substatus not in SUBSTATUSES.get(status, frozenset()):
        raise IllegalTransition(
            f"Status {status} does not allow substatus {substatus}; "
            f"allowed: {', '.join(sorted(SUBSTATUSES.get(status, ())))}."
        )


def _check_not_expired(referral: Referral, now: datetime) -> None:
    if referral.expiration_at is not None and now >= referral.expiration_at:
        raise IllegalTransition(
            f"The referral expired at {json_value(referral.expiration_at)}; it can no longer be "
            "accepted or declined."
        )


def registration_eligible(referral: Referral) -> bool:
    """spec §3, §9: a co-sell deal targeting an Azure IP co-sell eligible solution of the partner."""
    if referral.deal_kind != DealKind.CO_SELL:
        return False
    solution_ids = [t.get("id") for t in referral.target if t.get("type") == "SolutionProfile"]
    return (
        bool(solution_ids)
        and Solution.objects.filter(
            organization_id=referral.organization_id,
            solution_id__in=solution_ids,
            azure_ip_co_sell_eligible=True,
        ).exists()
    )


def _check_won(referral: Referral, now: datetime) -> None:
    if registration_eligible(referral) and now < referral.created_at + WON_HOLD:
        until = json_value(referral.created_at + WON_HOLD)
        raise IllegalTransition(
            "This deal is eligible for deal registration: wait 72 hours after creating it before "
            f"marking it Won (until {until}), or the registration may be rejected."
        )


def _apply_move(referral: Referral, status: str, substatus: str, now: datetime) -> list[str]:
    """Check a move and set what comes with it; return the extra fields it changes."""
    _check_move(referral, status, substatus)
    extra: list[str] = []
    if referral.status == ReferralStatus.NEW and status != ReferralStatus.NEW:
        _check_not_expired(referral, now)
        if status == ReferralStatus.ACTIVE and referral.accepted_at is None:
            referral.accepted_at = now
            extra.append("accepted_at")
    if substatus == ReferralSubstatus.WON:
        _check_won(referral, now)
    referral.status, referral.substatus = status, substatus
    return ["status", "substatus", *extra]


@transaction.atomic
def referral_update(
    *, referral: Referral, actor: Any, data: dict, if_match: str | None, partial: bool, source: str
) -> Referral:
    """PUT (`partial=False`, the whole document) or PATCH (a JSON merge patch) of a referral."""
    referral = lock(referral, "organization")
    if if_match is not None and not _etag_matches(referral, if_match):
        raise StaleReferral(referral, if_match)
    if referral.is_closed:
        raise IllegalTransition(
            f"The referral is closed ({referral.substatus}); no further changes are allowed."
        )
    if not isinstance(data, dict):
        raise ValidationError({"": ["The referral must be a JSON object."]})
    document = _merge(referral_to_json(referral), data) if partial else data
    fields = referral_from_json(document, partial=referral.is_draft)
    now = timezone.now()
    old_status = (referral.status, referral.substatus)
    new_status = (fields.pop("status", referral.status), fields.pop("substatus", referral.substatus))
    changed = [name for name, value in fields.items() if getattr(referral, name) != value]
    for name in changed:
        setattr(referral, name, fields[name])
    if new_status != old_status:
        changed += _apply_move(referral, *new_status, now)
    if not changed:
        return referral
    with referral_recorded(referral, actor=actor, source=source):
        _save(referral, changed)
    if new_status != old_status:
        referral_reminders_settle(referral)
        _status_changed(referral, old_status)
    if set(changed) - {"status", "substatus", "accepted_at"}:
        _emit(referral, REFERRAL_UPDATED, fields=sorted(set(changed) - {"status", "substatus"}))
    return referral


def _move(
    referral: Referral, *, actor: Any, status: str, substatus: str, source: str, **values: Any
) -> Referral:
    now = timezone.now()
    old = (referral.status, referral.substatus)
    fields = _apply_move(referral, status, substatus, now)
    for name, value in values.items():
        setattr(referral, name, value)
    with referral_recorded(referral, actor=actor, source=source):
        _save(referral, [*fields, *values])
    referral_reminders_settle(referral)
    _status_changed(referral, old)
    return referral


@transaction.atomic
def referral_accept(*, referral: Referral, actor: Any, source: str = HistorySource.UI) -> Referral:
    """Accept an inbound referral before its expiration (New → Active/Accepted)."""
    referral = lock(referral, "organization")
    if referral.status != ReferralStatus.NEW:
        raise IllegalTransition(
            f"Only new referrals can be accepted; this one is {referral.status}/{referral.substatus}."
        )
    return _move(
        referral,
        actor=actor,
        status=ReferralStatus.ACTIVE,
        substatus=ReferralSubstatus.ACCEPTED,
        source=source,
    )


def _check_loss_reason(loss_reason: str) -> None:
    if loss_reason and loss_reason not in LossReason.values:
        raise ValidationError({"lossReason": [f"{loss_reason!r} is not a loss reason code (1–8)."]})


@transaction.atomic
def referral_decline(
    *, referral: Referral, actor: Any, reason: str, loss_reason: str, source: str = HistorySource.UI
) -> Referral:
    """Decline an inbound referral before its expiration, saying why (New → Closed/Declined)."""
    referral = lock(referral, "organization")
    _check_loss_reason(loss_reason)
    if not reason.strip() and not loss_reason:
        raise ValidationError({"statusReason": ["Say why you decline the referral."]})
    if referral.status != ReferralStatus.NEW:
        raise IllegalTransition(
            f"Only new referrals can be declined; this one is {referral.status}/{referral.substatus}."
        )
    return _move(
        referral,
        actor=actor,
        status=ReferralStatus.CLOSED,
        substatus=ReferralSubstatus.DECLINED,
        source=source,
        status_reason=reason.strip()[:500],
        loss_reason=loss_reason,
    )


@transaction.atomic
def referral_close(
    *,
    referral: Referral,
    actor: Any,
    won: bool,
    reason: str = "",
    loss_reason: str = "",
    source: str = HistorySource.UI,
) -> Referral:
    """Close a deal as Won or Lost (Won waits 72 h on registration-eligible deals, spec §3)."""
    referral = lock(referral, "organization")
    _check_loss_reason(loss_reason)
    if won and loss_reason:
        raise ValidationError({"lossReason": ["A won deal has no loss reason."]})
    return _move(
        referral,
        actor=actor,
        status=ReferralStatus.CLOSED,
        substatus=ReferralSubstatus.WON if won else ReferralSubstatus.LOST,
        source=source,
        status_reason=reason.strip()[:500],
        loss_reason="" if won else loss_reason,
    )


# --- Assignment (spec §5) and the vendor's fields --------------------------------------------------


def _route(referral: Referral, actor: Any = "system") -> RoutingDecision:
    decision = routing_decide(organization_id=referral.organization_id, given=RoutingInput.of(referral))
    before = referral.assigned_user_id
    referral.routing_rule = decision.rule
    referral.assigned_team = decision.team
    referral.assigned_user = decision.user
    with referral_recorded(referral, actor=actor, source=HistorySource.ROUTING):
        _save(referral, ["routing_rule", "assigned_team", "assigned_user"])
    _emit(referral, REFERRAL_UPDATED, fields=["assigned_team", "assigned_user", "routing_rule"])
    if decision.user is not None and decision.user.pk != before:
        kind = "the default rule" if decision.is_default else "the routing rule"
        referral_assigned_notify(referral, how=f"by {kind} “{decision.rule.name}”")
    return decision


@transaction.atomic
def referral_route(*, referral: Referral, actor: Any = "system") -> RoutingDecision:
    """Route an inbound referral by the rules as they are now and store the decision (rule, team,
    user); its history shows source "routing". `referral_create` routes new inbound ones itself."""
    return _route(lock(referral, "organization"), actor)


#: The fields vendor staff may change on a referral (the admin); everything else is the partner's.
VENDOR_EDITABLE = ("microsoft_status", "lead_temperature", "assigned_team", "assigned_user")


@transaction.atomic
def referral_vendor_update(
    *, referral: Referral, actor: Any, values: dict[str, Any], source: str = HistorySource.ADMIN
) -> Referral:
    """The vendor's own fields of a referral (Microsoft status, lead temperature, assignment),
    recorded like any other write (source "admin") and announced to the partner's webhooks."""
    others = sorted(set(values) - set(VENDOR_EDITABLE))
    if others:
        raise ValidationError({name: ["Only the partner changes this field."] for name in others})
    referral = lock(referral, "organization")
    changed = [name for name, value in values.items() if getattr(referral, name) != value]
    if not changed:
        return referral
    for name in changed:
        setattr(referral, name, values[name])
    with referral_recorded(referral, actor=actor, source=source):
        _save(referral, changed)
    _emit(referral, REFERRAL_UPDATED, fields=sorted(changed))
    if "assigned_user" in changed:
        referral_assigned_notify(referral, how="by the vendor")
    return referral


def referrals_expire(*, now: datetime | None = None) -> int:
    """Close New/Pending|Received referrals past their expiration as Closed/Expired (spec §10).

    Each referral is locked and checked again in its own transaction, so one accepted since the
    selection is left alone and a rerun closes nothing twice. Returns how many were closed.
    """
    now = now or timezone.now()
    # Unscoped on purpose: the job runs for every organization.
    overdue = Referral.objects.filter(
        status=ReferralStatus.NEW,
        substatus__in=AWAITING_ANSWER,
        is_draft=False,
        expiration_at__lte=now,
    )
    closed = 0
    for pk in list(overdue.values_list("pk", flat=True)):
        with transaction.atomic():
            referral = lock_many(overdue.filter(pk=pk), skip_locked=True).first()
            if referral is None:
                continue
            old = (referral.status, referral.substatus)
            referral.status, referral.substatus = ReferralStatus.CLOSED, ReferralSubstatus.EXPIRED
            with referral_recorded(referral, actor="system", source=HistorySource.EXPIRY_JOB):
                _save(referral, ["status", "substatus"])
            referral_reminders_settle(referral)
            _status_changed(referral, old)
            referral_expired_notify(referral)
            closed += 1
    return closed
