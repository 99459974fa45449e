"""Celery entry points of the Membership workspace: thin wrappers around the services, run by beat
(portal/settings.py CELERY_BEAT_SCHEDULE). Each is idempotent: a rerun on the same day replaces
that day's scores and changes no designation twice.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from membership.services.scoring import recalculate_capability_scores

_DAILY = {"acks_late": True, "reject_on_worker_lost": True, "expires": 60 * 60 * 12, "time_limit": 60 * 60}


# --- Capability scores and designations (ENGINE) --------------------------------------------------


@shared_task(**_DAILY)
def recalculate_capability_scores_task(day: str | None = None) -> int:
    """The day's partner capability scores of every organization, then designation eligibility,
    renewal and lapse (spec/membership.md §2.5). `day` (YYYY-MM-DD) reruns an earlier day."""
    return recalculate_capability_scores(day=date.fromisoformat(day) if day else None)


# --- Marketplace Rewards (PROGRAM): marketplace_rewards_anniversaries_task goes below -------------


@shared_task(**_DAILY)
def marketplace_rewards_anniversaries_task(day: str | None = None) -> int:
    """Start the Marketplace Rewards benefit year of every organization whose anniversary is today
    (spec/membership.md §4): the tier of the twelve months before it and that tier's benefits.
    `day` (YYYY-MM-DD) reruns an earlier day; a rerun starts no year twice."""
    # Imported here so this section needs no edit of the imports above (ENGINE owns them).
    from django.utils import timezone  # noqa: PLC0415

    from membership.services.rewards import rewards_anniversaries  # noqa: PLC0415

    return rewards_anniversaries(day=date.fromisoformat(day) if day else timezone.localdate())
