"""Price list import of a 100,000-row file beside a raw COPY of the same file.

    python bench/commerce_price_list.py [--rows 100000] [--rounds 3] [--quick]  (quick: 20,000 rows, 1 round)

1. Data: a license-based price list of one market (US, USD) in the real column layout of
   spec/commerce.md §4.1, generated in memory: products × SKUs × term/billing plan × segment,
   about 270 bytes a row (27 MB for 100,000 rows, so the upload limit is raised for this process).
2. The import, in-process and without a worker, the way the admin's upload runs it:
   `price_list_clean` (read_table + every check), `price_list_import_start` (the PriceList, the
   JobRun and the staged copy; its Celery call is suppressed) and `price_list_import_run` (COPY
   chunk by chunk with the JobChunk markers, the catalog upsert, the list marked ready).
3. The reference, in the same run: one `COPY … FROM STDIN (FORMAT csv, HEADER)` of the same bytes
   into a scratch table with the same columns, built `LIKE commerce_pricelistrow INCLUDING ALL`
   (same types, defaults, NOT NULL and check constraints and the same indexes, so the reference
   pays the same index upkeep the real table does). The COPY into a bare heap of the file's 19
   columns (no index, no constraint) is printed as well, as an info line.

Each round imports, copies into both scratch tables, then deletes the list (and VACUUMs) so the
next round starts from the same state; one warm-up round is not counted; the figure is the median.
"""

from __future__ import annotations

import csv
import io
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

LIKE_TABLE = "bench_price_list_copy_like"
HEAP_TABLE = "bench_price_list_copy_heap"
# Term / billing plan pairs a SKU is sold with, and the segments each is priced for.
PLANS = [("P1Y", "Annual"), ("P1Y", "Monthly"), ("P1M", "Monthly"), ("P3Y", "Triennial"), ("P3Y", "Annual")]
SEGMENTS = ["Commercial", "Education", "Government", "Charity"]
SKUS_PER_PRODUCT = 5


def configure(parser) -> None:
    parser.add_argument("--rounds", type=int, help="measured rounds after one warm-up (3; 1 with --quick)")


# --- Data -----------------------------------------------------------------------------------------


def price_list_csv(rows: int) -> bytes:
    """`rows` rows of a US price list in the file's column layout, deterministic."""
    from commerce.pricing.columns import PRICE_LIST_COLUMNS  # noqa: PLC0415 - after Django is set up

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PRICE_LIST_COLUMNS)
    written = 0
    product = 0
    while written < rows:
        product_id = f"CFQ7TTC{product:05d}"
        title = f"Microsoft 365 Suite {product}"
        for sku in range(1, SKUS_PER_PRODUCT + 1):
            sku_title = f"{title} Plan {sku}"
            description = (
                f"Productivity, security and compliance plan {sku}, with a comma, for suite {product}"
            )
            for number, (term, plan) in enumerate(PLANS):
                for segment_number, segment in enumerate(SEGMENTS):
                    if written == rows:
                        break
                    cents = 300 + (product * 37 + sku * 11 + number * 5 + segment_number) % 90000
                    price = cents * (36 if term == "P3Y" else 12 if term == "P1Y" else 1.2) / 100
                    # Some rows carry the preview's later start, some a tiered government price.
                    start = "2025-05-01T00:00:00Z" if (product + sku) % 17 == 0 else "2025-04-01T00:00:00Z"
                    tiered = segment == "Government" and sku == 1
                    writer.writerow(
                        [
                            title,
                            product_id,
                            f"{sku:04d}",
                            sku_title,
                            "Microsoft Corporation",
                            description,
                            "",
                            term,
                            plan,
                            "US",
                            "USD",
                            f"{price:.2f}",
                            "1" if tiered else "",
                            "2400" if tiered else "",
                            start,
                            "9999-11-30T23:59:59Z",
                            "License",
                            f"{price * 1.1:.2f}",
                            segment,
                        ]
                    )
                    written += 1
        product += 1
    return buffer.getvalue().encode()


# --- The two measurements -------------------------------------------------------------------------


def run_import(content: bytes, actor) -> dict[str, float]:
    """The import as the admin upload runs it, in this process; returns phase timings."""
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    from commerce import tasks  # noqa: PLC0415
    from commerce.models import PriceList  # noqa: PLC0415
    from commerce.pricing.validation import price_list_clean  # noqa: PLC0415
    from commerce.services.price_lists import price_list_import_run, price_list_import_start  # noqa: PLC0415

    upload = SimpleUploadedFile("price_list_us.csv", content, content_type="text/csv")
    started = time.perf_counter()
    table = price_list_clean(upload=upload)
    checked = time.perf_counter()
    # No worker: the job is run right here instead of through the broker.
    with mock.patch.object(tasks.price_list_import_task, "delay"):
        price_list = price_list_import_start(actor=actor, upload=upload, is_preview=False, table=table)
    staged = time.perf_counter()
    price_list_import_run(job_id=price_list.job_id)
    finished = time.perf_counter()
    price_list.refresh_from_db()
    if price_list.status != "ready" or price_list.row_count != table.row_count:
        raise SystemExit(f"import ended {price_list.status} with {price_list.row_count} rows")
    PriceList.objects.filter(pk=price_list.pk).delete()
    return {
        "total": finished - started,
        "check": checked - started,
        "stage": staged - checked,
        "run": finished - staged,
        "raw": float(table.raw_csv is not None),
    }


def prepare_scratch_tables() -> None:
    from django.db import connection  # noqa: PLC0415

    from commerce.models import PriceListRow  # noqa: PLC0415

    table = PriceListRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LIKE_TABLE}, {HEAP_TABLE}")
        cursor.execute(f"CREATE TABLE {LIKE_TABLE} (LIKE {table} INCLUDING ALL)")
        # The file has no price list column; every copied row belongs to "list 0".
        cursor.execute(f"ALTER TABLE {LIKE_TABLE} ALTER COLUMN price_list_id SET DEFAULT 0")
        cursor.execute(
            f"""
            CREATE TABLE {HEAP_TABLE} (
                product_title varchar(200), product_id varchar(12), sku_id varchar(4),
                sku_title varchar(200), publisher varchar(200), sku_description text,
                unit_of_measure varchar(50), term_duration varchar(3), billing_plan varchar(10),
                market varchar(2), currency varchar(3), unit_price numeric(18, 6),
                pricing_tier_range_min integer, pricing_tier_range_max integer,
                effective_start_date timestamptz, effective_end_date timestamptz, tags varchar(200),
                erp_price numeric(18, 6), segment varchar(12)
            )
            """
        )


def raw_copy(content: bytes, table: str) -> float:
    """One COPY of the file's bytes into `table`, emptied first; returns seconds."""
    from django.db import connection, transaction  # noqa: PLC0415

    from commerce.pricing.columns import COLUMN_FIELDS  # noqa: PLC0415
    from commerce.pricing.staging import _copy_statement  # noqa: PLC0415

    statement = _copy_statement(list(COLUMN_FIELDS.values()), table=table, header=True)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(content)
    return time.perf_counter() - started


def run_round(content: bytes, actor) -> dict[str, float]:
    measured = run_import(content, actor)
    measured["copy"] = raw_copy(content, LIKE_TABLE)
    measured["heap"] = raw_copy(content, HEAP_TABLE)
    reset_after_round()
    return measured


def drop_scratch_tables() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LIKE_TABLE}, {HEAP_TABLE}")


def reset_after_round() -> None:
    from django.db import connection  # noqa: PLC0415

    from commerce.models import PriceListRow  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {PriceListRow._meta.db_table}")
        cursor.execute(f"TRUNCATE {LIKE_TABLE}, {HEAP_TABLE}")


def vendor_staff():
    from accounts.models import User  # noqa: PLC0415

    email = "bench-vendor-staff@bench.example"
    user = User.objects.filter(email=email).first()
    return user or User.objects.create_user(email, None, organization=None, is_staff=True)


def main() -> None:
    args = _common.parse_args(
        __doc__.splitlines()[0], default_rows=100_000, quick_rows=20_000, configure=configure
    )
    rounds = args.rounds or (1 if args.quick else 3)
    started = time.perf_counter()
    # A 100,000-row price list is ~27 MB: above the default upload limit of 20 MB.
    _common.setup_django({"DB_POOL_DISABLED": "1"})
    from commerce.models import PriceList  # noqa: PLC0415

    PriceList.objects.filter(source_file="price_list_us.csv", market="US").delete()
    content = price_list_csv(args.rows)
    actor = vendor_staff()
    prepare_scratch_tables()
    info(f"file ready in {time.perf_counter() - started:.1f}s: {args.rows} rows, {len(content) / 1e6:.1f} MB")

    runs: list[dict[str, float]] = []
    try:
        for round_number in range(rounds + 1):
            measured = run_round(content, actor)
            label = "warm-up" if round_number == 0 else f"round {round_number}"
            info(
                f"{label}: import {measured['total']:.2f}s (check {measured['check']:.2f}s, "
                f"stage {measured['stage']:.2f}s, job {measured['run']:.2f}s"
                f"{', file copied as is' if measured['raw'] else ''}); COPY same columns and "
                f"indexes {measured['copy']:.2f}s; COPY bare heap {measured['heap']:.2f}s"
            )
            if round_number:
                runs.append(measured)
    finally:
        drop_scratch_tables()

    value = statistics.median(run["total"] for run in runs)
    reference = statistics.median(run["copy"] for run in runs)
    heap = statistics.median(run["heap"] for run in runs)
    info(f"median of {rounds}; against the bare-heap COPY ({heap:.2f}s) the ratio is {value / heap:.2f}")
    info(f"total {time.perf_counter() - started:.0f}s")
    bench_line("price_list_import", value, "s", reference, "s", value / reference, "<=", 3)


if __name__ == "__main__":
    main()
