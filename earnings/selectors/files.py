"""The read side of the Earnings files: background exports and reconciliations."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from earnings.choices import ReconciliationLineKind
from earnings.models import ExportJob, Reconciliation, ReconciliationLine
from earnings.reconciliation import CSV_COLUMNS
from portal.capabilities import Capability, locations_granting
from portal.files import Amount, copy_csv, select_columns


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


def reconciliation_totals(lines: QuerySet[ReconciliationLine]) -> dict[str, Decimal]:
    totals = lines.order_by().aggregate(partner=Sum("partner_amount"), portal=Sum("portal_amount"))
    partner, portal = totals["partner"] or Decimal(0), totals["portal"] or Decimal(0)
    return {"partner": partner, "portal": portal, "difference": partner - portal}


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
        F("earning__earning_id"),
    )
    rows = lines.order_by("kind", "row_number", "id")
    return copy_csv(*select_columns(rows, dict(zip(CSV_COLUMNS, expressions, strict=True))))
