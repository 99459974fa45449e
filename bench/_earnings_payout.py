"""Payout engine: a payout run over N transactions beside a hand-written INSERT … SELECT.

Builds (set-based) N transactions of one month for a partner with 100 locations across two
solution areas, three currencies and twenty products, about 88 % of them eligible (the rest fail
each rule once in a while), then times `payout_run_execute` for the month (earnings, ineligible
rows, payments, summaries, in chunks) and one hand-written INSERT … SELECT that writes the same
earnings and ineligible rows, checks both wrote the same rows, and prints
`BENCH earnings_payout value=<run>s reference=<sql>s ratio=<run/sql> target=<=1.5`.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

ORGANIZATION = ("9900300", "Bench Payout Partner GmbH")
PROGRAM_CODE = "BENCHPAY"
#: A month before any other bench's data, and a program in force only that year, so neither
#: this run nor theirs sees the other's transactions when they share a database.
PERIOD = date(2019, 3, 1)
PROGRAM_STARTS, PROGRAM_ENDS = date(2019, 1, 1), date(2019, 12, 31)
DATABASE = "portal_bench_payout"
LOCATIONS = 100
CUSTOMERS = 50_000
PRODUCTS = 20
TARGET = 1.5


def _tables() -> dict[str, str]:
    from accounts.models import Customer  # noqa: PLC0415 - needs Django set up
    from earnings.models import (  # noqa: PLC0415
        Earning,
        EarningRate,
        EarningSummary,
        Engagement,
        Enrollment,
        ExchangeRate,
        IneligibleTransaction,
        Lever,
        Payment,
        Program,
        Transaction,
    )

    models = {
        "customer": Customer,
        "transaction": Transaction,
        "earning": Earning,
        "ineligible": IneligibleTransaction,
        "payment": Payment,
        "summary": EarningSummary,
        "engagement": Engagement,
        "program": Program,
        "enrollment": Enrollment,
        "lever": Lever,
        "rate": EarningRate,
        "fx": ExchangeRate,
    }
    return {name: model._meta.db_table for name, model in models.items()}


# --- Data -----------------------------------------------------------------------------------------


def _vendor_data():
    """The program, one engagement per solution area with a Transact lever, rates, FX."""
    from earnings.models import EarningRate, Engagement, ExchangeRate, Lever, Program  # noqa: PLC0415

    program, _ = Program.objects.update_or_create(
        code=PROGRAM_CODE,
        defaults={
            "name": "Bench Payout Incentives",
            "starts_on": PROGRAM_STARTS,
            "ends_on": PROGRAM_ENDS,
            "payment_lag_months": 3,
        },
    )
    for area, rate in (("Modern Work", "0.04"), ("Infra", "0.025")):
        engagement, _ = Engagement.objects.get_or_create(
            engagement_id=f"BENCHPAY-{area[:5].upper()}",
            defaults={
                "program": program,
                "name": f"Bench {area}",
                "solution_area": area,
                "excluded_segments": ["government"],
                "min_transaction_usd": Decimal("10"),
                "starts_on": PROGRAM_STARTS,
            },
        )
        lever, _ = Lever.objects.get_or_create(
            engagement=engagement, partner_role="Transact", defaults={"name": "Core"}
        )
        # Product P19 has no rate: PRODUCT_NOT_ELIGIBLE.
        for product in range(PRODUCTS - 1):
            EarningRate.objects.get_or_create(
                lever=lever,
                product_id=f"BENCHP{product:02d}",
                segment="",
                valid_from=PROGRAM_STARTS,
                defaults={"rate": Decimal(rate) + Decimal(product) / 1000, "min_quantity": 5},
            )
    for currency, rate in (("EUR", "1.0850"), ("GBP", "1.2700")):
        ExchangeRate.objects.get_or_create(
            currency=currency, rate_date=date(2018, 12, 1), defaults={"rate_to_usd": Decimal(rate)}
        )
    return program


def ensure_data(rows: int):
    """The organization, its locations (97 enrolled, one of them in AR arrears), customers and
    exactly `rows` transactions in the bench month."""
    from django.db import connection  # noqa: PLC0415

    from accounts.models import Organization, PartnerLocation  # noqa: PLC0415
    from earnings.models import Enrollment, Transaction  # noqa: PLC0415

    program = _vendor_data()
    organization, _ = Organization.objects.get_or_create(
        partner_global_id=ORGANIZATION[0],
        defaults={"legal_name": ORGANIZATION[1], "country": "DE", "partner_types": ["indirect_reseller"]},
    )
    locations = []
    for n in range(LOCATIONS):
        location, _ = PartnerLocation.objects.get_or_create(
            organization=organization, partner_id=f"97{n:05d}", defaults={"country": "DE"}
        )
        locations.append(location.pk)
        if n >= LOCATIONS - 3:
            continue  # not enrolled: NOT_ENROLLED
        Enrollment.objects.get_or_create(
            location=location,
            program=program,
            defaults={
                "organization": organization,
                "participant_id": location.partner_id,
                "participant_name": ORGANIZATION[1],
                "enrolled_from": PROGRAM_STARTS,
                "bank_profile_ok": True,
                "tax_profile_ok": True,
                "ar_overdue": n == 0,
            },
        )
    reset(organization)
    existing = Transaction.objects.filter(organization=organization).count()
    if existing == rows:
        return organization, 0
    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t['transaction']} WHERE organization_id = %s", [organization.pk])
        cursor.execute(
            f"""
            INSERT INTO {t["customer"]}
                (organization_id, name, domain, tenant_id, country, segment, created_at)
            SELECT %(org)s, 'Payout Customer ' || n, 'payout' || n || '.bench.example', gen_random_uuid(),
                   'DE', CASE WHEN n %% 41 = 0 THEN 'government' ELSE 'commercial' END, now()
              FROM generate_series(1, %(customers)s) AS n
            ON CONFLICT (organization_id, domain) DO NOTHING
            """,
            {"org": organization.pk, "customers": CUSTOMERS},
        )
        cursor.execute(
            f"""
            WITH c AS (
                SELECT id, name, segment, row_number() OVER (ORDER BY id) - 1 AS i
                  FROM {t["customer"]} WHERE organization_id = %(org)s
            ), v AS (
                SELECT n, (ARRAY['EUR', 'USD', 'GBP'])[1 + n %% 3] AS currency,
                       (ARRAY[1.0850, 1, 1.2700])[1 + n %% 3]::numeric AS fx,
                       CASE WHEN n %% 43 = 0 THEN -1 ELSE 1 END
                           * (4 + (n::bigint * 7919) %% 5000)::numeric / 3 AS amount
                  FROM generate_series(0, %(rows)s - 1) AS n
            )
            INSERT INTO {t["transaction"]}
                (organization_id, transaction_id, transaction_date, transaction_type, source, location_id,
                 customer_id, customer_name, customer_tenant_id, customer_country, customer_segment,
                 product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
                 partner_role, partner_association, is_trial, quantity, quantity_type,
                 transaction_currency, transaction_amount, transaction_exchange_rate,
                 transaction_amount_usd, created_at)
            SELECT %(org)s, 'BENCH-PAY-' || v.n, %(start)s::date + v.n %% 31,
                   CASE WHEN v.n %% 43 = 0 THEN 'refund' ELSE 'purchase' END, 'upload',
                   (%(locations)s::bigint[])[1 + v.n %% {LOCATIONS}],
                   CASE WHEN v.n %% 50 = 0 THEN NULL ELSE c.id END, c.name, '', 'DE', c.segment,
                   'BENCHP' || lpad((v.n %% {PRODUCTS})::text, 2, '0'), '', 'Product ' || v.n %% {PRODUCTS},
                   '', 'INV-' || v.n, CASE WHEN v.n %% 10 < 7 THEN 'Modern Work' ELSE 'Infra' END,
                   CASE WHEN v.n %% 47 = 0 THEN 'Deploy' ELSE 'Transact' END, '', v.n %% 37 = 0,
                   1 + (v.n * 31) %% 200, 'Billed quantity', v.currency, round(v.amount, 2), v.fx,
                   round(round(v.amount, 2) * v.fx, 2), now()
              FROM v JOIN c ON c.i = v.n %% %(customers)s
            """,
            {
                "org": organization.pk,
                "rows": rows,
                "start": PERIOD,
                "locations": locations,
                "customers": CUSTOMERS,
            },
        )
        written = cursor.rowcount
    vacuum()
    return organization, written


def vacuum() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        for table in _tables().values():
            cursor.execute(f"VACUUM ANALYZE {table}")


def reset(organization) -> None:
    """Remove what a run of the bench month wrote: its earnings, ineligible rows, runs, summaries."""
    from django.db import connection, transaction  # noqa: PLC0415

    from earnings.periods import month_end  # noqa: PLC0415
    from portal.models import JobRun  # noqa: PLC0415

    t = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {t['earning']} WHERE organization_id = %s AND earning_date = %s",
            [organization.pk, month_end(PERIOD)],
        )
        cursor.execute(
            f"""DELETE FROM {t["ineligible"]} i USING {t["transaction"]} x
                 WHERE i.transaction_id = x.id AND x.organization_id = %s
                   AND x.transaction_date BETWEEN %s AND %s""",
            [organization.pk, PERIOD, month_end(PERIOD)],
        )
        cursor.execute(
            f"DELETE FROM {t['summary']} WHERE organization_id = %s AND earning_month = %s",
            [organization.pk, PERIOD],
        )
        JobRun.objects.filter(
            kind="earnings.payout_run", parameters__period=PERIOD.strftime("%Y-%m")
        ).delete()


def fingerprint() -> tuple[int, str]:
    """How many earnings rows the month has, and a digest of every value that matters."""
    from django.db import connection  # noqa: PLC0415

    from earnings.periods import month_end  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*),
                   md5(string_agg(concat_ws('|', earning_id, kind, organization_id, enrollment_id, program_id,
                                            engagement_id, lever_id, transaction_id, revision, earning_type,
                                            earning_rate, earning_amount, currency, earning_exchange_rate,
                                            exchange_rate_date, earning_amount_usd, earning_date,
                                            calculation_date, estimated_payment_month, payment_status,
                                            solution_area, partner_role, partner_association, customer_id,
                                            customer_name, product_id, product_name),
                                  ',' ORDER BY transaction_id, lever_id, revision))
              FROM {_tables()["earning"]}
             WHERE earning_date = %s AND transaction_id IS NOT NULL
            """,
            [month_end(PERIOD)],
        )
        return cursor.fetchone()


# --- The two runs -----------------------------------------------------------------------------------


def run_service() -> tuple[float, dict]:
    from earnings.services import payout_run_create, payout_run_execute  # noqa: PLC0415

    job = payout_run_create(period=PERIOD, actor=None)
    started = time.perf_counter()
    result = payout_run_execute(job)
    return time.perf_counter() - started, result


# The same result written by hand as ONE statement: every candidate assessed once (spec §5, first
# failed rule), then the eligible ones inserted as earnings and the others as ineligible rows.
REFERENCE_SQL = """
WITH assessed AS MATERIALIZED (
    SELECT t.id AS transaction_id, t.organization_id, t.transaction_amount, t.transaction_currency,
           t.transaction_exchange_rate, t.transaction_date, t.customer_id, t.customer_name, t.product_id,
           t.product_name, t.solution_area, t.partner_role, t.partner_association,
           g.id AS engagement_id, g.program_id, p.payment_lag_months, en.id AS enrollment_id,
           l.id AS lever_id, l.earning_type, r.rate,
           CASE WHEN t.customer_id IS NULL THEN 'CUSTOMER_NOT_ASSOCIATED'
                WHEN en.id IS NULL THEN 'NOT_ENROLLED'
                WHEN en.ar_overdue THEN 'AR_OVERDUE'
                WHEN t.customer_segment <> '' AND t.customer_segment = ANY (g.excluded_segments)
                    THEN 'CUSTOMER_SEGMENT'
                WHEN t.is_trial OR (t.transaction_amount = 0 AND t.transaction_type = 'purchase')
                    THEN 'TRIAL_OR_FREE'
                WHEN l.id IS NULL OR (l.partner_association <> ''
                                      AND l.partner_association <> t.partner_association) THEN 'NOT_POR'
                WHEN r.rate IS NULL THEN 'PRODUCT_NOT_ELIGIBLE'
                WHEN abs(t.quantity) < r.min_quantity THEN 'BELOW_MIN_SEATS'
                WHEN t.transaction_amount >= 0 AND t.transaction_amount_usd < g.min_transaction_usd
                    THEN 'BELOW_THRESHOLD'
           END AS reason
      FROM {transaction} t
      JOIN {engagement} g ON g.solution_area = t.solution_area AND g.starts_on <= t.transaction_date
                         AND (g.ends_on IS NULL OR g.ends_on >= t.transaction_date)
      JOIN {program} p ON p.id = g.program_id AND p.starts_on <= t.transaction_date
                      AND (p.ends_on IS NULL OR p.ends_on >= t.transaction_date)
      LEFT JOIN LATERAL (SELECT e.id, e.ar_overdue FROM {enrollment} e
                          WHERE e.location_id = t.location_id AND e.program_id = g.program_id
                            AND e.enrolled_from <= t.transaction_date
                            AND (e.enrolled_to IS NULL OR e.enrolled_to > t.transaction_date)
                          ORDER BY e.enrolled_from DESC, e.id DESC LIMIT 1) en ON true
      LEFT JOIN {lever} l ON l.engagement_id = g.id AND l.partner_role = t.partner_role
      LEFT JOIN LATERAL (SELECT r.rate, r.min_quantity FROM {rate} r
                          WHERE r.lever_id = l.id AND r.product_id = t.product_id
                            AND r.segment IN ('', t.customer_segment) AND r.valid_from <= t.transaction_date
                            AND (r.valid_to IS NULL OR r.valid_to > t.transaction_date)
                          ORDER BY r.segment DESC, r.valid_from DESC LIMIT 1) r ON true
     WHERE t.transaction_date BETWEEN %(start)s AND %(end)s
),
fx AS (
    SELECT DISTINCT ON (currency) currency, rate_to_usd, rate_date FROM {fx}
     WHERE rate_date <= %(end)s ORDER BY currency, rate_date DESC
),
ineligible AS (
    INSERT INTO {ineligible}
        (organization_id, transaction_id, engagement_id, program_id, reason_code, calculation_date, job_id)
    SELECT organization_id, transaction_id, engagement_id, program_id, reason, %(today)s, NULL
      FROM assessed WHERE reason IS NOT NULL
)
INSERT INTO {earning}
    (organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id, engagement_id,
     lever_id, transaction_id, revision, claim_id, earning_type, earning_rate, earning_amount, currency,
     earning_exchange_rate, exchange_rate_date, earning_amount_usd, earning_date, calculation_date,
     estimated_payment_month, payment_id, payment_status, solution_area, partner_role,
     partner_association, customer_id, customer_name, product_id, product_name, job_id, created_by_id,
     created_at)
SELECT a.organization_id, 'E-' || a.transaction_id || '-' || a.lever_id || '-1', 'earning', '', '',
       a.enrollment_id, a.program_id, a.engagement_id, a.lever_id, a.transaction_id, 1, '', a.earning_type,
       a.rate, round(a.transaction_amount * a.rate, 2), a.transaction_currency, x.fx_rate, x.fx_date,
       round(round(a.transaction_amount * a.rate, 2) * x.fx_rate, 2), %(end)s, %(today)s,
       CASE WHEN a.earning_type = 'Co-op' THEN NULL
            ELSE (%(start)s::date + make_interval(months => a.payment_lag_months))::date END,
       NULL, 'Unprocessed', a.solution_area, a.partner_role, a.partner_association, a.customer_id,
       a.customer_name, a.product_id, a.product_name, NULL, NULL, now()
  FROM assessed a
  LEFT JOIN fx ON fx.currency = a.transaction_currency
 CROSS JOIN LATERAL (
        SELECT CASE WHEN a.transaction_currency = 'USD' THEN 1
                    ELSE coalesce(fx.rate_to_usd, a.transaction_exchange_rate) END AS fx_rate,
               CASE WHEN a.transaction_currency = 'USD' THEN %(end)s::date
                    ELSE coalesce(fx.rate_date, a.transaction_date) END AS fx_date
 ) x
 WHERE a.reason IS NULL
"""


def run_reference() -> float:
    """The earnings and ineligible rows of the run's first step, in one hand-written statement."""
    from django.db import connection, transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from earnings.periods import month_end  # noqa: PLC0415

    params = {"start": PERIOD, "end": month_end(PERIOD), "today": timezone.localdate()}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(REFERENCE_SQL.format(**_tables()), params)
    return time.perf_counter() - started


def ineligible_fingerprint() -> tuple[int, str]:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), md5(string_agg(concat_ws('|', transaction_id, engagement_id, program_id,
                                                      reason_code, organization_id, calculation_date),
                                            ',' ORDER BY transaction_id, engagement_id))
              FROM {_tables()["ineligible"]}
            """
        )
        return cursor.fetchone()


def run(rows: int) -> list[str]:
    """Build the data (Django must be set up), time both runs, return the BENCH line."""
    from django.conf import settings  # noqa: PLC0415

    started = time.perf_counter()
    organization, written = ensure_data(rows)
    info(
        f"data ready in {time.perf_counter() - started:.1f}s: organization {organization.pk} with "
        f"{rows} transactions in {PERIOD:%Y-%m} ({written} written)"
    )
    service, result = run_service()
    count, service_print = fingerprint()
    chunk = getattr(settings, "EARNINGS_PAYOUT_CHUNK_SIZE", None) or "default"
    info(f"payout run: {service:.2f}s for {count} earnings rows (chunk size {chunk}): {result}")
    if result.get("earnings") != count or count == 0:
        raise SystemExit(f"the payout run wrote {count} earnings rows but reports {result}")

    service_ineligible = ineligible_fingerprint()
    reset(organization)
    vacuum()
    reference = run_reference()
    reference_count, reference_print = fingerprint()
    info(f"reference SQL: {reference:.2f}s for {reference_count} earnings rows and the ineligible rows")
    if (reference_count, reference_print) != (count, service_print):
        raise SystemExit("the reference SQL and the payout run disagree on the earnings rows")
    if ineligible_fingerprint() != service_ineligible:
        raise SystemExit("the reference SQL and the payout run disagree on the ineligible rows")
    info("both runs wrote the same earnings and ineligible rows (fingerprints match)")
    reset(organization)
    vacuum()
    return [bench_line("earnings_payout", service, "s", reference, "s", service / reference, "<=", TARGET)]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], default_rows=1_000_000, quick_rows=20_000)
    _common.setup_django({"DATABASE_URL": _common.bench_database_url(name=DATABASE)})
    run(args.rows)


if __name__ == "__main__":
    main()
