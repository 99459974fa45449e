"""The history of GDAP relationships and verification checks as pages, API and admin show it.

The services write it (security.services.gdap_rules `record_change`, security.services.compliance
`check_move`) into the one history of portal.history; this reads it back with the values each
event keeps in its data: a relationship's end date and auto-extension, a check's appeals used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime, parse_duration

from portal.history import history_for
from security.models import GdapRelationship, VerificationCheck


@dataclass(frozen=True)
class GdapEvent:
    at: datetime
    who: str
    from_status: str
    to_status: str
    end_at: datetime | None
    auto_extend_duration: timedelta
    note: str


@dataclass(frozen=True)
class CheckEvent:
    at: datetime
    who: str
    from_status: str
    to_status: str
    reason: str
    appeals_used: int


def gdap_events(relationship: GdapRelationship) -> list[GdapEvent]:
    """Every status move and end date or auto-extension change, oldest first."""
    return [
        GdapEvent(
            at=event.at,
            who=event.actor_label,
            from_status=event.from_status,
            to_status=event.to_status,
            end_at=parse_datetime(event.data["end_at"]) if event.data.get("end_at") else None,
            auto_extend_duration=parse_duration(event.data.get("auto_extend_duration") or "PT0S"),
            note=event.note,
        )
        for event in history_for(relationship)
    ]


def check_events(check: VerificationCheck) -> list[CheckEvent]:
    """Every status move of the check with its reason, oldest first."""
    return [
        CheckEvent(
            at=event.at,
            who=event.actor_label,
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.note,
            appeals_used=event.data.get("appeals_used", 0),
        )
        for event in history_for(check)
    ]
