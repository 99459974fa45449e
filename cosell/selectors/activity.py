"""The referral activity feed (spec/cosell.md §4), read back from the referral's history.

The services write one history event per write (cosell.services.activity.referral_recorded);
here each event becomes one row per changed JSON path, for the page's feed, the API's /history
and the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from cosell.choices import HistorySource
from cosell.models import Referral
from portal.capabilities import Capability
from portal.history import history_for

__all__ = ("Change", "FeedGroup", "activity_feed", "referral_history")

_MASKED_PREFIX = "/customerProfile/team"


@dataclass(frozen=True)
class Change:
    """One changed field of one write, for the activity feed and the API's /history."""

    when: datetime
    who: str
    actor_type: str
    source: str
    field: str
    old: Any
    new: Any
    request_id: str = ""


@dataclass
class FeedGroup:
    """The changes one write made (the feed groups them by the second they happened in)."""

    when: datetime
    who: str
    source: str
    changes: list[Change]


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _mask(value: Any) -> Any:
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, dict):
        return {
            k: (_mask_email(v) if k == "email" and isinstance(v, str) else _mask(v)) for k, v in value.items()
        }
    if isinstance(value, str) and "@" in value:
        return _mask_email(value)
    return value


def referral_history(referral: Referral, *, viewer: Any = None) -> list[Change]:
    """Every change of the referral, oldest first: one row per changed JSON path.

    E-mail addresses of the customer's team are masked unless `viewer` may manage all referrals.
    """
    reveal = viewer is not None and Capability.REFERRALS_MANAGE_ALL in getattr(viewer, "capabilities", ())
    rows = []
    for event in history_for(referral):
        data = event.data
        for path, old, new in data.get("changes", []):
            if not reveal and path.startswith(_MASKED_PREFIX):
                old, new = _mask(old), _mask(new)
            rows.append(
                Change(
                    when=event.at,
                    who=event.actor_label,
                    actor_type=data.get("actor_type", "system"),
                    source=data.get("source", HistorySource.SYSTEM),
                    field=path,
                    old=old,
                    new=new,
                    request_id=data.get("correlation_id", ""),
                )
            )
    return rows


def _source_label(source: str) -> str:
    try:
        return str(HistorySource(source).label)
    except ValueError:
        return source or "—"


def activity_feed(referral: Referral, *, viewer: Any = None) -> list[FeedGroup]:
    """The referral's page feed: newest write first; the changes of one write keep their order."""
    changes = sorted(referral_history(referral, viewer=viewer), key=lambda c: c.when, reverse=True)
    return [
        FeedGroup(when=second, who=who, source=_source_label(source), changes=list(rows))
        for (second, who, source), rows in groupby(
            changes, key=lambda change: (change.when.replace(microsecond=0), change.who, change.source)
        )
    ]
