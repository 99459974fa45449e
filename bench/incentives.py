"""Incentives payouts: `claim_payouts_compute` over N approved claims beside a hand-written UPDATE.

Builds (set-based, in its own database `portal_bench_incentives`) N approved claims of 1,000
partner organizations (one in five in market B) on four activities — two fixed (fees per market
tier), two variable (rate × opportunity value, per-claim cap), rates changing on 1 July 2025 —
approved over two fiscal years so the annual caps bind; one claim in fifty is already Completed
(its payout kept), one customer in five has an outcome transaction shared by its two variable
claims and one in ten a second one of its own. Then times `claim_payouts_compute()` over every
claim and one hand-written UPDATE … FROM of the same payouts (each from NULL, after a VACUUM),
checks both wrote the same payouts (best of two each), and prints
`BENCH incentives_payouts value=<service>s reference=<sql>s ratio=<service/sql> target=<=1.5`.

    python bench/incentives.py [--rows N] [--quick]
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

DATABASE = "portal_bench_incentives"
PROGRAM_CODE = "BENCHMCI"
ORGANIZATIONS = 1000
FIRST_DECISION = date(2024, 7, 1)
DECISION_DAYS = 730
RATE_CHANGE = date(2025, 7, 1)
TARGET = 1.5
REPEATS = 2
#: code, pattern, solution area, annual cap, then per (valid from, tier): fee or (rate, cap).
ACTIVITIES = (
    ("BENCH-MW-WS", "FIXED", "Modern Work", "500000", {"A": ("5000", None, None), "B": ("3750", None, None)}),
    ("BENCH-SEC-TPE", "FIXED", "Security", "400000", {"A": ("6000", None, None), "B": ("4500", None, None)}),
    (
        "BENCH-AZ-MIG",
        "VARIABLE",
        "Infra",
        "500000",
        {"A": (None, "0.05", "50000"), "B": (None, "0.04", "40000")},
    ),
    ("BENCH-AZ-POC", "VARIABLE", "Data & AI", "300000", {"A": (None, "0.06", "40000")}),
)


def _tables() -> dict[str, str]:
    from accounts.models import Customer, Organization, PartnerLocation  # noqa: PLC0415 - needs Django
    from earnings.models import Engagement, Transaction  # noqa: PLC0415
    from incentives.models import ActivityRate, ActivityType, Claim, Opportunity, OutcomeLink  # noqa: PLC0415

    models = {
        "organization": Organization,
        "location": PartnerLocation,
        "customer": Customer,
        "transaction": Transaction,
        "engagement": Engagement,
        "activity": ActivityType,
        "rate": ActivityRate,
        "claim": Claim,
        "opportunity": Opportunity,
        "outcome": OutcomeLink,
    }
    return {name: model._meta.db_table for name, model in models.items()}


# --- Data -----------------------------------------------------------------------------------------


def _vendor_data() -> list[int]:
    """The program, the four activities (engagement + Build-intent lever each) and their rates."""
    from earnings.models import Engagement, Lever, Program  # noqa: PLC0415
    from incentives.models import ActivityRate, ActivityType  # noqa: PLC0415

    program, _ = Program.objects.get_or_create(
        code=PROGRAM_CODE, defaults={"name": "Bench Commerce Incentives", "starts_on": date(2020, 7, 1)}
    )
    activities = []
    for code, pattern, area, annual_cap, rates in ACTIVITIES:
        engagement, _ = Engagement.objects.get_or_create(
            engagement_id=code,
            defaults={"program": program, "name": code, "solution_area": area, "starts_on": date(2020, 7, 1)},
        )
        lever, _ = Lever.objects.get_or_create(
            engagement=engagement,
            partner_role="Build intent",
            defaults={"name": code, "earning_type": "Rebate"},
        )
        activity, _ = ActivityType.objects.update_or_create(
            code=code,
            defaults={
                "name": code,
                "engagement": engagement,
                "lever": lever,
                "pay_pattern": pattern,
                "starts_on": date(2020, 7, 1),
                "ends_on": date(2030, 6, 30),
                "annual_cap_usd": Decimal(annual_cap),
            },
        )
        for tier, (fee, rate, cap) in rates.items():
            # The first rate until the change, then 10 % more.
            for valid_from, valid_to, factor in (
                (date(2020, 7, 1), RATE_CHANGE, Decimal(1)),
                (RATE_CHANGE, None, Decimal("1.1")),
            ):
                ActivityRate.objects.update_or_create(
                    activity_type=activity,
                    market_tier=tier,
                    valid_from=valid_from,
                    defaults={
                        "valid_to": valid_to,
                        "fixed_fee_usd": Decimal(fee) * factor if fee else None,
                        "rate": Decimal(rate) * factor if rate else None,
                        "cap_per_claim_usd": Decimal(cap) if cap else None,
                    },
                )
        activities.append(activity.pk)
    return activities


def ensure_data(rows: int) -> int:
    """Exactly `rows` approved or completed claims with their customers, opportunities and outcomes;
    returns how many claims were written (0: the data set was there already)."""
    from django.db import connection, transaction  # noqa: PLC0415

    from accounts.models import Organization  # noqa: PLC0415
    from incentives.models import Claim  # noqa: PLC0415

    activities = _vendor_data()
    organizations = Organization.objects.filter(partner_global_id__startswith="98").count()
    if (
        Claim.objects.filter(activity_type_id__in=activities).count() == rows
        and organizations == ORGANIZATIONS
    ):
        return 0
    t = _tables()
    customers = (rows + len(activities) - 1) // len(activities)
    params = {
        "activities": activities,
        "rows": rows,
        "customers": customers,
        "organizations": ORGANIZATIONS,
        "first": FIRST_DECISION,
        "days": DECISION_DAYS,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {t["outcome"]} o USING {t["claim"]} c
                 WHERE o.claim_id = c.id AND c.claim_id LIKE 'CLM-B-%%'""",
            params,
        )
        cursor.execute(f"DELETE FROM {t['claim']} WHERE claim_id LIKE 'CLM-B-%%'", params)
        cursor.execute(f"DELETE FROM {t['opportunity']} WHERE msx_opportunity_id LIKE '7-B%%'", params)
        cursor.execute(f"DELETE FROM {t['transaction']} WHERE transaction_id LIKE 'BENCH-INC-%%'", params)
        cursor.execute(f"DELETE FROM {t['customer']} WHERE domain LIKE '%%.bench-incentives.example'", params)
        cursor.execute(f"DELETE FROM {t['location']} WHERE partner_id LIKE '96%%'", params)
        cursor.execute(f"DELETE FROM {t['organization']} WHERE partner_global_id LIKE '98%%'", params)
        cursor.execute(
            f"""
            INSERT INTO {t["organization"]}
                (legal_name, doing_business_as, partner_global_id, country, partner_types, address_line1,
                 address_line2, city, state, postal_code, phone, website, company_registration_number,
                 tax_id, company_size, created_at)
            SELECT 'Bench Incentives Partner ' || n, '', '98' || lpad(n::text, 5, '0'), 'DE', '{{services}}',
                   '', '', '', '', '', '', '', '', '', '', now()
              FROM generate_series(0, %(organizations)s - 1) AS n
            """,
            params,
        )
        # One location per organization; one organization in five sells from a market B country.
        cursor.execute(
            f"""
            INSERT INTO {t["location"]} (organization_id, partner_id, country, name, is_headquarters)
            SELECT o.id, '96' || substr(o.partner_global_id, 3),
                   CASE WHEN substr(o.partner_global_id, 3)::int %% 5 = 0 THEN 'IN' ELSE 'DE' END, '', true
              FROM {t["organization"]} o WHERE o.partner_global_id LIKE '98%%'
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {t["customer"]}
                (organization_id, name, domain, tenant_id, country, segment, location_id, employee_count,
                 created_at)
            SELECT o.id, 'Bench Customer ' || k, 'c' || k || '.bench-incentives.example', gen_random_uuid(),
                   'DE', 'commercial', l.id, 100 + k %% 5000, now()
              FROM generate_series(0, %(customers)s - 1) AS k
              JOIN {t["organization"]} o
                ON o.partner_global_id = '98' || lpad((k %% %(organizations)s)::text, 5, '0')
              JOIN {t["location"]} l ON l.organization_id = o.id
            """,
            params,
        )
        # Claim n: activity n % 4 for customer n / 4 (one live claim per activity and customer).
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE bench_claim ON COMMIT DROP AS
            SELECT n, n %% 4 AS a, n / 4 AS k, c.id AS customer_id, c.tenant_id, c.organization_id,
                   c.location_id, l.country,
                   %(first)s::timestamptz + ((n::bigint * 7919) %% (%(days)s * 86400)) * interval '1 second'
                       AS decided_at
              FROM generate_series(0, %(rows)s - 1) AS n
              JOIN {t["customer"]} c ON c.domain = 'c' || (n / 4) || '.bench-incentives.example'
              JOIN {t["location"]} l ON l.id = c.location_id
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {t["opportunity"]}
                (organization_id, msx_opportunity_id, name, customer_id, solution_area, estimated_value_usd,
                 stage, seller_name, seller_email, close_date, imported_at)
            SELECT b.organization_id, '7-B' || lpad(b.n::text, 9, '0'), 'Bench opportunity ' || b.n,
                   b.customer_id, g.solution_area, 50000 + (b.n::bigint * 104729) %% 1950000, 'Develop',
                   'Sam Seller', '', NULL, now()
              FROM bench_claim b
              JOIN {t["activity"]} a ON a.id = (%(activities)s::bigint[])[1 + b.a]
              JOIN {t["engagement"]} g ON g.id = a.engagement_id
             WHERE a.pay_pattern = 'VARIABLE'
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {t["claim"]}
                (organization_id, claim_id, activity_type_id, location_id, customer_id, customer_tenant_id,
                 customer_id_type, opportunity_id, friendly_name, status, market_tier, potential_payout_usd,
                 approved_payout_usd, contact_name, contact_email, decided_at, resubmit_count, created_at,
                 updated_at)
            SELECT b.organization_id, 'CLM-B-' || lpad(b.n::text, 9, '0'),
                   (%(activities)s::bigint[])[1 + b.a],
                   b.location_id, b.customer_id, b.tenant_id, 'tenant_id', op.id, 'Bench claim ' || b.n,
                   CASE WHEN b.n %% 50 = 0 THEN 'Completed' ELSE 'Approved' END,
                   CASE WHEN b.country = 'IN' THEN 'B' ELSE 'A' END, 0,
                   CASE WHEN b.n %% 50 = 0 THEN 2500 END, '', '', b.decided_at, 0, b.decided_at, b.decided_at
              FROM bench_claim b
              LEFT JOIN {t["opportunity"]} op ON op.msx_opportunity_id = '7-B' || lpad(b.n::text, 9, '0')
            """,
            params,
        )
        written = cursor.rowcount
        # Outcomes: one customer in five has a transaction shared by its two variable claims, one in
        # ten a second transaction linked to its migration claim only.
        cursor.execute(
            f"""
            INSERT INTO {t["transaction"]}
                (organization_id, transaction_id, transaction_date, transaction_type, source, location_id,
                 customer_id, customer_name, customer_tenant_id, customer_country, customer_segment,
                 product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
                 partner_role, partner_association, is_trial, quantity, quantity_type,
                 transaction_currency, transaction_amount, transaction_exchange_rate,
                 transaction_amount_usd, created_at, upload_id)
            SELECT c.organization_id, 'BENCH-INC-' || k || '-' || s, DATE '2025-03-01', 'usage', 'upload',
                   c.location_id, c.id, c.name, '', 'DE', 'commercial', 'BENCHAZ', '', 'Azure usage', '',
                   '', 'Infra', 'Use', '', false, 1, 'Consumed units', 'USD', v.amount, 1, v.amount, now(),
                   NULL
              FROM generate_series(0, %(customers)s - 1) AS k
             CROSS JOIN generate_series(1, 2) AS s
              JOIN {t["customer"]} c ON c.domain = 'c' || k || '.bench-incentives.example'
             CROSS JOIN LATERAL (
                    SELECT (10000 + (k::bigint * 7907 + s) %% 900000)::numeric(18, 2) AS amount
             ) v
             WHERE k %% 5 = 0 AND (s = 1 OR k %% 10 = 0)
            """,
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {t["outcome"]} (organization_id, claim_id, transaction_id, linked_by_id, linked_at)
            SELECT c.organization_id, c.id, x.id, NULL, now()
              FROM {t["claim"]} c
              JOIN {t["activity"]} a ON a.id = c.activity_type_id AND a.pay_pattern = 'VARIABLE'
              JOIN bench_claim b ON 'CLM-B-' || lpad(b.n::text, 9, '0') = c.claim_id
             CROSS JOIN LATERAL (
                    VALUES ('BENCH-INC-' || b.k || '-1'),
                           (CASE WHEN b.a = 2 THEN 'BENCH-INC-' || b.k || '-2' END)
             ) w(transaction_id)
              JOIN {t["transaction"]} x ON x.transaction_id = w.transaction_id
            """,
            params,
        )
    vacuum()
    return written


def vacuum() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        for table in _tables().values():
            cursor.execute(f"VACUUM ANALYZE {table}")


def reset() -> None:
    """Every approved claim back to no payout (completed ones keep theirs), then VACUUM."""
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_tables()['claim']} SET approved_payout_usd = NULL WHERE status = 'Approved'"
            " AND claim_id LIKE 'CLM-B-%%'",
            [],
        )
    vacuum()


def fingerprint() -> tuple[int, int, str, Decimal]:
    """Claims with a payout, of them how many at 0, a digest of every payout, and their sum."""
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(approved_payout_usd), count(*) FILTER (WHERE approved_payout_usd = 0),
                   md5(string_agg(id || ':' || coalesce(approved_payout_usd::text, '-'), ',' ORDER BY id)),
                   sum(approved_payout_usd)
              FROM {_tables()["claim"]} WHERE claim_id LIKE 'CLM-B-%%'
            """,
            [],
        )
        return cursor.fetchone()


# --- The two runs -----------------------------------------------------------------------------------


def run_service() -> tuple[float, int]:
    from django.db import transaction  # noqa: PLC0415

    from incentives.services.payouts import claim_payouts_compute  # noqa: PLC0415

    started = time.perf_counter()
    with transaction.atomic():
        changed = claim_payouts_compute()
    return time.perf_counter() - started, changed


# The same payouts written by hand: rates joined by validity and picked with DISTINCT ON, each
# outcome transaction's share by a window count, the fiscal year by month, and the annual cap as
# "what is left of it after the earlier approvals".
REFERENCE_SQL = """
WITH base AS (
    SELECT c.id, c.organization_id, c.activity_type_id, c.status, c.market_tier, c.opportunity_id,
           c.approved_payout_usd, c.decided_at, (c.decided_at AT TIME ZONE %(tz)s)::date AS d
      FROM {claim} c
     WHERE c.status IN ('Approved', 'Completed') AND c.decided_at IS NOT NULL
),
rated AS (
    SELECT DISTINCT ON (b.id) b.*, r.fixed_fee_usd, r.rate, r.cap_per_claim_usd
      FROM base b
      LEFT JOIN {rate} r
        ON r.activity_type_id = b.activity_type_id AND r.market_tier IN (b.market_tier, 'A')
       AND r.valid_from <= b.d AND coalesce(r.valid_to, 'infinity') > b.d
     ORDER BY b.id, r.market_tier = b.market_tier DESC, r.valid_from DESC
),
shares AS (
    SELECT o.claim_id, t.transaction_amount_usd / count(*) OVER (PARTITION BY o.transaction_id) AS share
      FROM {outcome} o JOIN {transaction} t ON t.id = o.transaction_id
),
outcomes AS (SELECT claim_id, sum(share) AS value_usd FROM shares GROUP BY claim_id),
valued AS (
    SELECT r.id, r.status, r.organization_id, r.activity_type_id, r.decided_at, a.annual_cap_usd,
           CASE WHEN extract(month FROM r.d) >= 7 THEN extract(year FROM r.d)
                ELSE extract(year FROM r.d) - 1 END AS fiscal_year,
           CASE WHEN r.status = 'Completed' AND r.approved_payout_usd IS NOT NULL THEN r.approved_payout_usd
                WHEN a.pay_pattern = 'FIXED'
                    THEN greatest(0, coalesce(least(r.fixed_fee_usd, r.cap_per_claim_usd), 0))
                ELSE greatest(0, coalesce(least(
                    round(r.rate * coalesce(o.value_usd, op.estimated_value_usd, 0), 2),
                    r.cap_per_claim_usd), 0))
           END AS value
      FROM rated r
      JOIN {activity} a ON a.id = r.activity_type_id
      LEFT JOIN {opportunity} op ON op.id = r.opportunity_id
      LEFT JOIN outcomes o ON o.claim_id = r.id
),
paid AS (
    SELECT id, greatest(0, least(value, annual_cap_usd - coalesce(sum(value) OVER (
               PARTITION BY organization_id, activity_type_id, fiscal_year ORDER BY decided_at, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS payout
      FROM valued
)
UPDATE {claim} c SET approved_payout_usd = p.payout, updated_at = now()
  FROM paid p
 WHERE c.id = p.id AND c.status = 'Approved' AND c.approved_payout_usd IS DISTINCT FROM p.payout
"""


def run_reference() -> tuple[float, int]:
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection, transaction  # noqa: PLC0415

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL.format(**_tables()), {"tz": settings.TIME_ZONE})
        changed = cursor.rowcount
    return time.perf_counter() - started, changed


def run(rows: int) -> list[str]:
    """Build the data (Django must be set up), time both computations, return the BENCH line."""
    started = time.perf_counter()
    written = ensure_data(rows)
    info(f"data ready in {time.perf_counter() - started:.1f}s: {rows} claims ({written} written)")

    # Best of two, alternating, each from no payouts after a VACUUM: the machine may be shared.
    services, references = [], []
    for _ in range(REPEATS):
        reset()
        service, changed = run_service()
        service_print = fingerprint()
        services.append(service)
        info(
            f"claim_payouts_compute: {service:.2f}s, {changed} payouts written "
            f"({service_print[1]} at 0 under the annual cap), total USD {service_print[3]:,.2f}"
        )
        if changed == 0 or service_print[0] != rows:
            raise SystemExit(
                f"the service wrote {changed} payouts; {service_print[0]} of {rows} claims have one"
            )

        reset()
        reference, reference_changed = run_reference()
        reference_print = fingerprint()
        references.append(reference)
        info(f"reference SQL: {reference:.2f}s, {reference_changed} payouts written")
        if (reference_changed, reference_print) != (changed, service_print):
            raise SystemExit(
                f"the reference SQL and the service disagree: {reference_print} vs {service_print}"
            )
    info("both wrote the same payouts (fingerprints match)")
    service, reference = min(services), min(references)
    return [bench_line("incentives_payouts", service, "s", reference, "s", service / reference, "<=", TARGET)]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], default_rows=200_000, quick_rows=8_000)
    _common.setup_django({"DATABASE_URL": _common.bench_database_url(name=DATABASE)})
    run(args.rows)


if __name__ == "__main__":
    main()
