"""Membership pages: the Solutions Partner designations, each one's capability score with its
breakdown, history, suggestions and a what-if, and enrolling once the partner qualifies.

Views parse input and call the services (membership/services/scoring.py, designations.py); every
rule and every write is theirs, and their ValidationErrors are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from membership.choices import (
    DESIGNATION_BY_SLUG,
    DESIGNATION_SLUGS,
    QUALIFYING_POINTS,
    TRACKED_AREAS,
    Designation,
    EnrollmentStatus,
    MetricCategory,
    MetricUnit,
    Track,
)
from membership.forms import WhatIfForm
from membership.models import DesignationEnrollment
from membership.services import designations as designation_services
from membership.services import scoring
from membership.views import require
from portal.capabilities import Capability, can
from portal.views import show_errors

C = Capability
HISTORY_DAYS = 180


@dataclass(frozen=True)
class DesignationRow:
    """One line of the designations page: the designation, its best score and the partner's state."""

    designation: str
    label: str
    slug: str
    score: Any  # scoring.DesignationScore | None (never scored yet)
    enrollment: DesignationEnrollment | None

    @property
    def track_label(self) -> str:
        return track_label(self.score.track) if self.score is not None else ""


@dataclass(frozen=True)
class MetricRow:
    """A metric of the breakdown with its category and unit in words."""

    result: Any  # scoring.MetricResult
    category: str
    unit: str


@dataclass(frozen=True)
class TrackScore:
    """A track's score on the detail page, with its name in words."""

    score: Any  # scoring.DesignationScore
    track_label: str
    is_best: bool

    @property
    def rows(self) -> list[MetricRow]:
        return [
            MetricRow(result, _label(MetricCategory, result.category), _label(MetricUnit, result.unit))
            for result in self.score.metrics
        ]


def _label(choices, code: str) -> str:
    try:
        return choices(code).label
    except ValueError:
        return code


def track_label(code: str) -> str:
    return _label(Track, code)


def _designation_of(slug: str) -> str:
    try:
        return DESIGNATION_BY_SLUG[slug]
    except KeyError:
        raise Http404("No such designation.") from None


def _enrollments(request) -> dict[str, DesignationEnrollment]:
    rows = DesignationEnrollment.objects.visible_to(request.user)
    return {row.designation: row for row in rows}


def designation_list(request):
    """The six Solutions Partner areas and training services: score, qualification, status, gap."""
    require(request, C.MEMBERSHIP_VIEW)
    organization = request.user.organization
    scores = {score.designation: score for score in scoring.designation_scores(organization)}
    enrollments = _enrollments(request)
    rows = [
        DesignationRow(
            designation=designation.value,
            label=designation.label,
            slug=DESIGNATION_SLUGS[designation],
            score=scores.get(designation.value),
            enrollment=enrollments.get(designation.value),
        )
        for designation in Designation
    ]
    context = {
        "rows": rows,
        "qualifying_points": QUALIFYING_POINTS,
        "window": designation_services.qualification_window(timezone.localdate()),
    }
    return render(request, "membership/designations.html", context)


def _other_track(score) -> str | None:
    if score is None or score.designation not in TRACKED_AREAS:
        return None
    return Track.SMB if score.track == Track.ENTERPRISE else Track.ENTERPRISE


def _history_chart(history: list[tuple[date, int, bool]]) -> dict:
    return {
        "labels": [day.isoformat() for day, _total, _qualified in history],
        "datasets": [{"label": "Capability score", "data": [total for _day, total, _qualified in history]}],
        "threshold": QUALIFYING_POINTS,
    }


def _can_enroll(enrollment: DesignationEnrollment | None, window: tuple[date, date]) -> bool:
    """Whether to offer the Enroll button; the service decides for real."""
    if enrollment is None:
        return False
    if enrollment.status == EnrollmentStatus.ELIGIBLE:
        return True
    return (
        enrollment.status == EnrollmentStatus.LAPSED
        and enrollment.last_qualified_on is not None
        and window[0] <= enrollment.last_qualified_on <= window[1]
    )


def designation_detail(request, slug: str):
    """One designation: the breakdown of every track, the score's history, suggestions, a what-if."""
    require(request, C.MEMBERSHIP_VIEW)
    designation = _designation_of(slug)
    organization = request.user.organization
    today = timezone.localdate()
    best = scoring.designation_score(organization, designation)
    other_track = _other_track(best)
    other = scoring.designation_score(organization, designation, track=other_track) if other_track else None
    tracks = [
        TrackScore(score, track_label(score.track), is_best=score is best)
        for score in (best, other)
        if score is not None
    ]

    # The what-if runs on the track the person picks (the best one unless they choose).
    chosen = best
    if other is not None and request.GET.get("track") == other.track:
        chosen = other
    form = prediction = None
    if chosen is not None:
        asked = any(result.metric in request.GET for result in chosen.metrics)
        form = WhatIfForm(request.GET if asked else None, score=chosen)
        if asked and form.is_valid():
            prediction = scoring.what_if(chosen, form.changes())

    history = scoring.score_history(organization, designation, since=today - timedelta(days=HISTORY_DAYS))
    enrollment = (
        DesignationEnrollment.objects.visible_to(request.user).filter(designation=designation).first()
    )
    window = designation_services.qualification_window(today)
    context = {
        "designation": designation,
        "label": Designation(designation).label,
        "slug": slug,
        "best": best,
        "tracks": tracks,
        "chosen": chosen,
        "suggestions": scoring.suggestions(best) if best is not None else [],
        "form": form,
        "prediction": prediction,
        "history": history,
        "chart": _history_chart(history),
        "enrollment": enrollment,
        "window": window,
        "can_manage": can(request.user, C.MEMBERSHIP_MANAGE),
        "can_enroll": _can_enroll(enrollment, window),
        "qualifying_points": QUALIFYING_POINTS,
    }
    return render(request, "membership/designation_detail.html", context)


@require_POST
def designation_enroll(request, slug: str):
    """Enroll in a designation the partner qualifies for; the service checks eligibility."""
    require(request, C.MEMBERSHIP_MANAGE)
    designation = _designation_of(slug)
    try:
        designation_services.designation_enroll(
            actor=request.user, organization=request.user.organization, designation=designation
        )
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, f"Enrolled in {Designation(designation).label}.")
    return redirect("membership:designation", slug=slug)
