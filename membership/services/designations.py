"""Solutions Partner designations: eligibility, enrollment, renewal and lapse (spec/membership.md
§2.1, §2.5).

`designations_sync` follows the day's best-track scores (written just before by
`scoring.recalculate_capability_scores`):

* qualified today → `last_qualified_on = day`; a designation not held (no row, or lapsed) becomes
  `eligible` and the Action Center says so (DESIGNATION_ATTAINED);
* held (`enrolled`) but not qualified today → DESIGNATION_AT_RISK with the renewal date, resolved
  once the designation qualifies again;
* on the renewal date: renewed for a year (with a new year of benefits) when the partner qualified
  on at least one day of the qualification window, else a LAPSE_GRACE_DAYS notice, then `lapsed`
  (the item then says so until the designation qualifies again);
* an `eligible` row whose last qualifying day has left the window is removed with its item.

The state changes are set-based (UPDATE/INSERT over every organization at once); Action Center
items are raised only where something changed, so a quiet day touches few of them.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.audiences import people_who_can
from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem, Organization
from accounts.services.action_center import action_item_raise, action_item_resolve, action_items_raise
from earnings.periods import add_months
from membership.choices import (
    DESIGNATION_SLUGS,
    LAPSE_GRACE_DAYS,
    QUALIFICATION_WINDOW_MONTHS,
    QUALIFYING_POINTS,
    Designation,
    EnrollmentStatus,
    PackageSource,
    designation_package_code,
)
from membership.models import DesignationEnrollment, ScoreSnapshot
from membership.notifications import DESIGNATION_AT_RISK, DESIGNATION_GAINED
from membership.services.benefits import package_grant
from portal.audit import audit_record
from portal.capabilities import Capability
from portal.history import Entry, history_record, history_record_many
from portal.locks import lock_many
from portal.notifications import notify
from portal.roles import Role

#: Who reads designation items: the people who may enroll (MEMBERSHIP_MANAGE).
AUDIENCE = [Role.PARTNER_ADMIN.value, Role.GLOBAL_ADMIN.value]


def qualification_window(day: date) -> tuple[date, date]:
    """The first day of the month five months before `day`'s month, and `day` (spec §2.1):
    on 15 Aug 2024 the window is 1 Mar – 15 Aug 2024."""
    return add_months(day.replace(day=1), -QUALIFICATION_WINDOW_MONTHS), day


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February)."""
    year = day.year + 1
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def attained_key(designation: str) -> str:
    return f"membership:designation-attained:{DESIGNATION_SLUGS[Designation(designation)]}"


def at_risk_key(designation: str) -> str:
    return f"membership:designation-at-risk:{DESIGNATION_SLUGS[Designation(designation)]}"


def designation_url(designation: str) -> str:
    return reverse("membership:designation", kwargs={"slug": DESIGNATION_SLUGS[Designation(designation)]})


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59)))


def _tell(
    *, category: str, organization_id: int, designation: str, title: str, body: str, occurrence: str
) -> None:
    """Notify the people who can view membership about one designation; `occurrence` tells this
    event from the designation's earlier ones (a rerun of the same day tells nobody twice)."""
    slug = DESIGNATION_SLUGS[Designation(designation)]
    notify(
        category_code=category,
        organization_id=organization_id,
        recipients=people_who_can(organization_id, Capability.MEMBERSHIP_VIEW),
        title=title[:200],
        body=body,
        url=designation_url(designation),
        event_key=f"{category}:{slug}:{occurrence}",
    )


def _gained_notify(organization_id: int, designation: str, day: date) -> None:
    label = Designation(designation).label
    _tell(
        category=DESIGNATION_GAINED.code,
        organization_id=organization_id,
        designation=designation,
        title=f"You qualify for {label}",
        body=(
            f"Your capability score reached {QUALIFYING_POINTS} points with every metric above 0 on "
            f"{day:%d %b %Y}. A partner admin or global admin can enroll on the designation's page to "
            "unlock its benefits, while you still qualify within the rolling window of the current and "
            f"the previous {QUALIFICATION_WINDOW_MONTHS} months."
        ),
        occurrence=f"qualified-{day.isoformat()}",
    )


def _attained_item(organization_id: int, designation: str, day: date) -> dict:
    label = Designation(designation).label
    return {
        "organization_id": organization_id,
        "code": ActionItemCode.DESIGNATION_ATTAINED,
        "dedupe_key": attained_key(designation),
        "title": f"You qualify for {label}: enroll to unlock the benefits",
        "severity": Severity.LOW,
        "body": (
            f"Your capability score reached {QUALIFYING_POINTS} points with every metric above 0 on "
            f"{day:%d %b %Y}. Enroll while you still qualify within the rolling window of the current "
            f"and the previous {QUALIFICATION_WINDOW_MONTHS} months."
        ),
        "target_url": designation_url(designation),
        "audience_roles": AUDIENCE,
    }


def _raise_at_risk(enrollment: DesignationEnrollment, *, day: date, total: int | None) -> None:
    label = Designation(enrollment.designation).label
    renews_on = enrollment.renews_on
    if renews_on is not None and renews_on <= day:
        lapses_on = renews_on + timedelta(days=LAPSE_GRACE_DAYS)
        title = f"{label} lapses on {lapses_on:%d %b %Y}"
        body = (
            f"It was due for renewal on {renews_on:%d %b %Y}, but your organization did not qualify on "
            f"any day since {qualification_window(day)[0]:%d %b %Y}. Reach {QUALIFYING_POINTS} points "
            f"with every metric above 0 before {lapses_on:%d %b %Y} to keep it and its benefits."
        )
        severity, due = Severity.HIGH, _end_of(lapses_on)
    else:
        window_start = qualification_window(renews_on)[0] if renews_on else None
        title = f"{label} is at risk"
        score = f"Your score is {total} today" if total is not None else "You do not qualify today"
        renewal = (
            f" To renew it on {renews_on:%d %b %Y}, qualify on at least one day between "
            f"{window_start:%d %b %Y} and {renews_on:%d %b %Y}."
            if renews_on
            else ""
        )
        body = f"{score} ({QUALIFYING_POINTS} points and every metric above 0 needed).{renewal}"
        severity, due = Severity.MEDIUM, _end_of(renews_on) if renews_on else None
    # Told once per renewal date while it waits to lapse (the notice is refreshed daily); once per
    # day it stops qualifying otherwise (raised only when it was not at risk already).
    lapsing = renews_on is not None and renews_on <= day
    _tell(
        category=DESIGNATION_AT_RISK.code,
        organization_id=enrollment.organization_id,
        designation=enrollment.designation,
        title=title,
        body=body,
        occurrence=f"renewal-{renews_on.isoformat()}" if lapsing else f"not-qualified-{day.isoformat()}",
    )
    action_item_raise(
        organization_id=enrollment.organization_id,
        code=ActionItemCode.DESIGNATION_AT_RISK,
        dedupe_key=at_risk_key(enrollment.designation),
        title=title[:200],
        severity=severity,
        body=body,
        due_at=due,
        target_url=designation_url(enrollment.designation),
        audience_roles=AUDIENCE,
    )


def _raise_lapsed(enrollment: DesignationEnrollment) -> None:
    """The at-risk item becomes the news that the designation is gone, until it qualifies again."""
    label = Designation(enrollment.designation).label
    _tell(
        category=DESIGNATION_AT_RISK.code,
        organization_id=enrollment.organization_id,
        designation=enrollment.designation,
        title=f"{label} lapsed on {enrollment.lapsed_on:%d %b %Y}",
        body=(
            f"It was not renewed on {enrollment.renews_on:%d %b %Y}: your organization did not qualify in "
            f"the window. Reach {QUALIFYING_POINTS} points with every metric above 0 "
            "to enroll again."
        ),
        occurrence=f"lapsed-{enrollment.lapsed_on.isoformat()}",
    )
    action_item_raise(
        organization_id=enrollment.organization_id,
        code=ActionItemCode.DESIGNATION_AT_RISK,
        dedupe_key=at_risk_key(enrollment.designation),
        title=f"{label} lapsed on {enrollment.lapsed_on:%d %b %Y}",
        severity=Severity.MEDIUM,
        body=(
            f"It was not renewed on {enrollment.renews_on:%d %b %Y}: your organization did not qualify in "
            f"the window. Reach {QUALIFYING_POINTS} points with every metric above 0 to enroll again."
        ),
        target_url=designation_url(enrollment.designation),
        audience_roles=AUDIENCE,
    )


def _record(enrollment: DesignationEnrollment, *, actor: Any, from_status: str, note: str) -> None:
    """Append a saved change of the enrollment to its history, with the renewal date it has now."""
    history_record(
        subject=enrollment,
        actor=actor,
        from_status=from_status,
        to_status=enrollment.status,
        note=note,
        data={"renews_on": enrollment.renews_on},
    )


@dataclass
class SyncResult:
    """What one `designations_sync` changed."""

    qualified: int = 0
    eligible: int = 0
    at_risk: int = 0
    back_on_track: int = 0
    renewed: int = 0
    lapsed: int = 0
    expired: int = 0


@transaction.atomic
def designations_sync(*, day: date, organization_ids: Collection[int] | None = None) -> SyncResult:
    """Bring every designation (of the given organizations) in line with `day`'s best scores."""
    result = SyncResult()
    scope = Q() if organization_ids is None else Q(organization_id__in=list(organization_ids))
    window_start, _ = qualification_window(day)
    best_today = ScoreSnapshot.objects.filter(scope, taken_on=day, is_best=True)
    same = {"organization_id": OuterRef("organization_id"), "designation": OuterRef("designation")}
    qualified_today = Exists(best_today.filter(qualified=True, **same))
    enrollments = DesignationEnrollment.objects.filter(scope)

    # 1. Qualified today: remember the day (never moves backwards when an older day is rerun).
    result.qualified = (
        enrollments.filter(qualified_today)
        .filter(Q(last_qualified_on__isnull=True) | Q(last_qualified_on__lt=day))
        .update(last_qualified_on=day)
    )

    # 2. Qualified and not held: eligible (a new row, or a lapsed one that qualifies again).
    lapsed_again = list(
        enrollments.filter(qualified_today, status=EnrollmentStatus.LAPSED).values_list(
            "pk", "organization_id", "designation"
        )
    )
    DesignationEnrollment.objects.filter(pk__in=[pk for pk, _, _ in lapsed_again]).update(
        status=EnrollmentStatus.ELIGIBLE
    )
    held = DesignationEnrollment.objects.filter(**same)
    new_rows = list(
        best_today.filter(qualified=True).exclude(Exists(held)).values_list("organization_id", "designation")
    )
    created = DesignationEnrollment.objects.bulk_create(
        [
            DesignationEnrollment(
                organization_id=organization_id,
                designation=designation,
                status=EnrollmentStatus.ELIGIBLE,
                last_qualified_on=day,
            )
            for organization_id, designation in new_rows
        ]
    )
    content_type = ContentType.objects.get_for_model(DesignationEnrollment)
    history_record_many(
        [
            Entry(
                organization_id=organization_id,
                content_type=content_type,
                object_id=str(pk),
                from_status=EnrollmentStatus.LAPSED,
                to_status=EnrollmentStatus.ELIGIBLE,
                note=f"Qualified again on {day:%d %b %Y}.",
            )
            for pk, organization_id, _ in lapsed_again
        ]
        + [
            Entry.of(enrollment, to_status=enrollment.status, note=f"Qualified on {day:%d %b %Y}.")
            for enrollment in created
        ],
        actor=None,
    )
    action_items_raise(
        [
            _attained_item(organization_id, designation, day)
            for organization_id, designation in [(o, d) for _, o, d in lapsed_again] + new_rows
        ]
    )
    for _, organization_id, designation in lapsed_again:
        action_item_resolve(organization_id=organization_id, dedupe_key=at_risk_key(designation))
    for organization_id, designation in [(o, d) for _, o, d in lapsed_again] + new_rows:
        _gained_notify(organization_id, designation, day)
    result.eligible = len(lapsed_again) + len(new_rows)

    # 3. Held, not due for renewal, and not qualified today: at risk (raised once; a dismissed
    #    item stays dismissed). Held and qualified today: back on track.
    not_qualified = best_today.filter(qualified=False, **same)
    at_risk = list(
        enrollments.filter(status=EnrollmentStatus.ENROLLED, renews_on__gt=day)
        .filter(Exists(not_qualified))
        .annotate(total_today=Subquery(not_qualified.values("total")[:1]))
    )
    if at_risk:
        known = set(
            ActionItem.objects.filter(
                organization_id__in={e.organization_id for e in at_risk},
                code=ActionItemCode.DESIGNATION_AT_RISK,
            )
            .exclude(status=ActionItemStatus.RESOLVED)
            .values_list("organization_id", "dedupe_key")
        )
        for enrollment in at_risk:
            if (enrollment.organization_id, at_risk_key(enrollment.designation)) not in known:
                _raise_at_risk(enrollment, day=day, total=enrollment.total_today)
                result.at_risk += 1
    slug_designation = {at_risk_key(d): d for d in Designation}
    open_items = ActionItem.objects.filter(
        scope,
        code=ActionItemCode.DESIGNATION_AT_RISK,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).values_list("organization_id", "dedupe_key")
    recovered = set(
        enrollments.filter(qualified_today, status=EnrollmentStatus.ENROLLED).values_list(
            "organization_id", "designation"
        )
    )
    for organization_id, key in open_items:
        if (organization_id, slug_designation.get(key)) in recovered:
            result.back_on_track += action_item_resolve(organization_id=organization_id, dedupe_key=key)

    # 4. Due for renewal: renewed when qualified on a day of the window, else notice, then lapse.
    due = lock_many(enrollments.filter(status=EnrollmentStatus.ENROLLED, renews_on__lte=day))
    for enrollment in due:
        if enrollment.last_qualified_on is not None and enrollment.last_qualified_on >= window_start:
            period_start = enrollment.renews_on
            enrollment.renews_on = one_year_after(period_start)
            enrollment.save(update_fields=["renews_on", "updated_at"])
            _record(enrollment, actor=None, from_status=enrollment.status, note="Renewed.")
            package_grant(
                organization=enrollment.organization,
                code=designation_package_code(enrollment.designation),
                source=PackageSource.DESIGNATION,
                start=period_start,
            )
            action_item_resolve(
                organization_id=enrollment.organization_id, dedupe_key=at_risk_key(enrollment.designation)
            )
            result.renewed += 1
        elif day >= enrollment.renews_on + timedelta(days=LAPSE_GRACE_DAYS):
            enrollment.status = EnrollmentStatus.LAPSED
            enrollment.lapsed_on = day
            enrollment.save(update_fields=["status", "lapsed_on", "updated_at"])
            _record(enrollment, actor=None, from_status=EnrollmentStatus.ENROLLED, note="Not renewed.")
            _raise_lapsed(enrollment)
            result.lapsed += 1
        else:
            _raise_at_risk(enrollment, day=day, total=None)
            result.at_risk += 1

    # 5. Eligible, but the last qualifying day has left the window: the offer ends.
    expired = list(
        enrollments.filter(status=EnrollmentStatus.ELIGIBLE)
        .filter(Q(last_qualified_on__isnull=True) | Q(last_qualified_on__lt=window_start))
        .values_list("pk", "organization_id", "designation")
    )
    DesignationEnrollment.objects.filter(pk__in=[pk for pk, _, _ in expired]).delete()
    for _, organization_id, designation in expired:
        action_item_resolve(organization_id=organization_id, dedupe_key=attained_key(designation))
    result.expired = len(expired)
    return result


@transaction.atomic
def designation_enroll(*, actor: Any, organization: Organization, designation: str) -> DesignationEnrollment:
    """Enroll in a designation the organization qualifies for (spec §2.1): it is held for a year
    and its benefit package is granted."""
    if designation not in Designation.values:
        raise ValidationError({"designation": f"Unknown designation {designation!r}."})
    label = Designation(designation).label
    today = timezone.localdate()
    window_start, _ = qualification_window(today)
    enrollment = lock_many(
        DesignationEnrollment.objects.filter(organization=organization, designation=designation)
    ).first()
    if enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED:
        raise ValidationError(
            {
                "designation": (
                    f"Your organization already holds {label} (renews on {enrollment.renews_on:%d %b %Y})."
                )
            }
        )
    if (
        enrollment is None
        or enrollment.last_qualified_on is None
        or enrollment.last_qualified_on < window_start
    ):
        raise ValidationError(
            {
                "designation": (
                    f"Your organization has not qualified for {label} on any day since "
                    f"{window_start:%d %b %Y}: it needs {QUALIFYING_POINTS} points with every metric above 0."
                )
            }
        )
    before = enrollment.status
    enrollment.status = EnrollmentStatus.ENROLLED
    enrollment.enrolled_on = today
    enrollment.renews_on = one_year_after(today)
    enrollment.lapsed_on = None
    enrollment.save()
    _record(enrollment, actor=actor, from_status=before, note="Enrolled.")
    package = package_grant(
        organization=organization,
        code=designation_package_code(designation),
        source=PackageSource.DESIGNATION,
        start=today,
        actor=actor,
    )
    for key in (attained_key(designation), at_risk_key(designation)):
        action_item_resolve(organization_id=organization.pk, dedupe_key=key, actor=actor)
    audit_record(
        actor=actor,
        action="membership.designation.enrolled",
        organization_id=organization.pk,
        target=enrollment,
        changes={
            "status": [before, EnrollmentStatus.ENROLLED.value],
            "renews_on": [None, enrollment.renews_on.isoformat()],
            "package": [None, package.code],
        },
    )
    return enrollment
