"""The Security workspace's notifications (categories in `security.notifications`): who is told about
what, in what words. The services that make each event happen call these inside their transaction;
each `event_key` names one occurrence, so a rerun (the nightly check, a retried task) tells nobody
twice while a new occurrence does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from accounts.audiences import people_named, people_who_can
from portal.capabilities import Capability
from portal.notifications import notify
from security.choices import CheckStatus, GdapStatus
from security.notifications import (
    GDAP_ENDED,
    GDAP_EXPIRING,
    REQUIREMENT_FAILED,
    SCORE_DROPPED,
    TRAINING_DUE,
    VERIFICATION_RESULT,
)

if TYPE_CHECKING:
    from security.models import (
        GdapRelationship,
        TrainingAssignment,
        VerificationCheck,
        VerificationDocument,
    )

__all__ = (
    "gdap_ended_notify",
    "gdap_expiring_notify",
    "requirement_failed_notify",
    "score_dropped_notify",
    "training_due_notify",
    "verification_result_notify",
)

C = Capability


def _plural(count: int, one: str) -> str:
    return f"{count} {one}{'' if count == 1 else 's'}"


def _gdap_people(organization_id: int, *, besides: Any = None):
    """Who manages GDAP and security: Admin agents and Global admins (not whoever made the change)."""
    people = people_who_can(organization_id, C.GDAP_MANAGE, C.SECURITY_MANAGE)
    if getattr(besides, "pk", None):
        people = people.exclude(pk=besides.pk)
    return people


# --- GDAP ----------------------------------------------------------------------------------------


def gdap_expiring_notify(relationship: GdapRelationship, *, days: int, threshold: int) -> int:
    """The nightly check found a relationship that does not auto-extend `days` from its end; told
    once per threshold (e.g. 30, 7 and 1 days) and end date, however often the check runs."""
    customer = relationship.customer.name
    return notify(
        category_code=GDAP_EXPIRING.code,
        organization_id=relationship.organization_id,
        recipients=_gdap_people(relationship.organization_id),
        title=f"GDAP relationship “{relationship.display_name}” with {customer} ends in "
        f"{_plural(days, 'day')}",
        body=(
            f"It ends on {relationship.end_at:%d %b %Y} and does not auto-extend: then your access to "
            f"{customer}'s tenant stops. Renew it, or turn on the auto-extension (not possible while it "
            "includes Global Administrator)."
        ),
        url=reverse("security:gdap-detail", args=[relationship.pk]),
        event_key=(
            f"security.gdap_expiring:{relationship.relationship_id}:"
            f"{relationship.end_at:%Y-%m-%d}:{threshold}"
        ),
    )


def gdap_ended_notify(relationship: GdapRelationship, *, actor: Any) -> int:
    """A relationship that gave access expired or was terminated (once: these statuses are final)."""
    customer = relationship.customer.name
    if relationship.status == GdapStatus.TERMINATED:
        who = f" by {actor.get_full_name()}" if hasattr(actor, "get_full_name") else ""
        title = f"GDAP relationship “{relationship.display_name}” with {customer} was terminated"
        body = f"It was terminated{who} on {relationship.end_at:%d %b %Y}"
    else:
        title = f"GDAP relationship “{relationship.display_name}” with {customer} expired"
        body = f"It reached its end on {relationship.end_at:%d %b %Y} without an auto-extension"
    return notify(
        category_code=GDAP_ENDED.code,
        organization_id=relationship.organization_id,
        recipients=_gdap_people(relationship.organization_id, besides=actor),
        title=title,
        body=(
            f"{body}: your access to {customer}'s tenant has stopped and its access assignments were "
            "removed. If you still support this customer, renew the relationship and ask the customer "
            "to approve it."
        ),
        url=reverse("security:gdap-detail", args=[relationship.pk]),
        event_key=f"security.gdap_ended:{relationship.relationship_id}",
    )


# --- Posture -------------------------------------------------------------------------------------


def score_dropped_notify(
    *,
    organization_id: int,
    on: date,
    before: int,
    before_on: date,
    after: int,
    lost: Iterable[tuple[str, int]],
) -> int:
    """The day's security score is below the last one kept; `lost` names the requirements that lost
    points, with how many. Once a day at most."""
    lost = list(lost)
    detail = "; ".join(f"{label} (−{points})" for label, points in lost)
    return notify(
        category_code=SCORE_DROPPED.code,
        organization_id=organization_id,
        recipients=people_who_can(organization_id, C.SECURITY_MANAGE),
        title=f"Security score dropped from {before} to {after}",
        body=(
            f"Your security score fell from {before} (on {before_on:%d %b %Y}) to {after} on {on:%d %b %Y}."
            + (f" Points lost: {detail}." if detail else "")
            + " Open the security requirements to see what to fix."
        ),
        url=reverse("security:index"),
        event_key=f"security.score_dropped:{organization_id}:{on.isoformat()}",
    )


def requirement_failed_notify(*, organization_id: int, row: Any, occurrence: str) -> int:
    """A mandatory requirement that was met (or new) is not met any more; `row` is its
    `requirements.RequirementResult` (not imported: that module imports this one), and `occurrence`
    tells this failure from an earlier one of the same requirement."""
    return notify(
        category_code=REQUIREMENT_FAILED.code,
        organization_id=organization_id,
        recipients=people_who_can(organization_id, C.SECURITY_MANAGE),
        title=f"Security requirement not met: {row.label}",
        body=f"{row.evidence} {row.action} It is mandatory to keep your CSP authorization.".replace(
            "  ", " "
        ).strip(),
        url=row.action_url,
        event_key=f"security.requirement_failed:{row.requirement_type}:{occurrence}",
    )


# --- Compliance ----------------------------------------------------------------------------------


def verification_result_notify(
    document: VerificationDocument, *, check: VerificationCheck, appeals_left: int
) -> int:
    """A reviewer decided on a document: passed (the check is verified) or failed (rejected, or
    another document is needed). Told to whoever uploaded it and to the account admins."""
    label = document.get_doc_type_display()
    kind = check.get_kind_display().lower()
    program = check.enrollment.get_program_display()
    note = f" The reviewer wrote: “{document.reviewer_note}”" if document.reviewer_note else ""
    if check.status == CheckStatus.VERIFIED:
        title = f"Verification passed: {label} accepted for the {kind} check"
        body = f"The {kind} check of {program} is verified.{note}"
        outcome = "passed"
    elif check.status == CheckStatus.REJECTED:
        title = f"Verification failed: {label} rejected for the {kind} check"
        appeal = (
            f"You may appeal the decision on the check's page ({_plural(appeals_left, 'appeal')} left)."
            if appeals_left
            else "No appeal is left: contact partner support."
        )
        body = f"The {kind} check of {program} was rejected.{note} {appeal}"
        outcome = "rejected"
    else:
        title = f"Verification failed: the {kind} check needs another document"
        body = (
            f"The {label.lower()} you uploaded does not settle the {kind} check of {program}.{note} "
            "Upload another document on the check's page."
        )
        outcome = "action_required"
    recipients = people_named(document.organization_id, [document.uploaded_by_id]) | people_who_can(
        document.organization_id, C.ACCOUNT_MANAGE
    )
    return notify(
        category_code=VERIFICATION_RESULT.code,
        organization_id=document.organization_id,
        recipients=recipients,
        title=title,
        body=body,
        url=reverse("security:document-detail", args=[document.pk]),
        # A document is reviewed once: its decision is the occurrence.
        event_key=f"security.verification_result:{document.document_id}:{outcome}",
    )


def training_due_notify(assignment: TrainingAssignment, *, today: date) -> int:
    """A reminder to the person a compliance training is assigned to (due soon, or overdue)."""
    course = assignment.course
    if assignment.due_on < today:
        title = f"Overdue: {course.title}"
        when = f"was due on {assignment.due_on:%d %B %Y}"
    else:
        title = f"Due on {assignment.due_on:%d %B %Y}: {course.title}"
        when = f"is due on {assignment.due_on:%d %B %Y}"
    return notify(
        category_code=TRAINING_DUE.code,
        organization_id=assignment.organization_id,
        recipients=people_named(assignment.organization_id, [assignment.user_id]),
        title=title,
        body=(
            f"Your compliance training {course.title} ({course.duration_minutes} minutes) {when}. "
            f"Take it here: {course.url} — then mark it completed on the training page."
        ),
        url=reverse("security:training"),
        event_key=f"security.training_due:{assignment.pk}:{today.isoformat()}",
    )
