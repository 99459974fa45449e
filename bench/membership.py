"""Capability scores: the nightly score run over N organizations beside hand-written SQL.

Builds, set-based in its own database (`portal_bench_membership`, kept between runs), N partner
organizations with realistic data: 3–42 customers each (a third without an employee count, the
rest split between SMB and Enterprise), 26 months of purchase, usage and refund transactions
across the six solution areas (customers that start, grow, shrink and stop; Virtual Machines
products in the Azure areas; a few rows without a customer), certified people with certifications
of every level (some expired, some earned later), and training deliveries for one in seven.

Then times, best of three each, `score_snapshots_write` (the ScoreSnapshot rows of
`recalculate_capability_scores`: aggregates, points, totals, best track, INSERT … ON CONFLICT)
and one hand-written statement computing the same per organization × designation × track points,
totals, qualification and best track into a temporary table; checks the two agree on every row;
reports `designations_sync` (eligibility and Action Center items) as an info line; and prints

    BENCH membership_scores value=<engine>s reference=<sql>s ratio=<engine/sql> target=<=2 ok=…

    python bench/membership.py [--rows N] [--quick]
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

DATABASE = "portal_bench_membership"
#: The scored day (FY27 rules); transactions run from 26 months before its month to the month itself.
DAY = date(2026, 9, 15)
FIRST_MONTH = date(2024, 7, 1)
MONTHS = 27
TARGET = 2.0
REPEATS = 3
METRICS = (
    "nca",
    "int_cert",
    "adv_cert",
    "usage_growth",
    "deployments",
    "trainers",
    "courses",
    "satisfaction",
)


def _tables() -> dict[str, str]:
    from accounts.models import ActionItem, Customer, Organization, PartnerLocation  # noqa: PLC0415
    from earnings.models import Transaction  # noqa: PLC0415
    from membership.models import (  # noqa: PLC0415
        Certification,
        DesignationEnrollment,
        PersonCertification,
        ScoreMetricDefinition,
        ScoreSnapshot,
        TrainingDelivery,
    )

    models = {
        "organization": Organization,
        "location": PartnerLocation,
        "customer": Customer,
        "transaction": Transaction,
        "certification": Certification,
        "person_certification": PersonCertification,
        "training_delivery": TrainingDelivery,
        "definition": ScoreMetricDefinition,
        "snapshot": ScoreSnapshot,
        "enrollment": DesignationEnrollment,
        "action_item": ActionItem,
    }
    return {name: model._meta.db_table for name, model in models.items()}


# --- Data ------------------------------------------------------------------------------------------

# h(x) = a stable pseudo-random integer in [0, 1000) — the same data on every run.
H = "mod(abs(hashint8({})), 1000)"

DATA_SQL = [
    # Organizations and one headquarters location each.
    """
    INSERT INTO {organization}
        (legal_name, doing_business_as, partner_global_id, country, partner_types, address_line1,
         address_line2, city, state, postal_code, phone, website, company_registration_number, tax_id,
         company_size, primary_contact_first_name, primary_contact_last_name, primary_contact_email,
         primary_contact_phone, created_at)
    SELECT 'Bench Partner ' || n, '', '6' || lpad(n::text, 6, '0'),
           (ARRAY['DE', 'US', 'GB', 'FR', 'NL', 'IN'])[1 + n %% 6], ARRAY['indirect_reseller'],
           '', '', '', '', '', '', '', '', '', '', '', '', '', '', now()
      FROM generate_series(1, %(rows)s) AS n
    """,
    """
    INSERT INTO {location} (organization_id, partner_id, country, name, is_headquarters)
    SELECT id, '5' || substr(partner_global_id, 2), country, legal_name, true FROM {organization}
    """,
    # 3–42 customers per organization; employee count NULL (30 %%), SMB (40 %%) or Enterprise (30 %%).
    """
    INSERT INTO {customer}
        (organization_id, name, domain, tenant_id, country, segment, location_id, employee_count, created_at)
    SELECT o.id, 'Customer ' || o.id || '-' || k, 'c' || o.id || '-' || k || '.bench.example',
           gen_random_uuid(), o.country, 'commercial', NULL,
           CASE WHEN h.v < 300 THEN NULL
                WHEN h.v < 700 THEN 5 + (h.v * 7) %% 296
                ELSE 301 + (h.v * 37) %% 20000 END,
           now()
      FROM {organization} o
     CROSS JOIN LATERAL generate_series(1, 3 + """
    + H.format("o.id * 31")
    + """ %% 40) AS k
     CROSS JOIN LATERAL (SELECT """
    + H.format("o.id * 1009 + k")
    + """ AS v) AS h
    """,
    # Each customer buys in its home area (and a third of them in a second one) from its start month
    # to its end month, with a per-customer trend; about one month in five is skipped.
    """
    WITH c AS (
        SELECT cu.id, cu.organization_id, cu.name, l.id AS location_id,
               """
    + H.format("cu.id")
    + """ AS h1, """
    + H.format("cu.id * 7 + 3")
    + """ AS h2, """
    + H.format("cu.id * 13 + 5")
    + """ AS h3
          FROM {customer} cu JOIN {location} l ON l.organization_id = cu.organization_id
    ), areas AS (
        SELECT c.*, a.slot, (ARRAY['Data & AI', 'Infra', 'Digital & App Innovation', 'Business Applications',
                                   'Modern Work', 'Security'])[1 + (c.h1 + a.slot * 2) %% 6] AS area
          FROM c CROSS JOIN LATERAL (VALUES (0), (1)) AS a(slot)
         WHERE a.slot = 0 OR c.h2 < 333
    ), rows AS (
        SELECT areas.*, m, """
    + H.format("areas.id * 101 + m * 7 + areas.slot")
    + """ AS hr
          FROM areas CROSS JOIN generate_series(0, %(months)s - 1) AS m
         WHERE m >= areas.h3 %% 20 - 4 AND m <= 12 + areas.h2 %% 30
    )
    INSERT INTO {transaction}
        (organization_id, transaction_id, transaction_date, transaction_type, source, location_id,
         customer_id, customer_name, customer_tenant_id, customer_country, customer_segment,
         product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
         partner_role, partner_association, is_trial, quantity, quantity_type,
         transaction_currency, transaction_amount, transaction_exchange_rate,
         transaction_amount_usd, created_at)
    SELECT organization_id, 'BM-' || id || '-' || slot || '-' || m,
           (%(first_month)s::date + make_interval(months => m))::date + hr %% 28,
           CASE WHEN hr %% 50 = 0 THEN 'refund' WHEN hr %% 3 = 0 THEN 'usage' ELSE 'purchase' END,
           'upload', location_id, CASE WHEN hr %% 97 = 0 THEN NULL ELSE id END, name, '', '', '',
           'BM' || left(area, 3) || hr %% 5, '',
           CASE WHEN hr %% 5 = 0 AND area IN ('Data & AI', 'Infra', 'Digital & App Innovation')
                THEN 'Virtual Machines D' || hr %% 8 || 's v5' ELSE area || ' product ' || hr %% 5 END,
           '', 'INV-' || id || '-' || m, area, 'Transact', '', false, 1 + hr %% 50, 'Billed quantity',
           'USD', amount, 1, amount, now()
      FROM rows CROSS JOIN LATERAL (
            SELECT round((150 + h1 * 4.5 + hr) * (0.7 + (h2 %% 90) / 100.0 * m / %(months)s), 2) AS amount
      ) AS a
     WHERE hr %% 5 <> 4
    """,
    # 0–39 certified people per organization, one or two certifications each.
    """
    INSERT INTO {person_certification}
        (organization_id, location_id, learner_name, email, certification_id, earned_on, expires_on)
    SELECT o.id, NULL, 'Person ' || p,
           CASE WHEN p %% 9 = 0 THEN 'Person' ELSE 'person' END || p || '@bench.example',
           ce.id, %(first_month)s::date - 400 + hp %% 1200,
           CASE WHEN hp %% 3 = 0 THEN NULL ELSE %(first_month)s::date - 400 + hp %% 1200 + 730 END
      FROM {organization} o
     CROSS JOIN LATERAL generate_series(1, """
    + H.format("o.id * 17 + 1")
    + """ %% 40) AS p
     CROSS JOIN LATERAL generate_series(0, """
    + H.format("o.id * 5 + p")
    + """ %% 2) AS j
     CROSS JOIN LATERAL (SELECT """
    + H.format("o.id * 389 + p * 11 + j")
    + """ AS hp) AS h
     JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
             FROM {certification}) AS ce
       ON ce.k = (hp + j * 7) %% ce.n
    ON CONFLICT DO NOTHING
    """,
    # One organization in seven delivers training: 5–34 courses over fifteen months.
    """
    INSERT INTO {training_delivery} (organization_id, course_name, delivered_on, learners, satisfaction)
    SELECT o.id, 'Course ' || k, %(day)s::date - ("""
    + H.format("o.id * 3 + k")
    + """ %% 450),
           """
    + H.format("o.id + k * 17")
    + """ %% 25, 60 + """
    + H.format("o.id * 11 + k")
    + """ %% 41
      FROM {organization} o CROSS JOIN LATERAL generate_series(1, 5 + o.id %% 30) AS k
     WHERE o.id %% 7 = 0
    """,
]
DATA_LABELS = ("organizations", "locations", "customers", "transactions", "certifications", "deliveries")


def ensure_data(rows: int) -> bool:
    """The bench data for `rows` organizations; True when it was (re)built."""
    from django.db import connection  # noqa: PLC0415

    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {t['organization']}")
        organizations = cursor.fetchone()[0]
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {t['transaction']})")
        has_transactions = cursor.fetchone()[0]
        if organizations == rows and has_transactions:
            return False
        # Its own database: every organization here is the bench's.
        cursor.execute(f"TRUNCATE {t['organization']} CASCADE")
        params = {"rows": rows, "months": MONTHS, "first_month": FIRST_MONTH, "day": DAY}
        for label, statement in zip(DATA_LABELS, DATA_SQL, strict=True):
            started = time.perf_counter()
            cursor.execute(statement.format(**t), params)
            info(f"{cursor.rowcount:>9} {label} in {time.perf_counter() - started:.1f}s")
    vacuum()
    return True


def vacuum() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        for table in _tables().values():
            cursor.execute(f"VACUUM ANALYZE {table}")


def counts() -> dict[str, int]:
    from django.db import connection  # noqa: PLC0415

    t = _tables()
    result = {}
    with connection.cursor() as cursor:
        for name, label in (
            ("organization", "organizations"),
            ("customer", "customers"),
            ("transaction", "transactions"),
            ("person_certification", "certifications"),
            ("training_delivery", "training deliveries"),
        ):
            cursor.execute(f"SELECT count(*) FROM {t[name]}")
            result[label] = cursor.fetchone()[0]
    return result


# --- The reference: the same scores, written by hand in one statement ------------------------------


def _points(metric: str) -> str:
    a, w, th = f"a_{metric}", f"w_{metric}", f"t_{metric}"
    return (
        f"CASE WHEN {w} IS NULL THEN NULL WHEN {a} <= 0 THEN 0 WHEN {a} >= {th} THEN {w} "
        f"ELSE greatest(1, floor({w} * {a} / {th}))::int END AS p_{metric}"
    )


REFERENCE_SQL = (
    """
CREATE TEMPORARY TABLE bench_reference AS
WITH month_sums AS (
    SELECT organization_id AS org, solution_area AS area, customer_id AS cust,
           date_trunc('month', transaction_date)::date AS mon, sum(transaction_amount_usd) AS usd
      FROM {transaction}
     WHERE customer_id IS NOT NULL AND transaction_type IN ('purchase', 'usage')
       AND solution_area IN ('Data & AI', 'Infra', 'Digital & App Innovation', 'Business Applications',
                             'Modern Work', 'Security')
       AND transaction_date >= %(m24)s AND transaction_date < %(m0)s
     GROUP BY 1, 2, 3, 4
), per_customer AS (
    SELECT org, area, cust,
           coalesce(max(usd) FILTER (WHERE mon >= %(r_from)s) >= 1000, false) AS active_now,
           coalesce(max(usd) FILTER (WHERE mon >= %(y_from)s AND mon < %(y_to)s) >= 1000, false)
               AS active_then,
           coalesce(sum(usd) FILTER (WHERE mon >= %(m12)s), 0) AS cur,
           coalesce(sum(usd) FILTER (WHERE mon < %(m12)s), 0) AS prev
      FROM month_sums GROUP BY 1, 2, 3
), pairs AS (
    SELECT org, area, cust, count(*) AS n
      FROM (SELECT organization_id AS org, solution_area AS area, customer_id AS cust, product_id
              FROM {transaction}
             WHERE customer_id IS NOT NULL AND transaction_type IN ('purchase', 'usage')
               AND transaction_date >= %(m12)s AND transaction_date < %(m0)s
               AND solution_area IN ('Data & AI', 'Infra', 'Digital & App Innovation',
                                     'Business Applications', 'Modern Work', 'Security')
               AND (solution_area NOT IN ('Data & AI', 'Infra', 'Digital & App Innovation')
                    OR product_name NOT LIKE 'Virtual Machines%%')
             GROUP BY 1, 2, 3, 4 HAVING sum(transaction_amount_usd) > 0) AS x
     GROUP BY 1, 2, 3
), by_track AS (
    SELECT p.org, p.area, t.track,
           greatest(count(*) FILTER (WHERE p.active_now) - count(*) FILTER (WHERE p.active_then), 0) AS nca,
           sum(p.cur) AS cur, sum(p.prev) AS prev, coalesce(sum(d.n), 0) AS dep
      FROM per_customer p
      JOIN {customer} c ON c.id = p.cust
      LEFT JOIN pairs d ON d.org = p.org AND d.area = p.area AND d.cust = p.cust
     CROSS JOIN LATERAL (SELECT 'all' UNION ALL
                         SELECT CASE WHEN c.employee_count >= 301 THEN 'enterprise' ELSE 'smb' END)
                         AS t(track)
     GROUP BY 1, 2, 3
), certs AS (
    SELECT pc.organization_id AS org, ce.designation AS area,
           count(DISTINCT lower(pc.email)) FILTER (WHERE ce.level = 'intermediate') AS int_cert,
           count(DISTINCT lower(pc.email)) FILTER (WHERE ce.level = 'advanced') AS adv_cert,
           count(DISTINCT lower(pc.email)) FILTER (WHERE ce.level = 'trainer') AS trainers
      FROM {person_certification} pc JOIN {certification} ce ON ce.id = pc.certification_id
     WHERE pc.earned_on <= %(day)s AND (pc.expires_on IS NULL OR pc.expires_on > %(day)s)
     GROUP BY 1, 2
), training AS (
    SELECT organization_id AS org, count(*) AS courses,
           coalesce(floor(sum(satisfaction * learners)::numeric / nullif(sum(learners), 0)), 0)
               AS satisfaction
      FROM {training_delivery}
     WHERE delivered_on > %(day)s::date - 365 AND delivered_on <= %(day)s
     GROUP BY 1
), rules AS (
    SELECT designation, track, """
    + ", ".join(
        f"max(weight) FILTER (WHERE metric = '{m}') AS w_{m}, "
        f"max(threshold) FILTER (WHERE metric = '{m}') AS t_{m}"
        for m in METRICS
    )
    + """
      FROM {definition} WHERE rule_set_id = %(rule_set)s GROUP BY 1, 2
), achieved AS (
    SELECT o.id AS org, r.*,
           coalesce(b.nca, 0) AS a_nca,
           CASE WHEN coalesce(b.cur, 0) <= coalesce(b.prev, 0) THEN 0 WHEN coalesce(b.prev, 0) <= 0 THEN 100
                ELSE round((b.cur - b.prev) * 100 / b.prev, 2) END AS a_usage_growth,
           coalesce(b.dep, 0) AS a_deployments,
           coalesce(c.int_cert, 0) AS a_int_cert, coalesce(c.adv_cert, 0) AS a_adv_cert,
           coalesce(c.trainers, 0) AS a_trainers,
           coalesce(tr.courses, 0) AS a_courses, coalesce(tr.satisfaction, 0) AS a_satisfaction
      FROM {organization} o CROSS JOIN rules r
      LEFT JOIN by_track b ON b.org = o.id AND b.area = r.designation AND b.track = r.track
      LEFT JOIN certs c ON c.org = o.id AND c.area = r.designation
      LEFT JOIN training tr ON tr.org = o.id AND r.designation = 'Training Services'
), pointed AS (
    SELECT org, designation, track, """
    + ", ".join(_points(m) for m in METRICS)
    + """
      FROM achieved
), totals AS (
    SELECT *, """
    + " + ".join(f"coalesce(p_{m}, 0)" for m in METRICS)
    + """ AS total, """
    + " AND ".join(f"coalesce(p_{m}, 1) > 0" for m in METRICS)
    + """ AS all_positive
      FROM pointed
)
SELECT *, total >= 70 AND all_positive AS qualified,
       row_number() OVER (PARTITION BY org, designation
                          ORDER BY total DESC, total >= 70 AND all_positive DESC,
                                   track = 'enterprise' DESC) = 1
           AS is_best
  FROM totals
"""
)

COMPARE_SQL = (
    """
SELECT count(*) FILTER (WHERE s.id IS NULL OR r.org IS NULL) AS missing,
       count(*) FILTER (WHERE s.total <> r.total OR s.qualified <> r.qualified
                          OR s.is_best <> r.is_best OR """
    + " OR ".join(f"(s.metrics -> '{m}' ->> 'points')::int IS DISTINCT FROM r.p_{m}" for m in METRICS)
    + """) AS different,
       count(*) AS compared
  FROM (SELECT * FROM {snapshot} WHERE taken_on = %(day)s) AS s
  FULL JOIN bench_reference r
    ON r.org = s.organization_id AND r.designation = s.designation AND r.track = s.track
"""
)


def run_reference(params: dict) -> float:
    from django.db import connection, transaction  # noqa: PLC0415

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_reference")
        started = time.perf_counter()
        cursor.execute(REFERENCE_SQL.format(**_tables()), params)
        return time.perf_counter() - started


def run_engine() -> tuple[float, int]:
    from django.db import connection  # noqa: PLC0415

    from membership.services.scoring import score_snapshots_write  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_tables()['snapshot']} WHERE taken_on = %s", [DAY])
        cursor.execute(f"VACUUM ANALYZE {_tables()['snapshot']}")
    started = time.perf_counter()
    written = score_snapshots_write(day=DAY)
    return time.perf_counter() - started, written


def run_sync() -> tuple[float, float, object]:
    """designations_sync after the scores: first with no designations yet, then a rerun."""
    from django.db import connection  # noqa: PLC0415

    from membership.services.designations import designations_sync  # noqa: PLC0415

    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t['action_item']} WHERE dedupe_key LIKE 'membership:designation-%%'")
        cursor.execute(f"DELETE FROM {t['enrollment']}")
    started = time.perf_counter()
    result = designations_sync(day=DAY)
    first = time.perf_counter() - started
    started = time.perf_counter()
    designations_sync(day=DAY)
    return first, time.perf_counter() - started, result


def run(rows: int) -> list[str]:
    from django.db import connection  # noqa: PLC0415

    from membership.services.scoring import rule_set_on, snapshot_parameters  # noqa: PLC0415

    started = time.perf_counter()
    built = ensure_data(rows)
    sizes = counts()
    info(
        f"data {'built' if built else 'kept'} in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{n} {name}" for name, n in sizes.items())
    )
    if sizes["organizations"] != rows:
        raise SystemExit(f"expected {rows} organizations, found {sizes['organizations']}")

    params = snapshot_parameters(DAY, rule_set_on(DAY), None)
    engine_times, reference_times = [], []
    written = 0
    for _ in range(REPEATS):
        seconds, written = run_engine()
        engine_times.append(seconds)
        reference_times.append(run_reference(params))
    engine, reference = min(engine_times), min(reference_times)
    info(f"score_snapshots_write: {written} snapshots, runs {', '.join(f'{s:.2f}s' for s in engine_times)}")
    info(f"reference SQL: runs {', '.join(f'{s:.2f}s' for s in reference_times)}")

    with connection.cursor() as cursor:
        cursor.execute(COMPARE_SQL.format(**_tables()), {"day": DAY})
        missing, different, compared = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE qualified), count(*) FILTER (WHERE is_best AND total > 0) "
            f"FROM {_tables()['snapshot']} WHERE taken_on = %s",
            [DAY],
        )
        qualified, scored = cursor.fetchone()
    if missing or different or compared != written or written != rows * 10:
        raise SystemExit(
            f"engine and reference disagree: {missing} rows missing, {different} different, "
            f"{compared} compared, {written} written"
        )
    info(
        f"engine and reference agree on all {compared} rows (points of every metric, total, qualified, best)"
    )
    info(f"{qualified} qualified designation tracks; {scored} best tracks above 0 points")

    first, again, result = run_sync()
    info(f"designations_sync: {first:.2f}s from scratch ({result}), {again:.2f}s rerun (info only)")
    return [bench_line("membership_scores", engine, "s", reference, "s", engine / reference, "<=", TARGET)]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], default_rows=10_000, quick_rows=200)
    _common.setup_django({"DATABASE_URL": _common.bench_database_url(name=DATABASE)})
    run(args.rows)


if __name__ == "__main__":
    main()
