"""Partner capability scores as pages and the API read them (spec/membership.md §2): the latest
score of each designation with its metric breakdown, the daily history, and — without storing
anything — what a change of the metrics would give (`what_if`) and the smallest steps that earn
points or qualify (`suggestions`).

The scores are the `ScoreSnapshot` rows the nightly job writes (membership.services.scoring);
`what_if` and `suggestions` apply the same rule (`metric_points`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from membership.choices import METRIC_CATEGORY, QUALIFYING_POINTS, Designation, Metric, Track
from membership.models import ScoreSnapshot
from membership.services.scoring import metric_points, qualifies

__all__ = (
    "DesignationScore",
    "MetricResult",
    "Suggestion",
    "WhatIf",
    "designation_score",
    "designation_scores",
    "score_history",
    "suggestions",
    "what_if",
)

#: Metrics in the order pages show them.
METRIC_ORDER = {metric.value: index for index, metric in enumerate(Metric)}


# --- Reading the scores ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    metric: str
    label: str
    category: str
    unit: str
    achieved: Decimal
    threshold: Decimal
    weight: int
    points: int

    @property
    def gap(self) -> Decimal:
        """How much is missing for the full points."""
        return max(Decimal(0), self.threshold - self.achieved)

    @property
    def points_missing(self) -> int:
        return self.weight - self.points


@dataclass(frozen=True)
class DesignationScore:
    designation: str
    label: str
    track: str
    taken_on: date
    fiscal_year: str
    total: int
    qualified: bool
    metrics: list[MetricResult]
    other_track_total: int | None

    @property
    def gap_to_qualify(self) -> int:
        return max(0, QUALIFYING_POINTS - self.total)

    @property
    def blocking_metrics(self) -> list[MetricResult]:
        """Metrics at 0 points: the designation cannot qualify until each earns some."""
        return [m for m in self.metrics if m.points == 0]

    @property
    def track_label(self) -> str:
        return Track(self.track).label


def _metric_results(metrics: dict) -> list[MetricResult]:
    results = [
        MetricResult(
            metric=code,
            label=Metric(code).label,
            category=str(METRIC_CATEGORY[Metric(code)]),
            unit=values["unit"],
            achieved=Decimal(values["achieved"]),
            threshold=Decimal(values["threshold"]),
            weight=int(values["weight"]),
            points=int(values["points"]),
        )
        for code, values in metrics.items()
    ]
    return sorted(results, key=lambda m: METRIC_ORDER.get(m.metric, len(METRIC_ORDER)))


def _score(snapshot: ScoreSnapshot, other_track_total: int | None) -> DesignationScore:
    return DesignationScore(
        designation=snapshot.designation,
        label=Designation(snapshot.designation).label,
        track=snapshot.track,
        taken_on=snapshot.taken_on,
        fiscal_year=snapshot.rule_set.fiscal_year,
        total=snapshot.total,
        qualified=snapshot.qualified,
        metrics=_metric_results(snapshot.metrics),
        other_track_total=other_track_total,
    )


def _other_totals(organization, snapshots: list[ScoreSnapshot]) -> dict[tuple[str, date, str], int]:
    """Total of the other track on the same day, by (designation, day, track)."""
    if not snapshots:
        return {}
    same_days = Q()
    for snapshot in snapshots:
        same_days |= Q(designation=snapshot.designation, taken_on=snapshot.taken_on)
    rows = ScoreSnapshot.objects.filter(same_days, organization=organization).values_list(
        "designation", "taken_on", "track", "total"
    )
    return {(designation, day, track): total for designation, day, track, total in rows}


def _other_track_total(snapshot: ScoreSnapshot, totals: dict) -> int | None:
    others = [
        total
        for (designation, day, track), total in totals.items()
        if designation == snapshot.designation and day == snapshot.taken_on and track != snapshot.track
    ]
    return others[0] if others else None


def designation_scores(organization, *, day: date | None = None) -> list[DesignationScore]:
    """The latest best-track score on or before `day` of each designation ever scored."""
    day = day or timezone.localdate()
    snapshots = list(
        ScoreSnapshot.objects.filter(organization=organization, is_best=True, taken_on__lte=day)
        .select_related("rule_set")
        .order_by("designation", "-taken_on")
        .distinct("designation")
    )
    totals = _other_totals(organization, snapshots)
    order = {designation.value: index for index, designation in enumerate(Designation)}
    snapshots.sort(key=lambda s: order.get(s.designation, len(order)))
    return [_score(snapshot, _other_track_total(snapshot, totals)) for snapshot in snapshots]


def designation_score(
    organization, designation: str, *, track: str | None = None, day: date | None = None
) -> DesignationScore | None:
    """The latest score on or before `day` of one designation: its best track, or `track`."""
    if designation not in Designation.values:
        raise ValidationError({"designation": f"Unknown designation {designation!r}."})
    if track is not None and track not in Track.values:
        raise ValidationError({"track": f"Unknown track {track!r}."})
    day = day or timezone.localdate()
    snapshots = ScoreSnapshot.objects.filter(
        organization=organization, designation=designation, taken_on__lte=day
    ).select_related("rule_set")
    snapshots = snapshots.filter(track=track) if track else snapshots.filter(is_best=True)
    snapshot = snapshots.order_by("-taken_on").first()
    if snapshot is None:
        return None
    return _score(snapshot, _other_track_total(snapshot, _other_totals(organization, [snapshot])))


def score_history(organization, designation: str, *, since: date) -> list[tuple[date, int, bool]]:
    """(day, total, qualified) of the best track per day since `since`, oldest first."""
    return list(
        ScoreSnapshot.objects.filter(
            organization=organization, designation=designation, is_best=True, taken_on__gte=since
        )
        .order_by("taken_on")
        .values_list("taken_on", "total", "qualified")
    )


# --- What-if and suggestions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    before: DesignationScore
    after: DesignationScore
    delta_points: int


def _with_achieved(score: DesignationScore, achieved: dict[str, Decimal]) -> DesignationScore:
    metrics = [
        replace(
            m,
            achieved=achieved.get(m.metric, m.achieved),
            points=metric_points(achieved.get(m.metric, m.achieved), m.threshold, m.weight),
        )
        for m in score.metrics
    ]
    total = sum(m.points for m in metrics)
    return replace(
        score, metrics=metrics, total=total, qualified=qualifies(total, [m.points for m in metrics])
    )


def what_if(score: DesignationScore, changes: dict[str, Decimal]) -> WhatIf:
    """The score if each metric's achieved value changed by `changes[metric]` (pure; never below 0)."""
    by_code = {m.metric: m for m in score.metrics}
    achieved: dict[str, Decimal] = {}
    for code, delta in changes.items():
        if code not in by_code:
            raise ValidationError({code: f"{score.label} has no metric {code!r}."})
        try:
            delta = Decimal(delta)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise ValidationError({code: "Enter a number."}) from exc
        if not delta.is_finite():
            raise ValidationError({code: "Enter a number."})
        achieved[code] = max(Decimal(0), by_code[code].achieved + delta)
    after = _with_achieved(score, achieved)
    return WhatIf(before=score, after=after, delta_points=after.total - score.total)


@dataclass(frozen=True)
class Suggestion:
    metric: str
    change: Decimal
    text: str
    gain: int


#: How a change of each metric reads: (singular, plural).
_CHANGE_WORDS = {
    Metric.NCA: ("more net new customer", "more net new customers"),
    Metric.INT_CERT: (
        "more person with an intermediate certification",
        "more people with intermediate certifications",
    ),
    Metric.ADV_CERT: (
        "more person with an advanced certification",
        "more people with advanced certifications",
    ),
    Metric.USAGE_GROWTH: ("more percentage point of usage growth", "more percentage points of usage growth"),
    Metric.DEPLOYMENTS: ("more deployment", "more deployments"),
    Metric.TRAINERS: ("more Microsoft Certified Trainer", "more Microsoft Certified Trainers"),
    Metric.COURSES: ("more course delivered", "more courses delivered"),
    Metric.SATISFACTION: (
        "more percentage point of learner satisfaction",
        "more percentage points of learner satisfaction",
    ),
}


def _change_text(metric: str, change: Decimal) -> str:
    singular, plural = _CHANGE_WORDS.get(Metric(metric), ("more", "more"))
    return f"{change:f} {singular if change == 1 else plural}"


def _smallest(low: int, high: int, ok) -> int | None:
    """The smallest integer k in [low, high] with ok(k), ok being monotonic; None when none."""
    if high < low or not ok(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if ok(middle):
            high = middle
        else:
            low = middle + 1
    return low


def suggestions(score: DesignationScore) -> list[Suggestion]:
    """For each metric below its threshold, the smallest whole step that earns points and its gain;
    then each single-metric change that brings the total to 70 (when the score is below 70).

    Steps are whole units (people, customers, percentage points): what a partner can act on.
    """
    result: list[Suggestion] = []
    open_metrics = [m for m in score.metrics if m.achieved < m.threshold and m.points < m.weight]
    for metric in open_metrics:
        full = int(metric.gap.to_integral_value(rounding=ROUND_CEILING))

        def gains(k: int, metric: MetricResult = metric) -> bool:
            return metric_points(metric.achieved + k, metric.threshold, metric.weight) > metric.points

        step = _smallest(1, full, gains)
        if step is None:
            continue
        change = Decimal(step)
        after = what_if(score, {metric.metric: change}).after
        gain = after.total - score.total
        text = f"{_change_text(metric.metric, change)} gives +{gain} point{'s' if gain != 1 else ''}"
        if after.qualified and not score.qualified:
            text += " and qualifies"
        result.append(Suggestion(metric=metric.metric, change=change, text=text, gain=gain))
    if score.total >= QUALIFYING_POINTS:
        return result
    for metric in open_metrics:
        full = int(metric.gap.to_integral_value(rounding=ROUND_CEILING))

        def reaches(k: int, metric: MetricResult = metric) -> bool:
            return what_if(score, {metric.metric: Decimal(k)}).after.total >= QUALIFYING_POINTS

        step = _smallest(1, full, reaches)
        if step is None:
            continue
        change = Decimal(step)
        after = what_if(score, {metric.metric: change}).after
        if after.qualified and any(s.metric == metric.metric and s.change == change for s in result):
            continue  # the step suggestion above already says it qualifies
        still_zero = ", ".join(m.label.lower() for m in after.blocking_metrics)
        outcome = " and qualifies" if after.qualified else f", but {still_zero} still score 0"
        result.append(
            Suggestion(
                metric=metric.metric,
                change=change,
                text=f"{_change_text(metric.metric, change)} gives {after.total} points{outcome}",
                gain=after.total - score.total,
            )
        )
    return result
