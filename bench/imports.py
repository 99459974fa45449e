"""The import pipeline (portal.imports) beside a raw COPY of the same file, and its memory at two sizes.

    python bench/imports.py [--rows 1000000] [--quick]

1. The file: `--rows` rows of a layout with one column of each kind the pipeline checks (an id, a
   name, a choice, a country, an amount, an ISO date, a US date as Microsoft's BAM tool writes it,
   a flag, a GUID), written once to a temporary folder, CSV in UTF-8.
2. The reference: `COPY … FROM` the same file into a table shaped like the pipeline's target (same
   columns, types and unique key), in one transaction, after TRUNCATE. The US dates go in as text
   (COPY cannot read them as dates): the reference does strictly less than the pipeline.
3. The pipeline: the same file through `import_run` in a child process — open, header matched,
   read a chunk at a time, every cell checked and normalised, COPY into staging, repeated keys in
   SQL, upsert into the target (TRUNCATEd first, so every row is created) — as a Celery worker runs
   it, timed from the job's start to the moment it is finished (the rows are in and the job says
   so). The result file, which the job writes after that, is timed apart and printed.
4. Memory: the pipeline's peak resident memory (the child's ru_maxrss) at `--rows` beside the same
   at a fifth of it: flat (≤ 1.2x) when only a chunk is ever held.

Prints `BENCH imports:pipeline_vs_copy` (target ≤ 3) and `BENCH imports:peak_memory` (target ≤ 1.2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

TARGET_TABLE = "bench_import_target"
REFERENCE_TABLE = "bench_import_reference"
ORGANIZATION = ("9900020", "Bench Import Partner AG")
HEADER = [
    "Record ID",
    "Customer name",
    "Segment",
    "Country",
    "Amount",
    "Start date",
    "Effective date",
    "Active",
    "Tenant ID",
]
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "JP", "BR", "IN")
SEGMENTS = ("commercial", "education", "government", "nonprofit")
TABLE_COLUMNS = """
    id bigserial PRIMARY KEY,
    organization_id integer NOT NULL,
    record_id text NOT NULL,
    customer_name text NOT NULL,
    segment text NOT NULL,
    country text NOT NULL,
    amount numeric(18, 6),
    start_date date NOT NULL,
    effective_date {effective_type},
    active boolean NOT NULL,
    tenant_id uuid NOT NULL,
    UNIQUE (organization_id, record_id)
"""


def layout():
    """The bench layout: one column of each kind (imported late: needs Django set up)."""
    from portal.imports import BOOLEAN, CHOICE, DATE, DECIMAL, UUID, Column, Layout  # noqa: PLC0415

    return Layout(
        name="bench.rows",
        columns=(
            Column("Record ID", field="record_id", max_length=40),
            Column("Customer name", field="customer_name", max_length=200),
            Column("Segment", kind=CHOICE, choices=SEGMENTS),
            Column("Country", pattern=r"[A-Za-z]{2}", upper=True),
            Column("Amount", kind=DECIMAL, blank=True),
            Column("Start date", kind=DATE, field="start_date"),
            Column("Effective date", kind=DATE, field="effective_date", formats=("%m/%d/%Y",), blank=True),
            Column("Active", kind=BOOLEAN),
            Column("Tenant ID", kind=UUID, field="tenant_id"),
        ),
        key=("Record ID",),
    )


def _load(staging, job):
    staging.upsert(
        table=TARGET_TABLE,
        key=("record_id",),
        columns={
            "record_id": "record_id",
            "customer_name": "customer_name",
            "segment": "segment",
            "country": "country",
            "amount": "amount",
            "start_date": "start_date",
            "effective_date": "effective_date",
            "active": "active",
            "tenant_id": "tenant_id",
        },
    )


def register_layout() -> None:
    from portal.imports import Importer, register  # noqa: PLC0415

    register(Importer(layout=layout(), load=_load))


# --- Data -------------------------------------------------------------------------------------------


def write_file(path: Path, rows: int) -> None:
    """`rows` rows, set-based in PostgreSQL (COPY TO), so building the file is quick at any size."""
    from django.db import connection  # noqa: PLC0415

    select = f"""
        SELECT 'R' || lpad(n::text, 9, '0'), 'Customer ' || n, (ARRAY{list(SEGMENTS)})[1 + n % 4],
               (ARRAY{list(COUNTRIES)})[1 + n % 8], round((n % 100000) / 7.0, 2),
               to_char(date '2024-01-01' + (n % 700), 'YYYY-MM-DD'),
               to_char(date '2024-03-01' + (n % 500), 'MM/DD/YYYY'),
               CASE WHEN n % 3 = 0 THEN 'false' ELSE 'true' END,
               md5(n::text)::uuid
        FROM generate_series(1, {rows}) AS n
    """
    with connection.cursor() as cursor, path.open("wb") as target:
        target.write((",".join(f'"{name}"' for name in HEADER) + "\n").encode())
        with cursor.cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                target.write(block)


def ensure_tables() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        for table, effective in ((TARGET_TABLE, "date"), (REFERENCE_TABLE, "text")):
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ({TABLE_COLUMNS.format(effective_type=effective)})"
            )


def truncate(table: str) -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")


# --- Measurements -----------------------------------------------------------------------------------


def raw_copy(path: Path, organization_id: int) -> float:
    """Seconds to COPY the file into the reference table (same columns, types and unique key)."""
    from django.db import connection, transaction  # noqa: PLC0415

    truncate(REFERENCE_TABLE)
    columns = (
        "record_id, customer_name, segment, country, amount, start_date, effective_date, active, tenant_id"
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {REFERENCE_TABLE} ALTER organization_id SET DEFAULT {int(organization_id)}"
        )
        with (
            cursor.cursor.copy(f"COPY {REFERENCE_TABLE} ({columns}) FROM STDIN (FORMAT csv, HEADER)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
    return time.perf_counter() - started


def pipeline_in_child(path: Path, env: dict[str, str]) -> dict:
    """Run the pipeline on `path` in a fresh process; its seconds, peak memory and result."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def child(path: str) -> None:
    """The child: one import job of the file, as the worker runs it; prints a JSON line."""
    import resource  # noqa: PLC0415

    _common.setup_django(migrate=False)
    from django.core.files import File  # noqa: PLC0415
    from django.core.files.storage import default_storage  # noqa: PLC0415

    from accounts.models import Organization  # noqa: PLC0415
    from portal.imports import import_run  # noqa: PLC0415
    from portal.jobs import job_create  # noqa: PLC0415

    register_layout()
    organization = Organization.objects.get(partner_global_id=ORGANIZATION[0])
    truncate(TARGET_TABLE)
    with open(path, "rb") as source:
        staged = default_storage.save(f"imports/staged/bench-{os.getpid()}.csv", File(source))
    job = job_create(
        kind="import:bench.rows",
        organization_id=organization.pk,
        parameters={"layout": "bench.rows", "file_name": "bench.csv", "staged_file": staged},
    )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = import_run(job.pk)
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job.refresh_from_db()
    # The import's time is until the rows are in and the job says so; the result file follows.
    seconds = (job.finished_at - job.started_at).total_seconds()
    if result.get("result_file"):
        default_storage.delete(result["result_file"])
    print(
        json.dumps(
            {"seconds": seconds, "total": total, "peak_kb": peak, "baseline_kb": baseline, "result": result},
            default=str,
        )
    )


def main(argv: list[str] | None = None) -> None:
    args = _common.parse_args(
        "The import pipeline beside a raw COPY of the same file.",
        default_rows=1_000_000,
        quick_rows=20_000,
        argv=argv,
    )
    env = _common.setup_django()
    from bench.api_list import ensure_organization  # noqa: PLC0415

    organization = ensure_organization(*ORGANIZATION)
    ensure_tables()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder, "big.csv"), Path(folder, "small.csv")
        small_rows = max(1, args.rows // 5)
        write_file(big, args.rows)
        write_file(small, small_rows)
        info(f"files: {args.rows:,} rows ({big.stat().st_size / 1e6:.0f} MB) and {small_rows:,} rows")
        runs = []
        for attempt in range(2 if args.quick else 3):
            copy_seconds = raw_copy(big, organization.pk)
            outcome = pipeline_in_child(big, env)
            result = outcome["result"]
            if result.get("created") != args.rows:
                raise SystemExit(f"the pipeline did not create every row: {result}")
            runs.append((outcome["seconds"], copy_seconds, outcome["peak_kb"]))
            phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result["timings"].items())
            info(
                f"run {attempt + 1}: pipeline {outcome['seconds']:.1f}s ({phases}; with the result file "
                f"{outcome['total']:.1f}s), raw COPY {copy_seconds:.1f}s, "
                f"peak {outcome['peak_kb'] / 1024:.0f} MB"
            )
        small_outcome = pipeline_in_child(small, env)
        info(
            f"{small_rows:,} rows: pipeline {small_outcome['seconds']:.1f}s, "
            f"peak {small_outcome['peak_kb'] / 1024:.0f} MB"
        )
    truncate(TARGET_TABLE)
    truncate(REFERENCE_TABLE)
    pipeline_seconds = sorted(run[0] for run in runs)[len(runs) // 2]
    copy_seconds = sorted(run[1] for run in runs)[len(runs) // 2]
    peak_big = max(run[2] for run in runs)
    info(f"total {time.perf_counter() - started:.0f}s")
    bench_line(
        "imports:pipeline_vs_copy",
        pipeline_seconds,
        "s",
        copy_seconds,
        "s",
        pipeline_seconds / copy_seconds,
        "<=",
        3,
    )
    bench_line(
        "imports:peak_memory",
        peak_big / 1024,
        "MB",
        small_outcome["peak_kb"] / 1024,
        "MB",
        peak_big / small_outcome["peak_kb"],
        "<=",
        1.2,
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
