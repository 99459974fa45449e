"""Membership API: Solutions Partner designations, their partner capability scores, what-if and
enrollment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from membership.api.common import C, envelope, service_errors
from membership.choices import (
    DESIGNATION_BY_SLUG,
    DESIGNATION_SLUGS,
    Designation,
    EnrollmentStatus,
    Metric,
    MetricCategory,
    MetricUnit,
    Track,
)
from membership.models import ScoreSnapshot
from membership.selectors import designations as designation_selectors
from membership.selectors import scores
from membership.services import designations as designation_services
from portal.api import TenantViewSet

#: How far back `designations/{slug}/` reaches for its daily history.
HISTORY_DAYS = 365
_SLUG_PARAMETER = OpenApiParameter(
    "slug",
    str,
    OpenApiParameter.PATH,
    enum=list(DESIGNATION_SLUGS.values()),
    description="The designation, e.g. modern-work.",
)
_DELTA_LIMIT = Decimal("1000000")


class ScoreMetricSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    label = serializers.CharField()
    category = serializers.ChoiceField(choices=MetricCategory.choices)
    unit = serializers.ChoiceField(choices=MetricUnit.choices)
    achieved = serializers.DecimalField(max_digits=14, decimal_places=2)
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2)
    weight = serializers.IntegerField()
    points = serializers.IntegerField()
    gap = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="threshold − achieved, at least 0."
    )
    pointsMissing = serializers.IntegerField(source="points_missing")  # noqa: N815


class DesignationScoreSerializer(serializers.Serializer):
    """A designation's score on its best track (spec §2): total of 100, qualified at 70 with every
    metric above 0 points."""

    track = serializers.ChoiceField(choices=Track.choices)
    takenOn = serializers.DateField(source="taken_on")  # noqa: N815
    fiscalYear = serializers.CharField(source="fiscal_year")  # noqa: N815
    total = serializers.IntegerField()
    qualified = serializers.BooleanField()
    gapToQualify = serializers.IntegerField(source="gap_to_qualify")  # noqa: N815
    otherTrackTotal = serializers.IntegerField(source="other_track_total", allow_null=True)  # noqa: N815
    metrics = ScoreMetricSerializer(many=True)


class DesignationEnrollmentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    lastQualifiedOn = serializers.DateField(source="last_qualified_on", allow_null=True)  # noqa: N815
    enrolledOn = serializers.DateField(source="enrolled_on", allow_null=True)  # noqa: N815
    renewsOn = serializers.DateField(source="renews_on", allow_null=True)  # noqa: N815
    lapsedOn = serializers.DateField(source="lapsed_on", allow_null=True)  # noqa: N815


class DesignationSerializer(DesignationScoreSerializer):
    id = serializers.CharField(help_text="The designation's slug.")
    designation = serializers.ChoiceField(choices=Designation.choices)
    name = serializers.CharField(source="label")
    enrollment = DesignationEnrollmentSerializer(allow_null=True)


class ScoreHistoryPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    total = serializers.IntegerField()
    qualified = serializers.BooleanField()


class ScoreSuggestionSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    change = serializers.DecimalField(max_digits=14, decimal_places=2)
    gain = serializers.IntegerField()
    text = serializers.CharField()


class QualificationWindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class DesignationDetailSerializer(DesignationSerializer):
    qualificationWindow = QualificationWindowSerializer(source="window")  # noqa: N815
    suggestions = ScoreSuggestionSerializer(many=True)
    history = ScoreHistoryPointSerializer(many=True)


DesignationListSerializer = envelope(DesignationSerializer)


class WhatIfDeltaSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    delta = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=-_DELTA_LIMIT,
        max_value=_DELTA_LIMIT,
        help_text="Added to the metric's achieved value (negative to subtract; the result is at least 0).",
    )


class WhatIfInputSerializer(serializers.Serializer):
    deltas = WhatIfDeltaSerializer(many=True, allow_empty=False, max_length=len(Metric.values))
    track = serializers.ChoiceField(
        choices=Track.choices, required=False, help_text="Default: the best track."
    )

    def validate_deltas(self, deltas):
        metrics = [row["metric"] for row in deltas]
        if len(set(metrics)) != len(metrics):
            raise serializers.ValidationError("Give each metric at most once.")
        return deltas


class WhatIfSerializer(serializers.Serializer):
    before = DesignationScoreSerializer()
    after = DesignationScoreSerializer()
    deltaPoints = serializers.IntegerField(source="delta_points")  # noqa: N815


class DesignationViewSet(TenantViewSet):
    """`designations/`: the current score of each designation, by its best track, with the
    enrollment; `designations/{slug}/` adds the daily history and suggestions.

    Every organization has the same slugs, so `designations/` is not a list of rows with ids of
    their own (its scoping is tested in tests/membership/test_api.py); `designations/{slug}/…`
    answer 404 to an organization that has no score for the designation."""

    model = ScoreSnapshot
    pagination_class = None
    filter_backends: list = []
    capabilities = {"*": C.MEMBERSHIP_VIEW, "enroll": C.MEMBERSHIP_MANAGE}

    @classmethod
    def tenant_url_kwargs(cls, snapshot: ScoreSnapshot) -> dict:
        return {"slug": DESIGNATION_SLUGS[Designation(snapshot.designation)]}

    @staticmethod
    def _row(score, enrollment) -> dict:
        return {
            "id": DESIGNATION_SLUGS[Designation(score.designation)],
            "designation": score.designation,
            "label": score.label,
            "track": score.track,
            "taken_on": score.taken_on,
            "fiscal_year": score.fiscal_year,
            "total": score.total,
            "qualified": score.qualified,
            "gap_to_qualify": score.gap_to_qualify,
            "other_track_total": score.other_track_total,
            "metrics": score.metrics,
            "enrollment": enrollment,
        }

    def _designation(self, slug: str) -> str:
        designation = DESIGNATION_BY_SLUG.get(slug)
        if designation is None:
            raise exceptions.NotFound(
                f"No designation {slug!r}; use one of: {', '.join(DESIGNATION_BY_SLUG)}."
            )
        return designation

    def _score(self, slug: str, track: str | None = None):
        designation = self._designation(slug)
        score = scores.designation_score(
            self.request.user.organization, designation, track=track, day=timezone.localdate()
        )
        if score is None:
            raise exceptions.NotFound("Your organization has no score for this designation yet.")
        return score

    @extend_schema(operation_id="membership_designations_list", responses=DesignationListSerializer)
    def designations(self, request):
        """Every designation the organization has a score for: total, qualified, the metrics with
        achieved, threshold, weight, points and gap, and the enrollment (null if none)."""
        enrollments = designation_selectors.enrollments_by_designation(request.user)
        latest = scores.designation_scores(request.user.organization, day=timezone.localdate())
        rows = [self._row(score, enrollments.get(score.designation)) for score in latest]
        return Response(DesignationListSerializer({"value": rows}).data)

    @extend_schema(
        operation_id="membership_designation_retrieve",
        parameters=[
            _SLUG_PARAMETER,
            OpenApiParameter("track", str, enum=Track.values, description="Default: the best track."),
        ],
        responses=DesignationDetailSerializer,
    )
    def retrieve(self, request, slug=None):
        """The designation's score with its qualification window, suggestions to reach 70, and the
        daily history of the best track over the last year (oldest first)."""
        track = request.query_params.get("track") or None
        if track is not None and track not in Track.values:
            raise exceptions.ValidationError({"track": [f"Use one of: {', '.join(Track.values)}."]})
        score = self._score(slug, track)
        today = timezone.localdate()
        start, end = designation_services.qualification_window(today)
        history = scores.score_history(
            request.user.organization, score.designation, since=today - timedelta(days=HISTORY_DAYS)
        )
        enrollment = designation_selectors.enrollments_by_designation(request.user).get(score.designation)
        row = self._row(score, enrollment)
        row.update(
            window={"start": start, "end": end},
            suggestions=scores.suggestions(score),
            history=[
                {"date": day, "total": total, "qualified": qualified} for day, total, qualified in history
            ],
        )
        return Response(DesignationDetailSerializer(row).data)

    @extend_schema(
        operation_id="membership_designation_what_if",
        parameters=[_SLUG_PARAMETER],
        request=WhatIfInputSerializer,
        responses=WhatIfSerializer,
    )
    def what_if(self, request, slug=None):
        """Predict the score if some metrics changed: `deltas` are added to the achieved values
        (never below 0). Nothing is stored."""
        score = self._score(slug)  # 404 before any complaint about the body
        data = WhatIfInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        track = data.validated_data.get("track")
        if track is not None and track != score.track:
            score = self._score(slug, track)
        known = {metric.metric for metric in score.metrics}
        unknown = [row["metric"] for row in data.validated_data["deltas"] if row["metric"] not in known]
        if unknown:
            raise exceptions.ValidationError(
                {"deltas": [f"This designation has no metric {', '.join(unknown)}; use: {', '.join(known)}."]}
            )
        changes = {row["metric"]: row["delta"] for row in data.validated_data["deltas"]}
        with service_errors():
            result = scores.what_if(score, changes)
        return Response(WhatIfSerializer(result).data)

    @extend_schema(
        operation_id="membership_designation_enroll",
        parameters=[_SLUG_PARAMETER],
        request=None,
        responses=DesignationEnrollmentSerializer,
    )
    def enroll(self, request, slug=None):
        """Enroll in a designation the organization qualifies for: its benefit package is granted."""
        score = self._score(slug)
        with service_errors():
            enrollment = designation_services.designation_enroll(
                actor=request.user, organization=request.user.organization, designation=score.designation
            )
        return Response(DesignationEnrollmentSerializer(enrollment).data)
