"""Price list import of a 100,000-row file through the import pipeline beside a raw COPY of the same file.

    python bench/commerce_price_list.py [--rows 100000] [--rounds 3] [--quick]  (quick: 20,000 rows, 1 round)

1. Data: a license-based price list of one market (US, USD) in the real column layout of
   spec/commerce.md §4.1, generated in memory: products × SKUs × term/billing plan × segment,
   about 270 bytes a row (27 MB for 100,000 rows).
2. The import, in-process and without a worker, the way the admin's upload and the Celery worker
   run it: `price_list_import_start` (the request: type, size and header checked, the file kept,
   the JobRun queued; its Celery call is suppressed), then the pipeline's `import_run` (read a chunk
   at a time, every cell and rule checked, COPY into staging, the SQL checks across rows, the
   loader's summary and identity check, INSERT … SELECT of the rows, catalog upsert), timed from the request's
   start until the job is finished (the rows are in and the job says so). The result file, which
   the job writes after that, is timed apart and printed, as `bench/imports.py` does.
3. The reference, in the same run: one `COPY … FROM STDIN (FORMAT csv, HEADER)` of the same bytes
   into a scratch table with the same columns, built `LIKE commerce_pricelistrow INCLUDING ALL`
   (same types, defaults, NOT NULL and check constraints and the same indexes) plus the real
   table's foreign key to the price lists (LIKE copies none; it is checked row by row at commit),
   so the reference pays what putting these rows into the real table costs, and checks nothing.
   The same COPY without the foreign key and into a bare heap of the file's 19 columns (no index,
   no constraint) are printed as well, as info lines.

Each round imports, copies into the three scratch tables, then deletes the list (and VACUUMs) so the
next round starts from the same state; one warm-up round is not counted; the figure is the median.
Once more at the end, the same file is imported again beside the list it made: reported unchanged,
no second list (an info line).
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
NO_FK_TABLE = "bench_price_list_copy_no_fk"
HEAP_TABLE = "bench_price_list_copy_heap"
SCRATCH_LIST = "bench reference list"
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


def _start(content: bytes, actor):
    """The request's part, with the Celery call suppressed: the job is run right here instead."""
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    from commerce.services.price_lists import price_list_import_start  # noqa: PLC0415
    from portal import tasks  # noqa: PLC0415

    upload = SimpleUploadedFile("price_list_us.csv", content, content_type="text/csv")
    with mock.patch.object(tasks.import_task, "delay"):
        return price_list_import_start(actor=actor, upload=upload, is_preview=False)


def run_import(content: bytes, actor, rows: int) -> dict[str, float]:
    """The import as the admin upload and the worker run it, in this process; returns timings."""
    from commerce.models import PriceList  # noqa: PLC0415
    from portal.imports import import_run  # noqa: PLC0415

    started = time.time()
    job = _start(content, actor)
    requested = time.time()
    result = import_run(job.pk)
    ended = time.time()
    job.refresh_from_db()
    if result.get("price_list") != "created" or result.get("created") != rows:
        raise SystemExit(f"the import did not create the list: {job.errors[:3] or result}")
    price_list = PriceList.objects.get(pk=result["price_list_id"])
    if price_list.row_count != rows or price_list.rows.count() != rows:
        raise SystemExit(f"the list holds {price_list.rows.count()} rows, not {rows}")
    finished = job.finished_at.timestamp()
    measured = {
        "total": finished - started,
        "request": requested - started,
        "result_file": ended - finished,
        **{f"phase:{name}": seconds for name, seconds in result["timings"].items()},
    }
    _delete_result(result)
    return measured


def run_same_file_again(content: bytes, actor, rows: int) -> float:
    """The same file imported twice: the second import finds the first's list (unchanged)."""
    from commerce.models import PriceList  # noqa: PLC0415
    from portal.imports import import_run  # noqa: PLC0415

    first = import_run(_start(content, actor).pk)
    started = time.time()
    again = import_run(_start(content, actor).pk)
    seconds = time.time() - started
    if (again.get("price_list"), again.get("price_list_id"), again.get("unchanged")) != (
        "unchanged",
        first["price_list_id"],
        rows,
    ):
        raise SystemExit(f"the same file again was not found unchanged: {again}")
    if PriceList.objects.filter(source_file="price_list_us.csv", market="US").count() != 1:
        raise SystemExit("the same file again made a second list")
    for result in (first, again):
        _delete_result(result)
    PriceList.objects.filter(pk=first["price_list_id"]).delete()
    reset_after_round()
    return seconds


def _delete_result(result: dict) -> None:
    from django.core.files.storage import default_storage  # noqa: PLC0415

    if result.get("result_file"):
        default_storage.delete(result["result_file"])


def prepare_scratch_tables() -> None:
    from django.db import connection  # noqa: PLC0415

    from commerce.models import PriceList, PriceListRow  # noqa: PLC0415

    table = PriceListRow._meta.db_table
    drop_scratch_tables()
    # The file has no price list column: every copied row belongs to a scratch list.
    scratch = PriceList.objects.create(
        name=SCRATCH_LIST, market="US", currency="USD", effective_month="2025-04-01", source_file="bench"
    )
    with connection.cursor() as cursor:
        for scratch_table in (LIKE_TABLE, NO_FK_TABLE):
            cursor.execute(f"CREATE TABLE {scratch_table} (LIKE {table} INCLUDING ALL)")
            cursor.execute(f"ALTER TABLE {scratch_table} ALTER COLUMN price_list_id SET DEFAULT {scratch.pk}")
        # LIKE copies no foreign key; the real table's is checked at commit, row by row.
        cursor.execute(
            f"ALTER TABLE {LIKE_TABLE} ADD FOREIGN KEY (price_list_id) REFERENCES "
            f"{PriceList._meta.db_table} (id) DEFERRABLE INITIALLY DEFERRED"
        )
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


def _copy_statement(table: str) -> str:
    """COPY … FROM STDIN of the file's 19 columns: empty text is '', other empty cells NULL."""
    from commerce.pricing.columns import _TEXT_FIELDS, COLUMN_FIELDS  # noqa: PLC0415

    fields = list(COLUMN_FIELDS.values())
    text = ", ".join(name for name in fields if name in _TEXT_FIELDS)
    nullable = ", ".join(name for name in fields if name not in _TEXT_FIELDS)
    return (
        f"COPY {table} ({', '.join(fields)}) FROM STDIN WITH (FORMAT csv, HEADER true, "
        f"FORCE_NOT_NULL ({text}), FORCE_NULL ({nullable}))"
    )


def raw_copy(content: bytes, table: str) -> float:
    """One COPY of the file's bytes into `table`, emptied first; returns seconds."""
    from django.db import connection, transaction  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(_copy_statement(table)) as copy,
    ):
        copy.write(content)
    return time.perf_counter() - started


def run_round(content: bytes, actor, rows: int) -> dict[str, float]:
    measured = run_import(content, actor, rows)
    measured["copy"] = raw_copy(content, LIKE_TABLE)
    measured["no_fk"] = raw_copy(content, NO_FK_TABLE)
    measured["heap"] = raw_copy(content, HEAP_TABLE)
    from commerce.models import PriceList  # noqa: PLC0415

    PriceList.objects.filter(source_file="price_list_us.csv", market="US").delete()
    reset_after_round()
    return measured


def drop_scratch_tables() -> None:
    from django.db import connection  # noqa: PLC0415

    from commerce.models import PriceList  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LIKE_TABLE}, {NO_FK_TABLE}, {HEAP_TABLE}")
    PriceList.objects.filter(name=SCRATCH_LIST).delete()


def reset_after_round() -> None:
    from django.db import connection  # noqa: PLC0415

    from commerce.models import PriceListRow  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {PriceListRow._meta.db_table}")
        cursor.execute(f"TRUNCATE {LIKE_TABLE}, {NO_FK_TABLE}, {HEAP_TABLE}")


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
    # The price list's own upload limit (PORTAL_PRICE_LIST_MAX_MB, 200 MB) takes the ~27 MB file.
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
            measured = run_round(content, actor, args.rows)
            label = "warm-up" if round_number == 0 else f"round {round_number}"
            phases = ", ".join(
                f"{name.removeprefix('phase:')} {seconds:.2f}s"
                for name, seconds in measured.items()
                if name.startswith("phase:") and name != "phase:result_file"
            )
            info(
                f"{label}: import {measured['total']:.2f}s (request {measured['request']:.2f}s; "
                f"job: {phases}; then the result file {measured['result_file']:.2f}s); COPY same columns, "
                f"indexes and foreign key {measured['copy']:.2f}s (without the foreign key "
                f"{measured['no_fk']:.2f}s); COPY bare heap {measured['heap']:.2f}s"
            )
            if round_number:
                runs.append(measured)
        again = run_same_file_again(content, actor, args.rows)
        info(f"the same file again: {again:.2f}s, reported unchanged, no second list")
    finally:
        drop_scratch_tables()

    value = statistics.median(run["total"] for run in runs)
    reference = statistics.median(run["copy"] for run in runs)
    heap = statistics.median(run["heap"] for run in runs)
    no_fk = statistics.median(run["no_fk"] for run in runs)
    info(
        f"median of {rounds}; against the COPY without the foreign key ({no_fk:.2f}s) the ratio is "
        f"{value / no_fk:.2f}, against the bare-heap COPY ({heap:.2f}s) {value / heap:.2f}"
    )
    info(f"total {time.perf_counter() - started:.0f}s")
    bench_line("price_list_import", value, "s", reference, "s", value / reference, "<=", 3)


if __name__ == "__main__":
    main()
