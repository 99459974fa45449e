"""The read side of the Earnings files: background exports and reconciliations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from earnings.choices import ReconciliationLineKind
from earnings.models import ExportJob, Reconciliation, ReconciliationLine
from earnings.reconciliation import CSV_COLUMNS, RECONCILIATION
from portal.capabilities import Capability, locations_granting
from portal.files import Amount, copy_csv, select_columns
from portal.imports.pipeline import JOB_KIND_PREFIX
from portal.models import JobRun

#: The kind of the import jobs that read a partner's records (earnings.imports_reconcile).
RECONCILIATION_JOB_KIND = JOB_KIND_PREFIX + RECONCILIATION.name


def exports(*, user) -> QuerySet[ExportJob]:
    """Exports the user may see: a location-scoped person sees only their own requests, because
    an export holds the rows of whoever requested it."""
    visible = ExportJob.objects.visible_to(user)
    if locations_granting(user, Capability.EARNINGS_VIEW) is not None:
        visible = visible.filter(requested_by=user)
    return visible.select_related("job", "requested_by")


def export_for_page(*, user, pk: int) -> ExportJob | None:
    return exports(user=user).filter(pk=pk).first()


def reconciliations(*, user) -> QuerySet[Reconciliation]:
    return Reconciliation.objects.visible_to(user).select_related("created_by")


def reconciliation_for_page(*, user, pk: int) -> Reconciliation | None:
    return reconciliations(user=user).filter(pk=pk).first()


def reconciliation_lines(
    *, user, reconciliation: Reconciliation, kind: str | None = None
) -> QuerySet[ReconciliationLine]:
    """The reconciliation's lines, or those of one kind, in the order the page and the CSV show."""
    lines = ReconciliationLine.objects.visible_to(user).filter(reconciliation=reconciliation)
    if kind in ReconciliationLineKind.values:
        lines = lines.filter(kind=kind)
    return lines.order_by("kind", "row_number", "id")


def reconciliation_totals(lines: QuerySet[ReconciliationLine]) -> list[dict[str, Any]]:
    """Each side's total and the difference, per currency (amounts in different currencies are
    never added up); a blank currency gathers the rows of a file that gave none and matched
    nothing."""
    rows = (
        lines.order_by()
        .values("currency")
        .annotate(partner=Sum("partner_amount"), portal=Sum("portal_amount"))
        .order_by("currency")
    )
    totals = []
    for row in rows:
        partner, portal = row["partner"] or Decimal(0), row["portal"] or Decimal(0)
        totals.append(
            {
                "currency": row["currency"],
                "partner": partner,
                "portal": portal,
                "difference": partner - portal,
            }
        )
    # Blank last: the known currencies first.
    return sorted(totals, key=lambda total: (total["currency"] == "", total["currency"]))


def reconciliation_jobs(*, user) -> QuerySet[JobRun]:
    """The import jobs that read partners' records, as the user may see them: a location-scoped
    person sees only their own (as with the reconciliations they make)."""
    jobs = JobRun.objects.visible_to(user).filter(kind=RECONCILIATION_JOB_KIND)
    if locations_granting(user, Capability.EARNINGS_VIEW) is not None:
        jobs = jobs.filter(created_by_id=user.pk)
    return jobs


def reconciliation_job_for_page(*, user, pk: int) -> JobRun | None:
    return reconciliation_jobs(user=user).filter(pk=pk).first()


def reconciliation_jobs_unfinished(*, user, limit: int = 5) -> list[JobRun]:
    """The user's latest reconciliation jobs that made no reconciliation (still running, or the
    file was rejected), newest first, for the list page."""
    made = Reconciliation.objects.filter(job_id__isnull=False).values("job_id")
    return list(
        reconciliation_jobs(user=user)
        .filter(created_by_id=user.pk)
        .exclude(pk__in=made)
        .defer("errors", "result")
        .order_by("-created_at", "-id")[:limit]
    )


def reconciliation_csv(lines: QuerySet[ReconciliationLine]) -> Iterator[bytes]:
    """The lines (header first), streamed from PostgreSQL with COPY … TO STDOUT."""
    expressions = (
        F("kind"),
        F("row_number"),
        F("transaction_id"),
        F("invoice_number"),
        F("customer_name"),
        F("product_id"),
        Amount(F("partner_amount")),
        Amount(F("portal_amount")),
        Amount(F("difference")),
        F("currency"),
        F("earning__earning_id"),
    )
    rows = lines.order_by("kind", "row_number", "id")
    return copy_csv(*select_columns(rows, dict(zip(CSV_COLUMNS, expressions, strict=True))))
