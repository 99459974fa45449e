"""Importing a price list through the one import pipeline (portal.imports).

`price_list_import_start` (in the request) checks the file's type, size and header and queues the
pipeline's job; the job checks every row against `commerce.pricing.layout.PRICE_LIST`, stages the
file and, unless a problem rejects it, calls `_load` in one transaction: the list (its market,
currency and month from its rows), its rows in one INSERT … SELECT from the staged table, then the
list's products and SKUs into the catalog, set-based.

One list per market, month and kind (current or preview):
* the very same file (its SHA-256) imported again is the list already there, reported "unchanged",
  not a second list — also when a worker lost after the rows were written runs the job again;
* another file is a correction: it becomes the month's list and the list it replaces is marked
  superseded (`PriceListStatus.SUPERSEDED`, `replaced_by`), in the same transaction, so the price
  look-ups never see two lists or none. The price list pages show what the correction changed.
  Importing a replaced (older) file again is a correction too: it does not bring the old list row
  back silently, it makes a new list of its rows that replaces the current one, and the job's
  result names the list it replaced.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from commerce.choices import BillingCycle, PriceListStatus
from commerce.models import PriceList, PriceListRow, Product, Sku
from commerce.pricing.dates import OPEN_YEARS
from commerce.pricing.layout import PRICE_LIST, sku_id_sql
from commerce.services.notices import price_list_published_notify
from portal.audit import audit_record
from portal.imports import Importer, Staging, import_start, register
from portal.imports.staging import CREATED, UNCHANGED
from portal.jobs import JobRun
from portal.locks import advisory_lock
from portal.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS

__all__ = ("PRICE_LIST_IMPORTER", "price_list_import_start")

_AMOUNT = f"numeric({AMOUNT_MAX_DIGITS}, {AMOUNT_DECIMAL_PLACES})"
# Each PriceListRow field as SQL over the staged row `s` (a valid one: its cells are normalised).
_ROW_SQL = {
    "product_title": "s.product_title",
    "product_id": "s.product_id",
    "sku_id": sku_id_sql("s"),
    "sku_title": "s.sku_title",
    "publisher": "s.publisher",
    "sku_description": "coalesce(s.sku_description, '')",
    "unit_of_measure": "coalesce(s.unit_of_measure, '')",
    "term_duration": "s.term_duration",
    "billing_plan": "s.billing_plan",
    "market": "s.market",
    "currency": "s.currency",
    "unit_price": f"s.unit_price::{_AMOUNT}",
    "pricing_tier_range_min": "s.pricing_tier_range_min::integer",
    "pricing_tier_range_max": "s.pricing_tier_range_max::integer",
    "effective_start_date": "s.effective_start_date::timestamptz",
    "effective_end_date": "s.effective_end_date::timestamptz",
    "tags": "coalesce(s.tags, '')",
    "erp_price": f"s.erp_price::{_AMOUNT}",
    "segment": "s.segment",
    "end_of_sale_date": "s.end_of_sale_date::timestamptz",
    "change_indicator": "coalesce(s.change_indicator, '')",
}
_ROWS = ", ".join(f"{expression} AS {name}" for name, expression in _ROW_SQL.items())


@transaction.atomic
def price_list_import_start(
    *,
    actor: Any,
    upload: UploadedFile,
    is_preview: bool,
    effective_month: date | None = None,
    valid_rows_only: bool = False,
) -> JobRun:
    """Check the file's type, size and header now and queue its import (CSV, TSV, XLSX or a ZIP
    holding one, such as Microsoft's monthly download); UploadRejected when it cannot be imported.

    `effective_month` (any day of it) names the list's month; by default it is the month of the
    newest EffectiveStartDate in the file, placeholders aside.
    """
    job = import_start(
        PRICE_LIST_IMPORTER,
        upload,
        actor=actor,
        organization_id=None,
        valid_rows_only=valid_rows_only,
        parameters={
            "is_preview": is_preview,
            "effective_month": effective_month.replace(day=1).isoformat() if effective_month else None,
            "content_hash": _file_hash(upload),
        },
        max_bytes=settings.PORTAL_PRICE_LIST_MAX_BYTES,
    )
    audit_record(
        actor=actor,
        action="price_list.import_started",
        organization_id=None,
        target=job,
        changes={
            "file": job.parameters["file_name"],
            "is_preview": is_preview,
            "valid_rows_only": valid_rows_only,
        },
    )
    return job


def _file_hash(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


# --- The loader (in the import job, one transaction) -------------------------------------------------


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    parameters = job.parameters
    is_preview = bool(parameters.get("is_preview"))
    with connection.cursor() as cursor:
        # A date written without an offset is UTC, whatever the server's zone.
        cursor.execute("SET LOCAL timezone = 'UTC'")
        rows, market, currency, newest = _summary(cursor, staging)
    if not rows:  # valid rows only, and none was
        return {"price_list_id": None, "price_list": None}
    month = date.fromisoformat(parameters["effective_month"]) if parameters.get("effective_month") else newest
    digest = parameters["content_hash"]
    # Two imports for the same month take turns, so the second finds (or corrects) the first's.
    advisory_lock("commerce.price_list", market, month, is_preview)
    in_force = list(
        PriceList.objects.filter(
            market=market, effective_month=month, is_preview=is_preview, status=PriceListStatus.READY
        ).order_by("-uploaded_at", "-pk")
    )
    same = next(
        (other for other in in_force if other.content_hash == digest and other.currency == currency), None
    )
    if same is not None:
        # The staged rows keep no outcome: a layout without a key reports them unchanged.
        return {"price_list_id": same.pk, "price_list": UNCHANGED, "price_list_name": same.name}
    kind = "preview price list" if is_preview else "price list"
    price_list = PriceList.objects.create(
        name=f"{market} {kind} {month:%B %Y}",
        market=market,
        currency=currency,
        is_preview=is_preview,
        effective_month=month,
        source_file=parameters.get("file_name", "price-list.csv")[:255],
        status=PriceListStatus.READY,
        row_count=rows,
        content_hash=digest,
        job_id=job.pk,
        uploaded_by_id=job.created_by_id,
    )
    _insert_rows(staging, price_list.pk)
    _catalog_upsert(price_list_id=price_list.pk, update_titles=not is_preview)
    replaced = in_force[0] if in_force else None
    if in_force:
        PriceList.objects.filter(pk__in=[other.pk for other in in_force]).update(
            status=PriceListStatus.SUPERSEDED, replaced_by=price_list
        )
    audit_record(
        actor=job.created_by,
        action="price_list.imported",
        organization_id=None,
        target=price_list,
        changes={
            "file": price_list.source_file,
            "rows": rows,
            "is_preview": is_preview,
            "job": job.pk,
            "replaced": [other.pk for other in in_force],
        },
    )
    # The list is in: every partner organization's pricing viewers hear of it, in this transaction.
    price_list_published_notify(price_list, replaces=replaced)
    result = {
        "created": rows,
        "unchanged": 0,
        "price_list_id": price_list.pk,
        "price_list": CREATED,
        "price_list_name": price_list.name,
    }
    if replaced is not None:
        result |= {
            "replaced_price_list_id": replaced.pk,
            "replaced_price_list_name": replaced.name,
            "note": (
                f"A correction: this file replaces {replaced.name} imported on "
                f"{replaced.uploaded_at:%Y-%m-%d %H:%M} UTC from {replaced.source_file}, which no longer "
                "prices anything."
            ),
        }
    return result


def _summary(cursor: CursorWrapper, staging: Staging) -> tuple[int, str, str, date | None]:
    """The valid rows' count, market, currency (one of each: the layout's checks) and month.

    The month is that of the newest EffectiveStartDate, placeholders (1753, 9999) aside: a current
    list repeats rows that took effect long ago beside the month's new prices, and a preview's new
    prices start in the coming month. Each distinct start is read once.
    """
    placeholder = "|".join(str(year) for year in OPEN_YEARS)
    cursor.execute(
        f"""
        SELECT coalesce(sum(n), 0)::integer, min(market), min(currency),
               date_trunc('month', coalesce(max(start) FILTER (WHERE NOT placeholder), max(start)))::date
          FROM (SELECT effective_start_date::timestamptz AS start, n, market, currency,
                       effective_start_date ~ '^({placeholder})-' AS placeholder
                  FROM (SELECT effective_start_date, count(*) AS n, min(market) AS market,
                               min(currency) AS currency
                          FROM {_table(staging)} WHERE errors IS NULL GROUP BY effective_start_date) d
               ) starts
        """
    )
    return cursor.fetchone()


def _insert_rows(staging: Staging, price_list_id: int) -> None:
    """The valid staged rows into the list, in one statement."""
    names = ", ".join(_ROW_SQL)
    statement = f"""
        INSERT INTO {PriceListRow._meta.db_table} (price_list_id, {names})
        SELECT %(list)s, {_ROWS} FROM {_table(staging)} s WHERE s.errors IS NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, {"list": price_list_id})


def _mark_created(job: JobRun, result: dict[str, Any]) -> None:
    """Each row the new list took, marked created for the result file, which the pipeline writes
    once the job is done. The loader does not rewrite the staged rows (it gives the counts): a
    layout without a key would report them unchanged."""
    if result.get("price_list") != CREATED:
        return
    staging = Staging(layout=PRICE_LIST, job_id=job.pk, organization_id=None)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table(staging)} SET outcome = %s WHERE errors IS NULL", [CREATED])


def _table(staging: Staging) -> str:
    with connection.cursor() as cursor:
        return staging.identifier.as_string(cursor.cursor)


def _catalog_upsert(*, price_list_id: int, update_titles: bool) -> None:
    """Products and SKUs of the list into the catalog, set-based.

    A current list refreshes titles and descriptions; a preview only adds what is missing, so next
    month's names don't show before they apply.
    """
    product_conflict = (
        "DO UPDATE SET title = EXCLUDED.title, publisher = EXCLUDED.publisher "
        "WHERE (p.title, p.publisher) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.publisher)"
        if update_titles
        else "DO NOTHING"
    )
    sku_conflict = (
        "DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description "
        "WHERE (s.title, s.description) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.description)"
        if update_titles
        else "DO NOTHING"
    )
    rows, products, skus = PriceListRow._meta.db_table, Product._meta.db_table, Sku._meta.db_table
    with connection.cursor() as cursor:
        # One pass over the list's rows feeds both tables; a sort of 100,000 rows fits in memory.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            f"""
            WITH listed AS (
                SELECT DISTINCT ON (product_id, sku_id)
                       product_id, sku_id, product_title, publisher, sku_title, sku_description,
                       billing_plan = %(trial)s AS is_trial, effective_start_date AS newest
                  FROM {rows} WHERE price_list_id = %(list)s
                 ORDER BY product_id, sku_id, effective_start_date DESC
            ), added_products AS (
                INSERT INTO {products} AS p (product_id, title, publisher)
                SELECT DISTINCT ON (product_id) product_id, product_title, publisher
                  FROM listed ORDER BY product_id, newest DESC
                ON CONFLICT (product_id) {product_conflict}
            )
            INSERT INTO {skus} AS s (product_id, sku_id, title, description, min_licenses, max_licenses,
                                     is_trial, is_addon)
            SELECT product_id, sku_id, sku_title, sku_description, 1, 10000, is_trial, false FROM listed
            ON CONFLICT (product_id, sku_id) {sku_conflict}
            """,
            {"trial": BillingCycle.NONE.value, "list": price_list_id},
        )


PRICE_LIST_IMPORTER = register(Importer(layout=PRICE_LIST, load=_load, after=_mark_created))
