"""Batch migration of legacy subscriptions to new commerce beside a hand-written SQL migration.

    python bench/commerce_migration.py [--rows 100000] [--quick]

1. Data, set-based: the demo catalog and price lists (commerce.demo), one organization with
   `--rows` eligible legacy subscriptions (Business Basic, Business Premium and E3; four per
   customer, customers in US/GB/DE/FR) built with INSERT … SELECT over generate_series and kept
   between runs.
2. The service path, timed: a batch of every subscription (commerce.services.migration_batch_create)
   run in this process by `migration_batch_run` on its JobRun — no worker. Per chunk it locks the
   rows, validates them with a fixed number of queries, bulk-creates the new-commerce
   subscriptions, migrations and history events, and cancels the legacy rows in one UPDATE.
3. The data is reset (migrations, new-commerce subscriptions and jobs deleted; legacy rows active
   again; VACUUM ANALYZE; history is append-only and stays), then the reference, timed: one
   transaction of hand-written SQL doing the same writes for the same rows — INSERT … SELECT into
   the new-commerce subscriptions (catalog item, availability and current price joined in: the
   price Partner Center's rule gives, as `commerce.pricing.lookup.choose` — of the newest list with
   the key, the row whose tier holds the seats and whose range ends first),
   INSERT … SELECT of the Completed migrations, UPDATE of the legacy rows, and their two history
   events each (the same notes) selected in SQL and appended to the organization's hash chain by
   `portal.history.history_record_many`, as every history writer must.
   Both results are compared (per-subscription fingerprint of catalog item, price, term, seats).

Prints `BENCH commerce_migration value=<service>s reference=<sql>s ratio=<service/sql> target=<=2`.

4. Microsoft's NCE Batch Migration tool (BAM) file of the same subscriptions: written by the
   eligible-subscriptions export (`commerce.bam_files.eligible_rows`, the tool's subscriptions.csv
   layout; its time is printed), then imported as a partner uploads it: the pipeline's job
   (`portal.imports.import_run` on `commerce.bam.BAM_IMPORTER`, in this process, the batch's
   migration job run inline when the import commits) reads, checks and stages every row, checks
   ownership in SQL, assesses every row with the eligibility engine, creates the batch and migrates
   it. Timed until the subscriptions are migrated (the result file, written after, is printed apart).
   Reference: the hand-written SQL of step 3 reading its rows and seat counts from the same file,
   COPYed into a table first. `BENCH commerce_migration:bam` (target ≤ 2).
   Validation alone — read, check, stage, SQL checks, assessment: the job's own phase timings —
   beside a raw COPY of the file into a table of its columns: `BENCH commerce_migration:bam_validation`
   (target ≤ 3).

The data is left reset, so the next run starts from the same state.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

ORGANIZATION = ("9900200", "Bench Migration Partner GmbH")
SUBSCRIPTIONS_PER_CUSTOMER = 4
TARGET = 2.0


def _tables() -> dict[str, str]:
    from accounts.models import Customer  # noqa: PLC0415 - needs Django set up
    from commerce.models import (  # noqa: PLC0415
        Availability,
        LegacyOffer,
        LegacySubscription,
        Migration,
        NceSubscription,
        PriceList,
        PriceListRow,
        Sku,
    )
    from portal.models import HistoryEvent  # noqa: PLC0415

    models = {
        "customer": Customer,
        "legacy": LegacySubscription,
        "offer": LegacyOffer,
        "sku": Sku,
        "availability": Availability,
        "price_list": PriceList,
        "price_row": PriceListRow,
        "nce": NceSubscription,
        "migration": Migration,
        "history": HistoryEvent,
    }
    return {name: model._meta.db_table for name, model in models.items()}


# --- Data -----------------------------------------------------------------------------------------


def ensure_data(rows: int):
    """The organization, the catalog and exactly `rows` active legacy subscriptions."""
    from django.db import connection  # noqa: PLC0415

    from accounts.models import Organization  # noqa: PLC0415
    from commerce.demo import commerce_demo_catalog, offer_id_for  # noqa: PLC0415
    from commerce.models import LegacySubscription  # noqa: PLC0415

    commerce_demo_catalog()
    organization, _ = Organization.objects.get_or_create(
        partner_global_id=ORGANIZATION[0],
        defaults={"legal_name": ORGANIZATION[1], "country": "DE", "partner_types": ["indirect_reseller"]},
    )
    reset(organization)
    if LegacySubscription.objects.filter(organization=organization).count() == rows:
        return organization, 0
    t = _tables()
    customers = -(-rows // SUBSCRIPTIONS_PER_CUSTOMER)
    offers = [str(offer_id_for(key)) for key in ("basic", "premium", "e3")]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t['legacy']} WHERE organization_id = %s", [organization.pk])
        cursor.execute(
            f"""
            INSERT INTO {t["customer"]}
                (organization_id, name, domain, tenant_id, country, segment, created_at)
            SELECT %(org)s, 'Migration Customer ' || n, 'migration' || n || '.bench.example',
                   gen_random_uuid(), (ARRAY['US', 'GB', 'DE', 'FR'])[1 + n %% 4], 'commercial', now()
              FROM generate_series(1, %(customers)s) AS n
            ON CONFLICT (organization_id, domain) DO NOTHING
            """,
            {"org": organization.pk, "customers": customers},
        )
        # Four subscriptions per customer on Basic, Premium and E3 (at most two of one offer, a few
        # dozen seats each: well inside Business Premium's pooled 300), renewing over ten months.
        cursor.execute(
            f"""
            WITH c AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS i
                  FROM {t["customer"]} WHERE organization_id = %(org)s
            )
            INSERT INTO {t["legacy"]}
                (organization_id, subscription_id, customer_id, offer_id, friendly_name, quantity,
                 term_duration, billing_cycle, term_start, term_end, auto_renew, status, is_trial,
                 parent_id, created_at)
            SELECT %(org)s, gen_random_uuid(), c.id, (%(offers)s::uuid[])[1 + n %% 3], '',
                   1 + n %% 50, 'P1Y', CASE WHEN n %% 3 = 0 THEN 'Annual' ELSE 'Monthly' END,
                   current_date + 30 + n %% 300 - 364, current_date + 30 + n %% 300, true, 'active',
                   false, NULL, now()
              FROM generate_series(0, %(rows)s - 1) AS n
              JOIN c ON c.i = n / {SUBSCRIPTIONS_PER_CUSTOMER}
            """,
            {"org": organization.pk, "offers": offers, "rows": rows},
        )
        written = cursor.rowcount
    vacuum()
    return organization, written


def vacuum() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        for name in ("legacy", "nce", "migration", "history", "customer"):
            cursor.execute(f"VACUUM ANALYZE {_tables()[name]}")


def reset(organization) -> None:
    """Undo every migration of the organization: the legacy rows are active again."""
    from django.db import connection, transaction  # noqa: PLC0415

    from commerce.models import MigrationBatch  # noqa: PLC0415
    from portal.models import JobRun  # noqa: PLC0415

    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t['migration']} WHERE organization_id = %s", [organization.pk])
        cursor.execute(f"DELETE FROM {t['nce']} WHERE organization_id = %s", [organization.pk])
        MigrationBatch.objects.filter(organization=organization).delete()
        JobRun.objects.filter(organization=organization).delete()
        cursor.execute(
            f"UPDATE {t['legacy']} SET status = 'active' WHERE organization_id = %s AND status <> 'active'",
            [organization.pk],
        )


def fingerprint(organization) -> tuple[int, str]:
    """How many subscriptions moved, and a digest of what each became."""
    from django.db import connection  # noqa: PLC0415

    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*),
                   md5(string_agg(concat_ws('|', l.subscription_id, l.status, n.catalog_item_id,
                                            n.unit_price, n.currency, n.term_start, n.term_end,
                                            n.quantity, m.status, m.subscription_end_date),
                                  ',' ORDER BY l.id))
              FROM {t["legacy"]} l
              JOIN {t["nce"]} n ON n.migrated_from_id = l.id
              JOIN {t["migration"]} m ON m.new_commerce_subscription_id = n.id
             WHERE l.organization_id = %s
            """,
            [organization.pk],
        )
        return cursor.fetchone()


# --- The two runs -----------------------------------------------------------------------------------


def run_service(organization) -> tuple[float, dict]:
    from commerce.models import LegacySubscription  # noqa: PLC0415
    from commerce.services import migration_batch_create, migration_batch_run  # noqa: PLC0415
    from portal.models import JobRun  # noqa: PLC0415

    subscriptions = LegacySubscription.objects.filter(organization=organization).order_by("pk")
    ids = subscriptions.values_list("pk", flat=True)
    batch = migration_batch_create(
        actor=None,
        organization=organization,
        rows=[{"id": pk} for pk in ids],
        external_reference_id=f"bench-{uuid.uuid4()}",
        file_name="bench",
    )
    started = time.perf_counter()
    migration_batch_run(job_id=batch.job_id)
    elapsed = time.perf_counter() - started
    return elapsed, JobRun.objects.get(pk=batch.job_id).result


REFERENCE_SQL = """
WITH current_row AS (
    -- The rows `commerce.pricing.lookup.choose` picks from (Partner Center's rule): rows of ready
    -- lists in force at the moment, of the newest list (month, then upload) that has the key.
    SELECT * FROM (
        SELECT pl.market, r.product_id, r.sku_id, r.term_duration, r.billing_plan, r.segment,
               r.unit_price, r.currency, r.pricing_tier_range_min AS tier_min,
               r.pricing_tier_range_max AS tier_max, r.effective_start_date, r.effective_end_date, r.id,
               rank() OVER (PARTITION BY pl.market, r.product_id, r.sku_id, r.term_duration,
                                         r.billing_plan, r.segment
                            ORDER BY pl.effective_month DESC, pl.uploaded_at DESC, pl.id DESC) AS list_rank
          FROM {price_row} r JOIN {price_list} pl ON pl.id = r.price_list_id
         WHERE NOT pl.is_preview AND pl.status = 'ready'
           AND r.effective_start_date <= %(moment)s AND r.effective_end_date > %(moment)s
    ) ranked
     WHERE list_rank = 1
), eligible AS (
    SELECT DISTINCT ON (l.id)
           l.id, l.organization_id, l.customer_id, {quantity} AS quantity, l.term_duration,
           l.billing_cycle, l.term_end, l.auto_renew, a.id AS availability_id,
           s.product_id || ':' || s.sku_id || ':' || a.availability_id AS catalog_item_id,
           p.unit_price, p.currency
      FROM {legacy} l
      JOIN {customer} c ON c.id = l.customer_id
      JOIN {offer} o ON o.offer_id = l.offer_id
      JOIN {sku} s ON s.id = o.equivalent_sku_id
      JOIN {availability} a ON a.sku_id = s.id AND a.term_duration = l.term_duration
                           AND a.segment = initcap(c.segment) AND c.country = ANY (a.markets)
                           AND l.billing_cycle = ANY (a.billing_plans)
      JOIN current_row p ON p.market = c.country AND p.product_id = s.product_id
                        AND p.sku_id = s.sku_id AND p.term_duration = l.term_duration
                        AND p.billing_plan = l.billing_cycle AND p.segment = a.segment
                        -- The tier holding the seats (a blank bound is open).
                        AND (p.tier_min IS NULL OR p.tier_min <= {quantity})
                        AND (p.tier_max IS NULL OR {quantity} <= p.tier_max)
     WHERE l.organization_id = %(org)s AND l.status = 'active' AND NOT l.is_trial
       AND l.parent_id IS NULL AND l.term_end >= %(on)s
       AND NOT EXISTS (SELECT 1 FROM {migration} m WHERE m.current_subscription_id = l.id
                          AND m.status IN ('Validating', 'Processing', 'Completed'))
     -- Of the rows whose tier holds the seats (Microsoft's files overlap), the one whose range
     -- ends first, then the later start.
     ORDER BY l.id, p.effective_end_date, p.effective_start_date DESC, coalesce(p.tier_min, 0), p.id
)
INSERT INTO {nce}
    (organization_id, subscription_id, order_id, customer_id, availability_id, catalog_item_id,
     quantity, term_duration, billing_cycle, term_start, term_end, auto_renew,
     cancellation_window_ends_at, status, unit_price, currency, migrated_from_id, created_at)
SELECT organization_id, gen_random_uuid(), gen_random_uuid(), customer_id, availability_id,
       catalog_item_id, quantity, term_duration, billing_cycle, %(on)s, term_end, auto_renew,
       %(now)s + interval '168 hours', 'active', unit_price, currency, id, %(now)s
  FROM eligible;

INSERT INTO {migration}
    (organization_id, migration_id, customer_id, current_subscription_id, status, catalog_item_id,
     term_duration, billing_cycle, purchase_full_term, quantity, external_reference_id, batch_id,
     new_commerce_subscription_id, new_commerce_order_id, subscription_end_date, started_time,
     completed_time, error_code, error_description, initiated_by)
SELECT n.organization_id, gen_random_uuid(), n.customer_id, n.migrated_from_id, 'Completed',
       n.catalog_item_id, n.term_duration, n.billing_cycle, false, n.quantity, %(reference)s, NULL,
       n.id, n.order_id, n.term_end, %(now)s, %(now)s, '', '', 'PARTNER'
  FROM {nce} n WHERE n.organization_id = %(org)s AND n.created_at = %(now)s;

UPDATE {legacy} l SET status = 'cancelled'
  FROM {nce} n
 WHERE n.migrated_from_id = l.id AND n.organization_id = %(org)s AND n.created_at = %(now)s;
"""

REFERENCE_HISTORY_SQL = """
SELECT m.id, step.from_status, step.to_status,
       CASE step.n WHEN 1 THEN 'Eligible; the legacy subscription is suspended while ordering.'
       ELSE 'New commerce subscription ' || n.subscription_id || ' (order ' || n.order_id
            || '); the legacy subscription is cancelled.' END
  FROM {migration} m
  JOIN {nce} n ON n.id = m.new_commerce_subscription_id
 CROSS JOIN (VALUES (1, 'Validating', 'Processing'), (2, 'Processing', 'Completed'))
       AS step (n, from_status, to_status)
 WHERE m.organization_id = %(org)s AND m.external_reference_id = %(reference)s
 ORDER BY m.id, step.n
"""


def run_reference(organization, *, from_file: bool = False) -> float:
    import datetime as dt  # noqa: PLC0415

    from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from commerce.models import Migration  # noqa: PLC0415
    from portal.history import Entry, history_record_many  # noqa: PLC0415

    on = timezone.localdate()
    params = {
        "org": organization.pk,
        "on": on,
        "now": timezone.now(),
        "moment": dt.datetime.combine(on, dt.time.min, tzinfo=dt.UTC),
        "reference": f"bench-{uuid.uuid4()}",
    }
    sql, quantity = REFERENCE_SQL, "l.quantity"
    if from_file:
        sql = sql.replace(
            "FROM {legacy} l\n      JOIN {customer}", BAM_REFERENCE_JOIN + "\n      JOIN {customer}"
        )
        quantity = "f.seat_count::integer"
    statements = [s for s in sql.format(**_tables(), quantity=quantity).split(";\n") if s.strip()]
    content_type = ContentType.objects.get_for_model(Migration)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
        cursor.execute(REFERENCE_HISTORY_SQL.format(**_tables()), params)
        history_record_many(
            [
                Entry(
                    organization_id=organization.pk,
                    content_type=content_type,
                    object_id=str(pk),
                    from_status=before,
                    to_status=after,
                    note=note,
                )
                for pk, before, after, note in cursor.fetchall()
            ],
            actor=None,
            at=params["now"],
        )
    return time.perf_counter() - started


# --- The BAM file --------------------------------------------------------------------------------------

BAM_TABLE = "bench_bam_file"
TARGET_BAM = 2.0
TARGET_BAM_VALIDATION = 3.0
#: The pipeline's phases that only check the file (the rest write: load, outcomes, result file).
VALIDATION_PHASES = ("read", "check", "stage", "rules", "assess")


def write_bam_file(organization, path: Path) -> float:
    """The organization's subscriptions as the tool's subscriptions.csv; seconds taken."""
    from django.utils import timezone  # noqa: PLC0415

    from commerce.bam_files import eligible_rows, file_lines  # noqa: PLC0415
    from commerce.models import LegacySubscription  # noqa: PLC0415

    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as target:
        for line in file_lines(
            eligible_rows(
                LegacySubscription.objects.filter(organization=organization), on=timezone.localdate()
            )
        ):
            target.write(line)
    return time.perf_counter() - started


def run_bam(organization, path: Path) -> tuple[float, float, dict]:
    """The file through the pipeline as an upload's job, its batch migrated inline when the import
    commits; seconds until migrated, seconds of validation alone, and the job's result."""
    from django.core.files import File  # noqa: PLC0415
    from django.core.files.storage import default_storage  # noqa: PLC0415

    from commerce.bam import BAM_IMPORTER  # noqa: PLC0415
    from commerce.bam_files import rows_file_path  # noqa: PLC0415
    from portal.celery import app as celery_app  # noqa: PLC0415
    from portal.imports import import_run  # noqa: PLC0415
    from portal.imports.reader import open_table  # noqa: PLC0415
    from portal.jobs import job_create  # noqa: PLC0415

    with path.open("rb") as source:
        with open_table(source) as table:
            header = table.header
        source.seek(0)
        staged = default_storage.save(f"imports/staged/bench-bam-{uuid.uuid4()}.csv", File(source))
    job = job_create(
        kind=BAM_IMPORTER.kind,
        organization_id=organization.pk,
        parameters={
            "external_reference_id": f"bench-bam-{uuid.uuid4()}",
            "bam_header": header,
            "bam_rows_file": rows_file_path(),
            "layout": BAM_IMPORTER.layout.name,
            "file_name": "subscriptions.csv",
            "staged_file": staged,
            "valid_rows_only": False,
            "unknown_columns": [],
        },
    )
    # The batch's migration job runs inline (no worker), as soon as the import commits its batch.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    try:
        started = time.perf_counter()
        result = import_run(job.pk)
        total = time.perf_counter() - started
    finally:
        celery_app.conf.task_always_eager = False
    if result.get("result_file"):
        default_storage.delete(result["result_file"])
    timings = result.get("timings", {})
    migrated = total - timings.get("result_file", 0)
    validation = sum(timings.get(phase, 0) for phase in VALIDATION_PHASES)
    return migrated, validation, result


def copy_bam_file(path: Path) -> float:
    """Seconds to COPY the file into a table of its columns (text), after TRUNCATE."""
    from django.db import connection, transaction  # noqa: PLC0415

    from commerce.bam_files import REQUEST_V3  # noqa: PLC0415
    from portal.imports.layout import snake_case  # noqa: PLC0415

    columns = ", ".join(f"{snake_case(name)} text" for name in REQUEST_V3)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS {BAM_TABLE} ({columns})")
        cursor.execute(f"TRUNCATE {BAM_TABLE}")
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {BAM_TABLE} FROM STDIN (FORMAT csv, HEADER)") as copy,
        path.open("rb") as source,
    ):
        while block := source.read(1 << 20):
            copy.write(block)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BAM_TABLE}")  # the reference's join needs the row count
    return time.perf_counter() - started


#: Step 3's SQL taking its rows and seat counts from the COPYed file.
BAM_REFERENCE_JOIN = (
    "FROM {legacy} l\n      JOIN " + BAM_TABLE + " f ON f.legacy_subscription_id::uuid = l.subscription_id "
    "AND f.migration_eligible = 'True'"
)


def run_bam_reference(organization, path: Path) -> float:
    """COPY the file, then step 3's hand-written SQL over its rows; seconds for both."""
    copied = copy_bam_file(path)
    return copied + run_reference(organization, from_file=True)


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], default_rows=100_000, quick_rows=5_000)
    started = time.perf_counter()
    _common.setup_django()
    organization, written = ensure_data(args.rows)
    info(
        f"data ready in {time.perf_counter() - started:.1f}s: organization {organization.pk} with "
        f"{args.rows} legacy subscriptions ({written} written)"
    )

    from django.conf import settings  # noqa: PLC0415

    service, result = run_service(organization)
    moved, service_print = fingerprint(organization)
    chunk = settings.COMMERCE_MIGRATION_CHUNK_SIZE
    info(f"service: {service:.2f}s for {moved} migrations in chunks of {chunk}: {result}")
    if result.get("completed") != args.rows or moved != args.rows:
        raise SystemExit(f"the service migrated {moved} of {args.rows} subscriptions: {result}")

    reset(organization)
    vacuum()
    reference = run_reference(organization)
    moved, reference_print = fingerprint(organization)
    info(f"reference SQL: {reference:.2f}s for {moved} migrations")
    if moved != args.rows or reference_print != service_print:
        raise SystemExit("the reference SQL and the service disagree on what the subscriptions became")
    info("both runs produced the same new-commerce subscriptions (fingerprint matches)")
    reset(organization)
    vacuum()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "subscriptions.csv")
        exported = write_bam_file(organization, path)
        info(f"BAM file: {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) exported in {exported:.2f}s")
        bam, validation, bam_result = run_bam(organization, path)
        moved, bam_print = fingerprint(organization)
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in bam_result["timings"].items())
        info(f"BAM import: {bam:.2f}s until migrated ({phases}); {moved} migrations")
        if bam_result.get("created") != args.rows or moved != args.rows:
            raise SystemExit(f"the BAM import migrated {moved} of {args.rows} subscriptions: {bam_result}")
        reset(organization)
        vacuum()
        bam_reference = run_bam_reference(organization, path)
        moved, reference_print = fingerprint(organization)
        info(f"BAM reference (COPY + SQL): {bam_reference:.2f}s for {moved} migrations")
        if moved != args.rows or reference_print != bam_print:
            raise SystemExit("the reference SQL and the BAM import disagree on what the subscriptions became")
        reset(organization)
        vacuum()
        copied = copy_bam_file(path)
        info(f"raw COPY of the file: {copied:.2f}s; validation alone: {validation:.2f}s")
        _drop_bam_table()

    bench_line("commerce_migration", service, "s", reference, "s", service / reference, "<=", TARGET)
    bench_line("commerce_migration:bam", bam, "s", bam_reference, "s", bam / bam_reference, "<=", TARGET_BAM)
    bench_line(
        "commerce_migration:bam_validation",
        validation,
        "s",
        copied,
        "s",
        validation / copied,
        "<=",
        TARGET_BAM_VALIDATION,
    )


def _drop_bam_table() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BAM_TABLE}")


if __name__ == "__main__":
    main()
