"""Membership pages: the Solutions Partner designations, each one's capability score with its
breakdown, history, suggestions and a what-if, and enrolling once the partner qualifies.

Views read through `membership.selectors` (scores, designations) and act through
`membership.services.designations`; every rule and every write is the services', and their
ValidationErrors are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
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
from membership.selectors import designations as designation_selectors
from membership.selectors import scores
from membership.services import designations as designation_services
from membership.views import DENIED
from portal.capabilities import Capability
from portal.views import capability_required, post_action

C = Capability
HISTORY_DAYS = 180


@dataclass(frozen=True)
class DesignationRow:
    """One line of the designations page: the designation, its best score and the partner's state."""

    designation: str
    label: str
    slug: str
    score: Any  # scores.DesignationScore | None (never scored yet)
    enrollment: DesignationEnrollment | None

    @property
    def track_label(self) -> str:
        return track_label(self.score.track) if self.score is not None else ""


@dataclass(frozen=True)
class MetricRow:
    """A metric of the breakdown with its category and unit in words."""

    result: Any  # scores.MetricResult
    category: str
    unit: str


@dataclass(frozen=True)
class TrackScore:
    """A track's score on the detail page, with its name in words."""

    score: Any  # scores.DesignationScore
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


@capability_required(C.MEMBERSHIP_VIEW, message=DENIED)
def designation_list(request):
    """The six Solutions Partner areas and training services: score, qualification, status, gap."""
    organization = request.user.organization
    by_designation = {score.designation: score for score in scores.designation_scores(organization)}
    enrollments = designation_selectors.enrollments_by_designation(request.user)
    rows = [
        DesignationRow(
            designation=designation.value,
            label=designation.label,
            slug=DESIGNATION_SLUGS[designation],
            score=by_designation.get(designation.value),
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


def _enrollable(enrollment: DesignationEnrollment | None, window: tuple[date, date]) -> bool:
    """Whether the designation may be enrolled in now, to offer the Enroll button to those who may
    enroll; the service decides for real."""
    if enrollment is None:
        return False
    if enrollment.status == EnrollmentStatus.ELIGIBLE:
        return True
    return (
        enrollment.status == EnrollmentStatus.LAPSED
        and enrollment.last_qualified_on is not None
        and window[0] <= enrollment.last_qualified_on <= window[1]
    )


@capability_required(C.MEMBERSHIP_VIEW, message=DENIED)
def designation_detail(request, slug: str):
    """One designation: the breakdown of every track, the score's history, suggestions, a what-if."""
    designation = _designation_of(slug)
    organization = request.user.organization
    today = timezone.localdate()
    best = scores.designation_score(organization, designation)
    other_track = _other_track(best)
    other = scores.designation_score(organization, designation, track=other_track) if other_track else None
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
            prediction = scores.what_if(chosen, form.changes())

    history = scores.score_history(organization, designation, since=today - timedelta(days=HISTORY_DAYS))
    enrollment = designation_selectors.enrollments_by_designation(request.user).get(designation)
    window = designation_services.qualification_window(today)
    context = {
        "designation": designation,
        "label": Designation(designation).label,
        "slug": slug,
        "best": best,
        "tracks": tracks,
        "chosen": chosen,
        "suggestions": scores.suggestions(best) if best is not None else [],
        "form": form,
        "prediction": prediction,
        "history": history,
        "chart": _history_chart(history),
        "enrollment": enrollment,
        "window": window,
        "enrollable": _enrollable(enrollment, window),
        "qualifying_points": QUALIFYING_POINTS,
    }
    return render(request, "membership/designation_detail.html", context)


@require_POST
@capability_required(C.MEMBERSHIP_MANAGE, message=DENIED)
def designation_enroll(request, slug: str):
    """Enroll in a designation the partner qualifies for; the service checks eligibility."""
    designation = _designation_of(slug)
    return post_action(
        request,
        lambda: designation_services.designation_enroll(
            actor=request.user, organization=request.user.organization, designation=designation
        ),
        success=f"Enrolled in {Designation(designation).label}.",
        back=reverse("membership:designation", kwargs={"slug": slug}),
    )
