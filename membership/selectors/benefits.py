"""Benefit packages as pages and the API read them (spec/membership.md §5): per benefit, what the
package entitles the partner to, whether it is activated, how much is consumed and what remains
until it expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone

from accounts.models import Organization
from membership.choices import ActivationStatus
from membership.models import Benefit, BenefitConsumption, BenefitPackage

__all__ = ("EXPIRING_SOON_DAYS", "BenefitLine", "benefit_lines")

#: A benefit expiring within this many days is flagged on the benefits page.
EXPIRING_SOON_DAYS = 60


@dataclass
class BenefitLine:
    """One benefit as the benefits page shows it (spec §5): entitled, activated, consumed,
    remaining, expiry."""

    benefit: Benefit
    entitled: Decimal
    activated: bool
    consumed: Decimal
    remaining: Decimal
    #: consumed / entitled in whole percent (half up): 19 of 25 seats = 76.
    percent_used: int
    expires_at: date
    expiring_soon: bool
    expired: bool = False


def _line(benefit: Benefit, consumed: Decimal | None, today: date) -> BenefitLine:
    consumed = consumed or Decimal(0)
    entitled = benefit.quantity
    percent = (
        int((consumed * 100 / entitled).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if entitled > 0 else 0
    )
    expired = benefit.expires_at < today or benefit.activation_status == ActivationStatus.EXPIRED
    return BenefitLine(
        benefit=benefit,
        entitled=entitled,
        activated=benefit.activation_status == ActivationStatus.ACTIVATED,
        consumed=consumed,
        remaining=max(Decimal(0), entitled - consumed),
        percent_used=percent,
        expires_at=benefit.expires_at,
        expiring_soon=not expired and benefit.expires_at <= today + timedelta(days=EXPIRING_SOON_DAYS),
        expired=expired,
    )


def benefit_lines(
    organization: Organization, *, today: date | None = None
) -> list[tuple[BenefitPackage, list[BenefitLine]]]:
    """Every package of the organization with its benefit lines: current packages first (newest
    start first), then upcoming, then ended ones. The consumption is the latest figure on or
    before `today`; two queries whatever the number of benefits."""
    today = today or timezone.localdate()
    latest = (
        BenefitConsumption.objects.filter(benefit=OuterRef("pk"), as_of__lte=today)
        .order_by("-as_of")
        .values("consumed_quantity")[:1]
    )
    benefits = Benefit.objects.annotate(latest_consumed=Subquery(latest)).order_by("id")
    packages = list(
        BenefitPackage.objects.filter(organization=organization).prefetch_related(
            Prefetch("benefits", queryset=benefits)
        )
    )

    def order(package: BenefitPackage) -> tuple[int, int, str]:
        if package.start <= today <= package.end:
            rank = 0
        elif package.start > today:
            rank = 1
        else:
            rank = 2
        return rank, -package.start.toordinal(), package.code

    return [
        (package, [_line(benefit, benefit.latest_consumed, today) for benefit in package.benefits.all()])
        for package in sorted(packages, key=order)
    ]
