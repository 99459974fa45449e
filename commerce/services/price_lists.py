"""Importing a price list: the web request checks the file, creates the list and its job
(`price_list_import_start`); the worker copies the staged rows into `PriceListRow` chunk by chunk
with PostgreSQL `COPY` (`price_list_import_run`). Each chunk commits with its `JobChunk` marker, so
a replayed chunk is a no-op; then the list's products and SKUs go into the catalog.

Reading and checking the file, and staging its rows, are `commerce.pricing`'s (validation, staging).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from psycopg import sql

from commerce.choices import BillingCycle, PriceListStatus
from commerce.models import PriceList, PriceListRow, Product, Sku
from commerce.pricing.staging import _copy_statement, _stage
from commerce.pricing.validation import PriceListTable, price_list_clean
from portal.audit import audit_record
from portal.jobs import JobRun, job_create, job_finish, job_run_chunks, job_start

__all__ = ("price_list_import_run", "price_list_import_start")

JOB_KIND = "commerce.price_list_import"


@transaction.atomic
def price_list_import_start(
    *,
    actor: Any,
    upload: UploadedFile,
    is_preview: bool,
    effective_month: date | None = None,
    table: PriceListTable | None = None,
) -> PriceList:
    """Check the file, create the list (importing) and its job; the job starts on commit.

    Pass `table` when the file was already checked (`price_list_clean`) to skip checking it again.
    Raises UploadRejected, and then nothing was written.
    """
    table = table or price_list_clean(upload=upload)
    month = (effective_month or table.effective_month()).replace(day=1)
    kind = "preview price list" if is_preview else "price list"
    price_list = PriceList.objects.create(
        name=f"{table.market} {kind} {month:%B %Y}",
        market=table.market,
        currency=table.currency,
        is_preview=is_preview,
        effective_month=month,
        source_file=(table.file_name or "price-list.csv")[:255],
        status=PriceListStatus.IMPORTING,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    staged_file, fields, chunks = _stage(table, price_list.pk)
    job = job_create(
        kind=JOB_KIND,
        parameters={
            "price_list_id": price_list.pk,
            "is_preview": is_preview,
            "staged_file": staged_file,
            "fields": fields,
            "chunks": chunks,
        },
        total=table.row_count,
        actor=actor,
    )
    price_list.job = job
    price_list.save(update_fields=["job"])
    audit_record(
        actor=actor,
        action="price_list.import_started",
        organization_id=None,
        target=price_list,
        changes={"file": price_list.source_file, "rows": table.row_count, "is_preview": is_preview},
    )
    # Imported here to prevent an import cycle: tasks import this module.
    from commerce.tasks import price_list_import_task  # noqa: PLC0415

    transaction.on_commit(lambda: price_list_import_task.delay(job.pk))
    return price_list


def price_list_import_run(*, job_id: int) -> None:
    """Copy the staged rows chunk by chunk, fill the catalog, mark the list ready.

    A chunk committed by an earlier attempt (a worker killed mid-run) is skipped, so the end state
    is the one an uninterrupted run gives.
    """
    job = JobRun.objects.get(pk=job_id)
    price_list_id = job.parameters["price_list_id"]
    job_start(job)
    try:
        job_run_chunks(job, _import_chunks(job))
        with transaction.atomic():
            _catalog_upsert(price_list_id=price_list_id, update_titles=not job.parameters.get("is_preview"))
            row_count = PriceListRow.objects.filter(price_list_id=price_list_id).count()
            PriceList.objects.filter(pk=price_list_id).update(
                status=PriceListStatus.READY, row_count=row_count
            )
            job_finish(job, result={"price_list_id": price_list_id, "rows": row_count})
    except Exception:
        PriceList.objects.filter(pk=price_list_id).update(status=PriceListStatus.FAILED)
        raise
    default_storage.delete(job.parameters["staged_file"])


def _import_chunks(job: JobRun) -> Iterator[tuple[str, int, Callable[[], None]]]:
    parameters = job.parameters
    with default_storage.open(parameters["staged_file"], "rb") as staged:
        data = staged.read()
    statement = _copy_statement(parameters["fields"])
    for number, (start, end, rows) in enumerate(parameters["chunks"]):
        yield f"rows-{number}", rows, _copy_work(statement, data[start:end])


def _copy_work(statement: sql.Composed, payload: bytes) -> Callable[[], None]:
    def work() -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(payload)

    return work


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
