"""The referral activity feed (spec/cosell.md §4): what one write changed, written by the
services into the referral's history (portal.history); cosell.selectors.activity reads it back.

`referral_recorded` wraps every write of a referral: it reads the tracked columns before and
after and appends one event in the write's transaction, listing each changed JSON path with
its old and new value, plus the actor, its kind, the source and the request's id. A write outside
it (a raw UPDATE) leaves no event, so the admin and the demo data go through it as well.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cosell.choices import HistorySource
from cosell.models import TRACKED_FIELDS, Referral
from cosell.validation import VENDOR_ID, json_value
from portal import context
from portal.history import history_record

__all__ = ("FIELD_PATHS", "referral_changes", "referral_recorded")

#: Where each tracked column lives in the referral JSON (a JSON pointer). The nested objects are
#: diffed key by key below them; the copied columns point into the object they were copied from.
FIELD_PATHS: dict[str, str] = {
    "name": "/name",
    "external_reference_id": "/externalReferenceId",
    "status": "/status",
    "substatus": "/substatus",
    "status_reason": "/statusReason",
    "loss_reason": "/lossReason",
    "type": "/type",
    "qualification": "/qualification",
    "deal_kind": "/dealKind",
    "is_draft": "/isDraft",
    "microsoft_status": "/microsoftStatus",
    "lead_temperature": "/leadTemperature",
    "customer_name": "/customerProfile/name",
    "customer_country": "/customerProfile/address/country",
    "customer_size": "/customerProfile/size",
    "customer_profile": "/customerProfile",
    "consent": "/consent",
    "notes": "/details/notes",
    "deal_value": "/details/dealValue",
    "currency": "/details/currency",
    "closing_at": "/details/closingDateTime",
    "requirements": "/details/requirements",
    "team": "/team",
    "target": "/target",
    "invite_context": "/inviteContext",
    "customer_marketplace_intent": "/customerMarketplaceIntent",
    "expiration_at": "/expirationDateTime",
    "accepted_at": "/acceptedDateTime",
    "routing_rule": "/routingRule",
    "assigned_team": "/assignedTeam",
    "assigned_user": "/assignedUser",
    "partner_role": "/partnerRole",
    "solution_area": "/solutionArea",
    "solution_play": "/solutionPlay",
}


def _diff(path: str, old: Any, new: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(old, dict) or isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        for key in sorted(set(old) | set(new), key=str):
            yield from _diff(f"{path}/{key}", old.get(key), new.get(key))
    elif old != new:
        yield path, json_value(old), json_value(new)


def _attname(name: str) -> str:
    return f"{name}_id" if name in ("routing_rule", "assigned_user") else name


def _tracked(pk: int) -> dict[str, Any]:
    """The tracked columns of referral `pk` as stored, by field name."""
    row = Referral.objects.filter(pk=pk).values(*(_attname(name) for name in TRACKED_FIELDS)).get()
    return {name: row[_attname(name)] for name in TRACKED_FIELDS}


def referral_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[list[Any]]:
    """[path, old, new] of every changed JSON path between two readings of the tracked columns;
    a new referral (`before` None) shows its status and substatus."""
    if before is None:
        return [["/status", None, after["status"]], ["/substatus", None, after["substatus"]]]
    seen: dict[str, tuple[Any, Any]] = {}
    for name in TRACKED_FIELDS:
        for path, old, new in _diff(FIELD_PATHS[name], before[name], after[name]):
            seen.setdefault(path, (old, new))
    return [[path, old, new] for path, (old, new) in seen.items()]


def _actor_meta(actor: Any, source: str) -> tuple[str, str]:
    """Who did it and what kind of actor that is: (e-mail or name, user|api|microsoft|system)."""
    if actor is None or actor == "system":
        return "system", "system"
    if actor == VENDOR_ID or actor == "microsoft":
        return "microsoft", "microsoft"
    email = getattr(actor, "email", None) or str(actor)
    is_api = source == HistorySource.API or getattr(actor, "is_service_account", False)
    return email, "api" if is_api else "user"


@contextlib.contextmanager
def referral_recorded(referral: Referral, *, actor: Any, source: str, note: str = "") -> Iterator[None]:
    """Run one write of `referral` (saved, or about to be created) and append what it changed."""
    before = _tracked(referral.pk) if referral.pk else None
    yield
    after = _tracked(referral.pk)
    changes = referral_changes(before, after)
    if not changes:
        return
    who, actor_type = _actor_meta(actor, source)
    history_record(
        subject=referral,
        actor=actor if getattr(actor, "pk", None) else who,
        from_status=before["status"] if before else "",
        to_status=after["status"],
        note=note,
        data={
            "changes": changes,
            "actor_type": actor_type,
            "source": str(source),
            "correlation_id": context.current().request_id,
        },
    )
