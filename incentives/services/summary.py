"""`ClaimSummary`: each organization's claims per status and month, for the Incentives overview."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DateField, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from earnings.periods import add_months, month_start
from incentives.models import Claim, ClaimSummary

__all__ = ("claim_summary_rebuild", "claim_summary_rebuild_on_commit")


def _month_bounds(month: date) -> Q:
    def moment(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    return Q(created_at__gte=moment(month), created_at__lt=moment(add_months(month, 1)))


def claim_summary_rebuild_on_commit(*, organization_id: int, created: Iterable[datetime]) -> None:
    """Rebuild the summary months of claims created at `created` once the current transaction
    commits: outside its row locks (a rebuild waits for the organization's other rebuilds), and
    reading what it committed."""
    months = {timezone.localdate(moment) for moment in created}
    if months:
        transaction.on_commit(lambda: claim_summary_rebuild([organization_id], months=months))


@transaction.atomic(savepoint=False)
def claim_summary_rebuild(organization_ids: Iterable[int], *, months: Iterable[date] | None = None) -> None:
    """Recompute the organizations' summary rows from their claims: all of them, or only those of
    the claims created in `months` (a claim's creation month never changes, so a change to one
    claim touches one month's rows)."""
    organizations = sorted(set(organization_ids))
    if not organizations:
        return
    with connection.cursor() as cursor:
        # One rebuild per organization at a time: two concurrent ones would each delete what
        # the other had not committed yet and insert both their rows.
        for organization_id in organizations:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"incentives.claim_summary.{organization_id}"]
            )
    claims = Claim.objects.filter(organization_id__in=organizations)
    stale = ClaimSummary.objects.filter(organization_id__in=organizations)
    if months is not None:
        starts = sorted({month_start(month) for month in months})
        if not starts:
            return
        claims = claims.filter(Q.create([_month_bounds(start) for start in starts], connector=Q.OR))
        stale = stale.filter(created_month__in=starts)
    stale.delete()
    groups = (
        claims.order_by()
        .annotate(
            created_month=TruncMonth("created_at", output_field=DateField()),
            decided_month=TruncMonth("decided_at", output_field=DateField()),
        )
        .values("organization_id", "status", "created_month", "decided_month")
        .annotate(n=Count("id"), potential=Sum("potential_payout_usd"), approved=Sum("approved_payout_usd"))
    )
    ClaimSummary.objects.bulk_create(
        ClaimSummary(
            organization_id=group["organization_id"],
            status=group["status"],
            created_month=group["created_month"],
            decided_month=group["decided_month"],
            claim_count=group["n"],
            potential_payout_usd=group["potential"] or Decimal(0),
            approved_payout_usd=group["approved"] or Decimal(0),
        )
        for group in groups
    )
