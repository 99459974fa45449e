"""Earnings: 24 months of transactions of the large partner's customers, two ledger rows per
transaction (the engagement's rebate or fee lever, and its co-op or growth lever), ineligible
transactions with every reason, payments per enrollment and month along their statuses, the
summary the cards read, exports and reconciliations.

Ledger month m (0 = 23 months ago … 23 = this month) holds transactions T·m/24 + 1 … T·(m+1)/24;
transaction t is line (k / C) mod 6 of customer k mod C, where k counts the month's transactions
and C the customers: each customer buys its main license, Teams Phone, Defender and Entra ID and
uses Azure every month. Earnings row n belongs to transaction (n + 1) / 2 through lever slot
(n - 1) mod 2; every fiftieth row is a manual adjustment instead (no transaction, lever or rate).
Rows of payment months before this one are paid (Sent), this month's are Upcoming, later ones
Unprocessed; co-op rows are never paid as cash.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from commerce.demo import MARKETS
from earnings.choices import (
    AdjustmentReason,
    EarningType,
    ExportStatus,
    IneligibleReason,
    PartnerAssociation,
    PartnerRole,
    PaymentStatus,
    ReconciliationLineKind,
    SolutionArea,
)
from earnings.models import (
    Earning,
    EarningRate,
    EarningSummary,
    Engagement,
    Enrollment,
    ExportJob,
    IneligibleTransaction,
    Lever,
    Payment,
    Program,
    Reconciliation,
    ReconciliationLine,
    Transaction,
    TransactionUpload,
)
from earnings.periods import add_months, month_start
from earnings.services.summary import summary_rebuild
from home.scale.base import (
    MONTHS,
    Chunk,
    Context,
    analyze,
    execute,
    fetch,
    history_append,
    insert_select,
    insert_sql,
)

__all__ = ("chunks", "earnings_vacuum", "vendor_levers")

PROGRAMS_FROM = date(2020, 7, 1)
LINES = 6
#: (product id, SKU, name, solution area index, USD per seat or None for usage).
PRODUCTS = [
    ("CFQ7TTC0LH18", "0001", "Microsoft 365 Business Basic", 1, "6.00"),
    ("CFQ7TTC0LCHC", "0002", "Microsoft 365 Business Premium", 1, "22.00"),
    ("CFQ7TTC0LFLZ", "0001", "Microsoft 365 E3", 1, "36.00"),
    ("CFQ7TTC0LF8S", "0002", "Office 365 A1 Plus", 1, "2.25"),
    ("CFQ7TTC0LFLZ", "0008", "Microsoft 365 E3 GCC", 1, "36.00"),
    ("CFQ7TTC0LFLZ", "0005", "Microsoft 365 E3 for nonprofits", 1, "18.00"),
    ("CFQ7TTC0HL73", "0001", "Microsoft Teams Phone with Calling Plan", 1, "8.00"),
    ("DZH318Z0BQ3Q", "0001", "Azure plan", 2, None),
    ("CFQ7TTC0LGN0", "0001", "Microsoft Defender for Endpoint P2", 3, "5.20"),
    ("CFQ7TTC0LFK5", "0001", "Microsoft Entra ID P2", 3, "9.00"),
]
#: Product (1-based) of each monthly line; line 0 is the customer's main license (by segment).
LINE_PRODUCTS = [0, 8, 9, 7, 10, 8]
MAIN_BY_SEGMENT = {"commercial": [1, 2, 3], "education": [4], "government": [5], "charity": [6]}
AREAS = [SolutionArea.MODERN_WORK, SolutionArea.AZURE_INFRA, SolutionArea.SECURITY]
#: Per area: (engagement id, partner role) of lever slot 0 and slot 1, and their rates.
LEVERS = {
    SolutionArea.MODERN_WORK: (
        ("MCI-CSP-MW", PartnerRole.TRANSACT, "0.04"),
        ("COOP-MW", PartnerRole.TRANSACT, "0.01"),
    ),
    SolutionArea.AZURE_INFRA: (
        ("MCI-AZ-CONS", PartnerRole.USE, "0.06"),
        ("MCI-AZ-GROWTH", PartnerRole.USE, "0.02"),
    ),
    SolutionArea.SECURITY: (
        ("MCI-SEC-GRW", PartnerRole.TRANSACT, "0.08"),
        ("COOP-SEC", PartnerRole.TRANSACT, "0.01"),
    ),
}
#: Engagements the large partner earns on that the demo catalogue lacks.
EXTRA_ENGAGEMENTS = [
    ("MCI-AZ-GROWTH", "MCI", "Azure Growth Accelerator", SolutionArea.AZURE_INFRA, "Azure growth – PAL",
     PartnerRole.USE, PartnerAssociation.PAL_OWNER, EarningType.FEE, ["DZH318Z0BQ3Q"], "0.02"),
    ("COOP-SEC", "COOP", "Co-op – Security", SolutionArea.SECURITY, "Co-op – Security",
     PartnerRole.TRANSACT, "", EarningType.COOP, ["CFQ7TTC0LGN0", "CFQ7TTC0LFK5"], "0.01"),
]  # fmt: skip
#: Enrollment cases: the PL location's tax profile is missing, the US location holds its payments.
NO_TAX, HOLD = "PL", "US"


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    per_month = plan.transactions / MONTHS
    result = [Chunk("earnings.enrollments", 1, lambda: _enrollments(ctx))]
    for month in range(MONTHS):
        first, last = round(per_month * month) + 1, round(per_month * (month + 1))
        size = min(plan.earnings, 2 * last) - min(plan.earnings, 2 * first - 2)
        result.append(
            Chunk(
                f"earnings.ledger.{month + 1:02d}",
                size,
                lambda m=month, a=first, b=last: _ledger(ctx, m, a, b),
            )
        )
    result += [
        Chunk("earnings.summary", 1, lambda: _summary_and_payments(ctx)),
        Chunk("earnings.extras", 1, lambda: _extras(ctx)),
    ]
    return result


# --- Vendor data ------------------------------------------------------------------------------------


def vendor_levers() -> None:
    """The two engagements the large partner earns on beyond the demo catalogue, with their lever
    and rates; idempotent (after `earnings_demo_programs`)."""
    programs = {program.code: program for program in Program.objects.filter(code__in=["MCI", "COOP"])}
    for (
        code,
        program,
        name,
        area,
        lever_name,
        role,
        association,
        earning_type,
        products,
        rate,
    ) in EXTRA_ENGAGEMENTS:
        engagement, _ = Engagement.objects.get_or_create(
            engagement_id=code,
            defaults={
                "program": programs[program],
                "name": name,
                "solution_area": area,
                "starts_on": PROGRAMS_FROM,
            },
        )
        lever, _ = Lever.objects.get_or_create(
            engagement=engagement,
            partner_role=role,
            defaults={"name": lever_name, "partner_association": association, "earning_type": earning_type},
        )
        for product_id in products:
            EarningRate.objects.get_or_create(
                lever=lever,
                product_id=product_id,
                segment="",
                valid_from=PROGRAMS_FROM,
                defaults={"rate": Decimal(rate)},
            )


def earnings_vacuum() -> None:
    """VACUUM ANALYZE the tables the earnings pages and lists join.

    Autovacuum may be off, and benches and seeds write millions of rows of these tables. PostgreSQL's
    planner probes the ends of the join columns' indexes for the actual minimum and maximum, stepping
    over every dead entry there: with a million dead rows it spent ~13 ms planning a 1 ms list query.
    A VACUUM of a clean table only reads its visibility map. Inside a transaction (a test), only
    ANALYZE runs.
    """
    models = (Earning, Transaction, Enrollment, Program, Engagement, Lever, Payment, EarningSummary)
    models += (IneligibleTransaction,)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"{command} {model._meta.db_table}")


# --- Enrollments and payments -----------------------------------------------------------------------


def _months(ctx: Context) -> list[date]:
    current = month_start(ctx.plan.today)
    return [add_months(current, offset - MONTHS + 1) for offset in range(MONTHS)]


def _enrollments(ctx: Context) -> int:
    """Every location enrolled in MCI and Co-op; one MCI payment per location and payment month up
    to this one (Sent before this month, Upcoming now; the PL location's last three wait for its tax
    invoice)."""
    programs = {program.code: program for program in Program.objects.filter(code__in=["MCI", "COOP"])}
    for location in ctx.locations:
        currency = MARKETS.get(location.country, ("EUR",))[0]
        for code, program in programs.items():
            Enrollment.objects.get_or_create(
                participant_id=location.partner_id,
                program=program,
                defaults={
                    "organization": ctx.organization,
                    "location": location,
                    "participant_name": location.name,
                    "enrolled_from": PROGRAMS_FROM,
                    "payment_currency": currency,
                    "bank_profile_ok": True,
                    "tax_profile_ok": location.country != NO_TAX,
                    "hold_payment": location.country == HOLD and code == "MCI",
                    "sales_tax_rate": Decimal("0.19") if location.country == "DE" else Decimal(0),
                },
            )
    current = month_start(ctx.plan.today)
    first = add_months(_months(ctx)[0], programs["MCI"].payment_lag_months)
    return insert_select(
        Payment,
        {
            "organization": "%(org)s",
            "payment_id": "%(prefix)s || '-P' || e.id || '-' || to_char(m, 'YYYYMM')",
            "enrollment": "e.id",
            "program": "e.program_id",
            "payment_month": "m::date",
            "status": """CASE WHEN m::date = %(current)s THEN %(upcoming)s
                              WHEN l.country = %(no_tax)s AND m::date >= %(current)s - interval '3 months'
                                  THEN %(tax_pending)s
                              WHEN l.country = %(hold)s AND m::date >= %(current)s - interval '2 months'
                                  THEN %(upcoming)s
                              ELSE %(sent)s END""",
            "currency": "e.payment_currency",
            "payment_date": "CASE WHEN m::date < %(current)s - interval '3 months' OR "
            "(l.country NOT IN (%(no_tax)s, %(hold)s) AND m::date < %(current)s) THEN (m + interval "
            "'24 days')::date END",
            "ci_reference_number": "'CI' || lpad((e.id * 1000 + extract(month FROM m))::text, 8, '0')",
            "created_at": "m::timestamptz",
            "updated_at": "m::timestamptz + interval '24 days'",
        },
        """FROM earnings_enrollment e
           JOIN accounts_partnerlocation l ON l.id = e.location_id
           JOIN earnings_program p ON p.id = e.program_id AND p.code = 'MCI'
           CROSS JOIN generate_series(%(first)s::date, %(current)s::date, interval '1 month') AS m
          WHERE e.organization_id = %(org)s""",
        {
            "org": ctx.org,
            "prefix": ctx.plan.prefix,
            "first": first,
            "current": current,
            "upcoming": PaymentStatus.UPCOMING,
            "tax_pending": PaymentStatus.TAX_INVOICE_PENDING,
            "sent": PaymentStatus.SENT,
            "no_tax": NO_TAX,
            "hold": HOLD,
        },
        conflict="ON CONFLICT (payment_id) DO NOTHING",
    )


# --- The ledger ----------------------------------------------------------------------------------------


def _lever_arrays() -> dict[str, list]:
    """Per area and slot (position 2·area + slot, 1-based): lever, engagement, program code,
    earning type, partner role and association, rate."""
    levers = {
        (lever.engagement.engagement_id, lever.partner_role): lever
        for lever in Lever.objects.select_related("engagement__program")
    }
    arrays: dict[str, list] = {key: [] for key in ("lv", "eg", "pg", "pc", "et", "role", "assoc", "rate")}
    for area in AREAS:
        for engagement_id, role, rate in LEVERS[area]:
            lever = levers[engagement_id, role]
            arrays["lv"].append(lever.pk)
            arrays["eg"].append(lever.engagement_id)
            arrays["pg"].append(lever.engagement.program_id)
            arrays["pc"].append(lever.engagement.program.code)
            arrays["et"].append(lever.earning_type)
            arrays["role"].append(lever.partner_role)
            arrays["assoc"].append(lever.partner_association)
            arrays["rate"].append(Decimal(rate))
    return arrays


def _ledger_params(ctx: Context) -> dict:
    locations = ctx.locations
    currencies = [MARKETS.get(location.country, ("EUR", "0.92"))[0] for location in locations]
    per_usd = [Decimal(MARKETS.get(location.country, ("EUR", "0.92"))[1]) for location in locations]
    enrollments = {
        (location_id, code): pk
        for pk, location_id, code in Enrollment.objects.filter(organization=ctx.organization).values_list(
            "pk", "location_id", "program__code"
        )
    }
    return {
        "org": ctx.org,
        "prefix": ctx.plan.prefix,
        "customers": ctx.plan.customers,
        "earnings": ctx.plan.earnings,
        "today": ctx.plan.today,
        "current": month_start(ctx.plan.today),
        "location_ids": [location.pk for location in locations],
        "currencies": currencies,
        "per_usd": per_usd,
        "enr_mci": [enrollments[location.pk, "MCI"] for location in locations],
        "enr_coop": [enrollments[location.pk, "COOP"] for location in locations],
        "p_id": [product[0] for product in PRODUCTS],
        "p_sku": [product[1] for product in PRODUCTS],
        "p_name": [product[2] for product in PRODUCTS],
        "p_area": [product[3] for product in PRODUCTS],
        "p_usd": [Decimal(product[4]) if product[4] else None for product in PRODUCTS],
        "areas": [str(area) for area in AREAS],
        "line_products": LINE_PRODUCTS,
        "main_commercial": MAIN_BY_SEGMENT["commercial"],
        "main_by_segment": [
            MAIN_BY_SEGMENT[s][0] for s in ("commercial", "education", "government", "charity")
        ],
        "segments": ["commercial", "education", "government", "charity"],
        "reasons": [str(reason) for reason in AdjustmentReason],
        "ineligible": [str(reason) for reason in IneligibleReason],
        "lines": LINES,
        **_lever_arrays(),
    }


def _transaction_values(kind: str) -> dict[str, str]:
    """Transaction columns over `x` (k, customer `c`, line product `p`, month `mo`) for `kind` T or X."""
    return {
        "organization": "%(org)s",
        "transaction_id": f"%(prefix)s || '-{kind}' || x.t",
        "transaction_date": "x.day",
        "transaction_type": "CASE WHEN x.usage THEN 'usage' WHEN x.t %% 97 = 0 THEN 'refund' ELSE "
        "'purchase' END",
        "source": "CASE WHEN x.usage THEN 'upload' ELSE 'commerce' END",
        "location": "(%(location_ids)s::bigint[])[x.loc]",
        "customer": "x.customer_id",
        "customer_name": "x.customer_name",
        "customer_tenant_id": "x.tenant_id::text",
        "customer_country": "x.country",
        "customer_segment": "x.segment",
        "product_id": "(%(p_id)s::text[])[x.p]",
        "sku_id": "(%(p_sku)s::text[])[x.p]",
        "product_name": "(%(p_name)s::text[])[x.p]",
        "subscription_id": "md5(%(prefix)s || ':sub:' || x.customer_id || ':' || x.line)::uuid::text",
        "invoice_number": "'G' || %(prefix)s || to_char(x.mo, 'YYYYMM') || x.loc",
        "solution_area": "(%(areas)s::text[])[x.area]",
        "partner_role": "CASE WHEN x.usage THEN 'Use' ELSE 'Transact' END",
        "partner_association": "CASE WHEN x.usage THEN 'PAL owner' ELSE 'Reseller' END",
        "is_trial": "false",
        "quantity": "x.seats",
        "quantity_type": "CASE WHEN x.usage THEN 'Consumed units' ELSE 'Billed quantity' END",
        "transaction_currency": "x.currency",
        "transaction_amount": "x.amount",
        "transaction_exchange_rate": "x.fx",
        "transaction_amount_usd": "round(x.amount * x.fx, 2)",
        "created_at": "x.day + interval '1 day 6 hours'",
    }


def _transaction_source(first: str, last: str, month_first: str) -> str:
    """Rows `x` of transactions `first` … `last` (k counted from `month_first`)."""
    return f"""WITH c AS (
            SELECT cu.id AS customer_id, cu.name AS customer_name, cu.tenant_id, cu.country, cu.segment,
                   cu.employee_count, cu.idx,
                   coalesce(array_position(%(location_ids)s::bigint[], cu.location_id), 1) AS loc,
                   coalesce(array_position(%(segments)s::text[], cu.segment), 1) AS seg
              FROM (SELECT id, name, tenant_id, country, segment, location_id, employee_count,
                           row_number() OVER (ORDER BY id) - 1 AS idx
                      FROM accounts_customer WHERE organization_id = %(org)s) cu),
        x AS (
            SELECT t, c.*, mo, line, p, (%(p_area)s::int[])[p] AS area, usage,
                   least(mo + ((t * 7) %% 28)::int, %(today)s::date) AS day,
                   CASE WHEN usage THEN 'USD' ELSE (%(currencies)s::text[])[c.loc] END AS currency,
                   CASE WHEN usage THEN 1 ELSE round(1 / (%(per_usd)s::numeric[])[c.loc], 8) END AS fx,
                   CASE WHEN usage THEN 200 + (t * 31) %% 4800
                        ELSE greatest(1, least(2000, coalesce(c.employee_count, 60) / 2)) END AS seats,
                   CASE WHEN usage THEN round(400 + ((t * 7919) %% 860000) / 100.0, 2)
                        ELSE round((%(p_usd)s::numeric[])[p]
                                   * greatest(1, least(2000, coalesce(c.employee_count, 60) / 2))
                                   * (%(per_usd)s::numeric[])[c.loc], 2) END
                   * CASE WHEN t %% 97 = 0 THEN -1 ELSE 1 END AS amount
              FROM generate_series(({first})::bigint, ({last})::bigint) AS t
              CROSS JOIN LATERAL (SELECT t - {month_first} AS k) kk
              JOIN c ON c.idx = kk.k %% %(customers)s
              CROSS JOIN LATERAL (SELECT (kk.k / %(customers)s) %% %(lines)s AS line) li
              CROSS JOIN LATERAL (SELECT
                  CASE WHEN li.line = 0 THEN
                      CASE WHEN c.seg = 1 THEN (%(main_commercial)s::int[])[1 + c.idx %% 3]
                           ELSE (%(main_by_segment)s::int[])[c.seg] END
                  ELSE (%(line_products)s::int[])[1 + li.line] END AS p) pp
              CROSS JOIN LATERAL (SELECT (%(p_usd)s::numeric[])[pp.p] IS NULL AS usage) u
              CROSS JOIN LATERAL (SELECT %(month)s::date AS mo) mm)
        FROM x"""


def _ledger(ctx: Context, month: int, first: int, last: int) -> int:
    """Month `month`'s transactions `first` … `last`, their earnings and the month's ineligible
    transactions, in three statements (each transaction insert feeds its dependants' insert)."""
    params = _ledger_params(ctx)
    params["month"] = _months(ctx)[month]
    # --- transactions and their two ledger rows
    tx_sql, tx_params = insert_sql(
        Transaction,
        _transaction_values("T"),
        _transaction_source("%(first)s", "%(last)s", "%(first)s"),
        params,
        returning="RETURNING *",
    )
    earning_values = {
        "organization": "%(org)s",
        "earning_id": "%(prefix)s || '-E' || e.n",
        "kind": "CASE WHEN e.adjustment THEN 'adjustment' ELSE 'earning' END",
        "reason_code": "CASE WHEN e.adjustment THEN (%(reasons)s::text[])[1 + (e.n / 50) %% "
        "cardinality(%(reasons)s::text[])] ELSE '' END",
        "note": "CASE WHEN e.adjustment THEN 'Corrected after the quarterly review.' ELSE '' END",
        "enrollment": "e.enrollment_id",
        "program": "(%(pg)s::bigint[])[e.lv]",
        "engagement": "CASE WHEN e.adjustment THEN NULL ELSE (%(eg)s::bigint[])[e.lv] END",
        "lever": "CASE WHEN e.adjustment THEN NULL ELSE (%(lv)s::bigint[])[e.lv] END",
        "transaction": "CASE WHEN e.adjustment THEN NULL ELSE e.id END",
        "revision": "1",
        "claim_id": "''",
        "earning_type": "(%(et)s::text[])[e.lv]",
        "earning_rate": "CASE WHEN e.adjustment THEN NULL ELSE (%(rate)s::numeric[])[e.lv] END",
        "earning_amount": "round(e.transaction_amount * (%(rate)s::numeric[])[e.lv] * e.sign, 6)",
        "currency": "e.transaction_currency",
        "earning_exchange_rate": "e.transaction_exchange_rate",
        "exchange_rate_date": "e.transaction_date",
        "earning_amount_usd": "round(e.transaction_amount_usd * (%(rate)s::numeric[])[e.lv] * e.sign, 6)",
        "earning_date": "e.transaction_date",
        "calculation_date": "least(e.transaction_date + 18, %(today)s::date)",
        "estimated_payment_month": "e.payment_month",
        "payment": "pay.id",
        "payment_status": "coalesce(pay.status, 'Unprocessed')",
        "solution_area": "e.solution_area",
        "partner_role": "CASE WHEN e.adjustment THEN '' ELSE (%(role)s::text[])[e.lv] END",
        "partner_association": "CASE WHEN e.adjustment THEN '' ELSE (%(assoc)s::text[])[e.lv] END",
        "customer": "e.customer_id",
        "customer_name": "e.customer_name",
        "product_id": "e.product_id",
        "product_name": "e.product_name",
        "created_at": "least(e.transaction_date + 18, %(today)s::date)::timestamptz + interval '2 hours'",
    }
    ledger_source = f"""WITH tx AS ({tx_sql}),
        e AS (
            SELECT tx.*, n, n %% 50 = 0 AS adjustment, CASE WHEN n %% 50 = 0 THEN -0.5 ELSE 1 END AS sign,
                   lv, enr.enrollment_id,
                   CASE WHEN (%(pc)s::text[])[lv] = 'COOP' THEN NULL
                        ELSE (date_trunc('month', tx.transaction_date) + interval '3 months')::date END AS
                            payment_month
              FROM tx
              CROSS JOIN generate_series(0, 1) AS slot
              CROSS JOIN LATERAL (SELECT
                  substr(tx.transaction_id, length(%(prefix)s) + 3)::bigint * 2 - 1 + slot AS n,
                  2 * array_position(%(areas)s::text[], tx.solution_area::text) - 1 + slot AS lv,
                  array_position(%(location_ids)s::bigint[], tx.location_id) AS loc) nl
              CROSS JOIN LATERAL (SELECT CASE WHEN (%(pc)s::text[])[nl.lv] = 'COOP'
                                              THEN (%(enr_coop)s::bigint[])[nl.loc]
                                              ELSE (%(enr_mci)s::bigint[])[nl.loc]
                                         END AS enrollment_id) enr
             WHERE nl.n <= %(earnings)s)
        FROM e
        LEFT JOIN earnings_payment pay ON pay.enrollment_id = e.enrollment_id AND pay.payment_month =
            e.payment_month"""
    written = insert_select(
        Earning, earning_values, ledger_source, {**tx_params, "first": first, "last": last}
    )
    # --- this month's ineligible transactions, one reason each
    x_count = ctx.plan.ineligible_transactions
    x_first = round(x_count / MONTHS * month) + 1
    x_last = round(x_count / MONTHS * (month + 1))
    if x_last >= x_first:
        x_sql, x_params = insert_sql(
            Transaction,
            _transaction_values("X"),
            _transaction_source("%(first)s", "%(last)s", "%(first)s"),
            params,
            returning="RETURNING *",
        )
        insert_select(
            IneligibleTransaction,
            {
                "organization": "%(org)s",
                "transaction": "tx.id",
                "engagement": "(%(eg)s::bigint[])[2 * array_position(%(areas)s::text[], "
                "tx.solution_area::text) - 1]",
                "program": "(%(pg)s::bigint[])[2 * array_position(%(areas)s::text[], "
                "tx.solution_area::text) - 1]",
                "reason_code": "(%(ineligible)s::text[])[1 + substr(tx.transaction_id, length(%(prefix)s) + "
                "3)::bigint"
                " %% cardinality(%(ineligible)s::text[])]",
                "calculation_date": "least(tx.transaction_date + 18, %(today)s::date)",
            },
            f"WITH tx AS ({x_sql}) FROM tx",
            {**x_params, "first": x_first, "last": x_last},
        )
    return written


# --- Summary, payment totals and history ---------------------------------------------------------------


def _summary_and_payments(ctx: Context) -> int:
    analyze(Transaction, Earning, IneligibleTransaction, Payment)
    summary_rebuild([ctx.org])
    # Each payment: its rows' USD in the payment's currency, plus the location's sales tax.
    rates = {currency: Decimal(rate) for currency, rate in MARKETS.values()}
    execute(
        """UPDATE earnings_payment p
              SET earned_usd = s.usd,
                  earned = round(s.usd * r.per_usd, 2),
                  sales_tax = round(s.usd * r.per_usd * e.sales_tax_rate, 2),
                  total_payment = round(s.usd * r.per_usd * (1 + e.sales_tax_rate), 2)
             FROM (SELECT payment_id, sum(earning_amount_usd) AS usd
                     FROM earnings_earning WHERE organization_id = %(org)s AND payment_id IS NOT NULL
                    GROUP BY payment_id) s,
                  earnings_enrollment e,
                  unnest(%(currencies)s::text[], %(rates)s::numeric[]) AS r(currency, per_usd)
            WHERE p.id = s.payment_id AND e.id = p.enrollment_id AND r.currency = p.currency""",
        {"org": ctx.org, "currencies": list(rates), "rates": list(rates.values())},
    )
    return history_append(
        Payment,
        """SELECT organization_id, id, created_at, NULL, '', 'Upcoming', 'Payment order generated.'
             FROM earnings_payment WHERE organization_id = %(org)s
           UNION ALL
           SELECT organization_id, id, created_at + interval '20 days', NULL, 'Upcoming', status, ''
             FROM earnings_payment WHERE organization_id = %(org)s AND status <> 'Upcoming' AND status <>
                 'Sent'
           UNION ALL
           SELECT organization_id, id, created_at + interval '20 days', NULL, 'Upcoming', 'In progress', ''
             FROM earnings_payment WHERE organization_id = %(org)s AND status = 'Sent'
           UNION ALL
           SELECT organization_id, id, created_at + interval '24 days', NULL, 'In progress', 'Sent', ''
             FROM earnings_payment WHERE organization_id = %(org)s AND status = 'Sent'""",
        {"org": ctx.org},
    )


# --- Uploads, exports, reconciliations ---------------------------------------------------------------


def _extras(ctx: Context) -> int:
    owner = ctx.owner
    params = {"org": ctx.org, "owner": owner.pk, "prefix": ctx.plan.prefix, "months": MONTHS}
    insert_select(
        TransactionUpload,
        {
            "organization": "%(org)s",
            "file_name": "'azure-usage-' || to_char(now() - m * interval '1 month', 'YYYY-MM') || '.csv'",
            "row_count": "1000 + (m * 7919) %% 9000",
            "uploaded_by": "NULL",
            "uploaded_at": "now() - m * interval '1 month'",
        },
        "FROM generate_series(0, %(months)s - 1) AS m",
        params,
    )
    insert_select(
        ExportJob,
        {
            "organization": "%(org)s",
            "export_id": ctx.plan.uuid_sql("export", "x"),
            "report": "(ARRAY['earnings', 'transactions', 'payments', 'ineligible'])[1 + x %% 4]",
            "file_format": "CASE WHEN x %% 3 = 0 THEN 'xlsx' ELSE 'csv' END",
            "filters": "jsonb_build_object('estimatedPaymentMonth', to_char(now() - x * interval '1 month', "
            "'YYYY-MM'))",
            "status": f"CASE WHEN x %% 9 = 4 THEN '{ExportStatus.FAILED}' ELSE '{ExportStatus.COMPLETED}' "
            "END",
            "row_count": "CASE WHEN x %% 9 = 4 THEN 0 ELSE 50000 + (x * 7919) %% 200000 END",
            "file_path": "''",
            "file_size": "0",
            "error": "CASE WHEN x %% 9 = 4 THEN 'The export ran out of time; request it again.' ELSE '' END",
            "requested_by": "%(owner)s",
            "requested_at": "now() - x * interval '9 days'",
            "completed_at": "now() - x * interval '9 days' + interval '6 minutes'",
            # Completed exports are kept seven days: older files are gone.
            "expires_at": "now() - x * interval '9 days' + interval '7 days'",
        },
        "FROM generate_series(1, 40) AS x",
        params,
    )
    payments = [row[0] for row in fetch(
        "SELECT id FROM earnings_payment WHERE organization_id = %s AND status = 'Sent' ORDER BY "
        "payment_month DESC, id LIMIT 6",
        [ctx.org],
    )]  # fmt: skip
    for number, payment_id in enumerate(payments):
        reconciliation = Reconciliation.objects.create(
            organization=ctx.organization,
            file_name=f"erp-payments-{number + 1}.csv",
            column_mapping={"transactionId": "Transaction", "amount": "Amount"},
            payment_id=Payment.objects.get(pk=payment_id).payment_id,
            created_by=owner,
        )
        insert_select(
            ReconciliationLine,
            {
                "organization": "%(org)s",
                "reconciliation": "%(rec)s",
                "kind": "(%(kinds)s::text[])[k]",
                "row_number": "CASE WHEN k = 4 THEN NULL ELSE e.rn END",
                "earning": "CASE WHEN k = 3 THEN NULL ELSE e.id END",
                "transaction_id": "coalesce(t.transaction_id, '')",
                "invoice_number": "coalesce(t.invoice_number, '')",
                "customer_name": "e.customer_name",
                "product_id": "e.product_id",
                "currency": "e.currency",
                "partner_amount": "CASE WHEN k = 4 THEN NULL WHEN k = 2 THEN e.earning_amount + 1.5 ELSE "
                "e.earning_amount END",
                "portal_amount": "CASE WHEN k = 3 THEN NULL ELSE e.earning_amount END",
                "difference": "CASE WHEN k = 2 THEN 1.5 END",
                "partner_row": "jsonb_build_object('Transaction', coalesce(t.transaction_id, ''), 'Amount', "
                "e.earning_amount::text)",
            },
            """FROM (SELECT id, customer_name, product_id, currency, earning_amount, transaction_id,
                            row_number() OVER (ORDER BY id) AS rn
                       FROM earnings_earning WHERE payment_id = %(payment)s ORDER BY id LIMIT 400) e
               LEFT JOIN earnings_transaction t ON t.id = e.transaction_id
               CROSS JOIN LATERAL (SELECT CASE WHEN e.rn %% 20 = 0 THEN 2 WHEN e.rn %% 33 = 0 THEN 3
                                                WHEN e.rn %% 41 = 0 THEN 4 ELSE 1 END AS k) kind""",
            {
                "org": ctx.org,
                "rec": reconciliation.pk,
                "payment": payment_id,
                "kinds": [
                    ReconciliationLineKind.MATCHED,
                    ReconciliationLineKind.AMOUNT_DIFFERENCE,
                    ReconciliationLineKind.PARTNER_ONLY,
                    ReconciliationLineKind.PORTAL_ONLY,
                ],
            },
        )
        counts = dict(
            ReconciliationLine.objects.filter(reconciliation=reconciliation)
            .values_list("kind")
            .annotate(n=Count("id"))
        )
        Reconciliation.objects.filter(pk=reconciliation.pk).update(
            matched_count=counts.get(ReconciliationLineKind.MATCHED, 0),
            difference_count=counts.get(ReconciliationLineKind.AMOUNT_DIFFERENCE, 0),
            partner_only_count=counts.get(ReconciliationLineKind.PARTNER_ONLY, 0),
            portal_only_count=counts.get(ReconciliationLineKind.PORTAL_ONLY, 0),
        )
    return 1
