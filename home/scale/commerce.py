"""Commerce: ten legacy and ten new-commerce subscriptions per customer, and one legacy → new
commerce migration per customer (most completed, in batches), on the demo seed's catalog.

Customer c's subscriptions are rows n = 10c + 1 … 10c + 10 (slot s = n - 1 mod 10). A commercial
customer holds its main license yearly and monthly, the other Microsoft 365 plans, a Business Voice
subscription (no new-commerce equivalent), a trial, and a Business Premium base with a Teams Phone
add-on; a public-sector customer holds its segment's license. Its first new-commerce subscription
is the first legacy one migrated (when that migration completed).
"""

from __future__ import annotations

from decimal import Decimal

from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.demo import AVAILABILITIES, MARKETS, offer_id_for
from commerce.models import (
    Availability,
    LegacyOffer,
    LegacySubscription,
    Migration,
    MigrationBatch,
    NceSubscription,
)
from home.scale.base import MONTHS, Chunk, Context, analyze, execute, fetch, history_append, insert_select

__all__ = ("chunks",)

SLOTS = 10
SEGMENTS = ["commercial", "education", "government", "charity"]
#: Legacy offer per slot of a commercial customer; "main" is the customer's main license.
COMMERCIAL_LEGACY = ["main", "main", "premium", "e3", "basic", "business_voice", "premium_trial", "basic",
                     "premium", "teams_phone"]  # fmt: skip
MAIN = ["basic", "premium", "e3"]
PUBLIC_LEGACY = {"education": "a1_faculty", "government": "e3_gcc", "charity": "e3_charity"}
#: New-commerce availability of each legacy main license and public-sector offer (P1Y).
EQUIVALENT = {
    "basic": "CFQ7TTC0KBY1",
    "premium": "CFQ7TTC0KFFN",
    "e3": "CFQ7TTC0KEY1",
    "a1_faculty": "CFQ7TTC0KED1",
    "e3_gcc": "CFQ7TTC0KGC1",
    "e3_charity": "CFQ7TTC0KNP1",
}
#: The other slots of a commercial customer cycle through these.
COMMERCIAL_NCE = ["CFQ7TTC0KBM1", "CFQ7TTC0KBY1", "CFQ7TTC0KPM1", "CFQ7TTC0KFFN", "CFQ7TTC0KPY3",
                  "CFQ7TTC0KTR1", "CFQ7TTC0KEM1", "CFQ7TTC0KEY1", "CFQ7TTC0KTM1", "CFQ7TTC0KTY1"]  # fmt: skip
BATCH_SIZE = 50
#: Migration k's status by k mod 20: fifteen in twenty completed.
MIGRATION_STATUSES = [MigrationStatus.COMPLETED] * 12 + [
    MigrationStatus.FAILED,
    MigrationStatus.FAILED,
    MigrationStatus.PROCESSING,
    MigrationStatus.VALIDATING,
    MigrationStatus.REJECTED,
    MigrationStatus.COMPLETED,
    MigrationStatus.COMPLETED,
    MigrationStatus.COMPLETED,
]


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    return [
        Chunk("commerce.legacy", plan.legacy_subscriptions, lambda: _legacy(ctx)),
        Chunk("commerce.nce", plan.nce_subscriptions, lambda: _nce(ctx)),
        Chunk("commerce.migrations", plan.migrations, lambda: _migrations(ctx)),
    ]


def _location_money(ctx: Context) -> dict[str, list]:
    """Per location (array position = location order): its billing currency and rate per USD."""
    currencies, rates, ids = [], [], []
    for location in ctx.locations:
        currency, rate = MARKETS.get(location.country, ("EUR", "0.92"))
        ids.append(location.pk)
        currencies.append(currency)
        rates.append(Decimal(rate))
    return {"location_ids": ids, "currencies": currencies, "rates": rates}


def _customers(ctx: Context) -> str:
    """CTE `c`: the customers numbered from 0, with their segment's and location's positions."""
    return f"""c AS (
        SELECT cu.*, array_position(%(segments)s::text[], cu.segment) AS seg,
               coalesce(array_position(%(location_ids)s::bigint[], cu.location_id), 1) AS loc
          FROM ({ctx.customers_sql()}) cu)"""


def _legacy(ctx: Context) -> int:
    plan = ctx.plan
    # Offer of slot s for a customer: commercial slots from COMMERCIAL_LEGACY ("main" by c mod 3),
    # public-sector customers their segment's offer.
    keys = sorted({*MAIN, *COMMERCIAL_LEGACY, *PUBLIC_LEGACY.values()} - {"main"})
    offers = [str(offer_id_for(key)) for key in keys]
    commercial = [keys.index(key) + 1 if key != "main" else 0 for key in COMMERCIAL_LEGACY]
    public = [0, *(keys.index(PUBLIC_LEGACY[segment]) + 1 for segment in SEGMENTS[1:])]
    main = [keys.index(key) + 1 for key in MAIN]
    params = {
        "org": ctx.org,
        "segments": SEGMENTS,
        "location_ids": [location.pk for location in ctx.locations],
        "offers": offers,
        "names": [LegacyOffer.objects.get(pk=offer).name for offer in offers],
        "commercial": commercial,
        "public": public,
        "main": main,
        "trial": keys.index("premium_trial") + 1,
        "today": plan.today,
        "per": SLOTS,
        "customers": plan.customers,
        "count": plan.legacy_subscriptions,
        "prefix": plan.prefix,
    }
    source = f"""WITH {_customers(ctx)},
        rows AS (
            SELECT n, (n - 1) %% %(per)s AS slot, c.*,
                   CASE WHEN c.seg > 1 THEN (%(public)s::int[])[c.seg]
                        WHEN (%(commercial)s::int[])[1 + (n - 1) %% %(per)s] = 0
                            THEN (%(main)s::int[])[1 + c.idx %% 3]
                        ELSE (%(commercial)s::int[])[1 + (n - 1) %% %(per)s] END AS offer,
                   (n * 7919) %% 100 AS h
              FROM generate_series(1, %(count)s::bigint) AS n
              JOIN c ON c.idx = ((n - 1) / %(per)s) %% %(customers)s)
        FROM rows r"""
    values = {
        "organization": "%(org)s",
        "subscription_id": plan.uuid_sql("legacy", "r.n"),
        "customer": "r.id",
        "offer": "(%(offers)s::uuid[])[r.offer]",
        "friendly_name": "replace((%(names)s::text[])[r.offer], ' (legacy)', '') || ' – ' || r.name",
        "quantity": """CASE WHEN r.offer = %(trial)s THEN 25
                            ELSE greatest(1, least(300, coalesce(r.employee_count, 40) / (2 + r.slot)))
                       END""",
        "term_duration": "CASE WHEN r.slot IN (1, 6) THEN 'P1M' ELSE 'P1Y' END",
        "billing_cycle": """CASE WHEN r.offer = %(trial)s THEN 'None'
                                 WHEN r.slot IN (1, 6) OR r.h %% 3 > 0 THEN 'Monthly' ELSE 'Annual' END""",
        "term_start": "(t.term_end - CASE WHEN r.slot IN (1, 6) THEN interval '1 month' ELSE interval "
        "'1 year' END"
        " + interval '1 day')::date",
        "term_end": "t.term_end",
        "auto_renew": "r.h %% 10 <> 0",
        "status": f"""CASE WHEN r.h < 80 THEN '{SubscriptionStatus.ACTIVE}'
                           WHEN r.h < 88 THEN '{SubscriptionStatus.SUSPENDED}'
                           WHEN r.h < 95 THEN '{SubscriptionStatus.CANCELLED}'
                           ELSE '{SubscriptionStatus.DELETED}' END""",
        "is_trial": "r.offer = %(trial)s",
        "created_at": "(t.term_end - interval '1 year' - (r.h %% 30) * interval '1 day')::timestamptz",
    }
    # Term ends spread over the next year (a monthly term within the next four weeks).
    source += """ CROSS JOIN LATERAL (SELECT %(today)s::date + (CASE WHEN r.slot IN (1, 6)
                      THEN 1 + r.n %% 27 ELSE 3 + (r.n * 13) %% 360 END)::int AS term_end) t"""
    written = insert_select(LegacySubscription, values, source + " WHERE r.slot <> 9", params)
    # The Teams Phone add-ons of commercial customers hang on their Business Premium base (slot 8).
    values["parent"] = "base.id"
    written += insert_select(
        LegacySubscription,
        values,
        source
        + " JOIN commerce_legacysubscription base ON base.subscription_id = "
        + plan.uuid_sql("legacy", "r.n - 1")
        + " WHERE r.slot = 9",
        params,
    )
    return written


def _offerings() -> dict[str, list]:
    """Availabilities as arrays: id, catalog item id, term, first billing plan, USD price."""
    usd = {demo.availability_id: demo.usd_prices for demo in AVAILABILITIES}
    rows = list(Availability.objects.select_related("sku").order_by("availability_id"))
    return {
        "av_codes": [row.availability_id for row in rows],
        "av_ids": [row.pk for row in rows],
        "av_items": [row.catalog_item_id for row in rows],
        "av_terms": [row.term_duration for row in rows],
        "av_billing": [row.billing_plans[0] for row in rows],
        "av_usd": [Decimal(usd[row.availability_id][row.billing_plans[0]]) for row in rows],
    }


def _nce(ctx: Context) -> int:
    plan = ctx.plan
    offerings = _offerings()
    codes = offerings["av_codes"]
    main = [codes.index(EQUIVALENT[key]) + 1 for key in MAIN]
    public = [0, *(codes.index(EQUIVALENT[PUBLIC_LEGACY[segment]]) + 1 for segment in SEGMENTS[1:])]
    cycle = [codes.index(code) + 1 for code in COMMERCIAL_NCE]
    params = {
        "org": ctx.org,
        "segments": SEGMENTS,
        **offerings,
        **_location_money(ctx),
        "main": main,
        "public": public,
        "cycle": cycle,
        "today": plan.today,
        "per": SLOTS,
        "customers": plan.customers,
        "count": plan.nce_subscriptions,
    }
    source = f"""WITH {_customers(ctx)},
        rows AS (
            SELECT n, (n - 1) %% %(per)s AS slot, c.*,
                   CASE WHEN c.seg > 1 THEN (%(public)s::int[])[c.seg]
                        WHEN (n - 1) %% %(per)s = 0 THEN (%(main)s::int[])[1 + c.idx %% 3]
                        ELSE (%(cycle)s::int[])[1 + (c.idx + n) %% cardinality(%(cycle)s::int[])] END AS av,
                   (n * 7919) %% 100 AS h
              FROM generate_series(1, %(count)s::bigint) AS n
              JOIN c ON c.idx = ((n - 1) / %(per)s) %% %(customers)s)
        FROM rows r
        CROSS JOIN LATERAL (SELECT
            %(today)s::date - ((r.n * 13) %% CASE (%(av_terms)s::text[])[r.av]
                WHEN 'P1M' THEN 28 WHEN 'P1Y' THEN 360 ELSE 1000 END)::int AS term_start,
            CASE (%(av_terms)s::text[])[r.av] WHEN 'P1M' THEN interval '1 month'
                WHEN 'P1Y' THEN interval '1 year' ELSE interval '3 years' END AS term) t"""
    return insert_select(
        NceSubscription,
        {
            "organization": "%(org)s",
            "subscription_id": plan.uuid_sql("nce", "r.n"),
            "order_id": plan.uuid_sql("order", "(r.n - 1) / 2"),
            "customer": "r.id",
            "availability": "(%(av_ids)s::bigint[])[r.av]",
            "catalog_item_id": "(%(av_items)s::text[])[r.av]",
            "quantity": "greatest(1, least(300, coalesce(r.employee_count, 40) / (2 + r.slot)))",
            "term_duration": "(%(av_terms)s::text[])[r.av]",
            "billing_cycle": "(%(av_billing)s::text[])[r.av]",
            "term_start": "t.term_start",
            "term_end": "(t.term_start + t.term - interval '1 day')::date",
            "auto_renew": "r.h %% 8 <> 0",
            "cancellation_window_ends_at": "t.term_start + interval '7 days'",
            "status": f"""CASE WHEN r.h < 88 THEN '{SubscriptionStatus.ACTIVE}'
                               WHEN r.h < 93 THEN '{SubscriptionStatus.SUSPENDED}'
                               WHEN r.h < 98 THEN '{SubscriptionStatus.CANCELLED}'
                               ELSE '{SubscriptionStatus.DELETED}' END""",
            "unit_price": "round((%(av_usd)s::numeric[])[r.av] * (%(rates)s::numeric[])[r.loc], 2)",
            "currency": "(%(currencies)s::text[])[r.loc]",
            "created_at": "t.term_start::timestamptz + interval '9 hours'",
        },
        source,
        params,
    )


def _migrations(ctx: Context) -> int:
    """Migration k (0 …) moves customer k's first legacy subscription; completed ones link the
    customer's first new-commerce subscription (`migrated_from`), and the legacy one is cancelled.
    Four in five were submitted in batches of fifty (one `externalReferenceId` each)."""
    plan = ctx.plan
    analyze(LegacySubscription, NceSubscription)
    agents = f"WITH people AS ({ctx.people_sql()}) SELECT id FROM people ORDER BY idx LIMIT 20"
    creators = [row[0] for row in fetch(agents)]
    batches = plan.migrations * 4 // 5 // BATCH_SIZE
    params = {
        "org": ctx.org,
        "prefix": plan.prefix,
        "batches": batches,
        "per": BATCH_SIZE,
        "creators": creators,
        "months": MONTHS,
        "count": plan.migrations,
        "statuses": [str(status) for status in MIGRATION_STATUSES],
        "slots": SLOTS,
    }
    insert_select(
        MigrationBatch,
        {
            "organization": "%(org)s",
            "external_reference_id": "%(prefix)s || '-WAVE-' || lpad(b::text, 4, '0')",
            "file_name": "'migration-wave-' || b || '.csv'",
            "row_count": "%(per)s",
            "created_by": "(%(creators)s::bigint[])[1 + b %% cardinality(%(creators)s::bigint[])]",
            "created_at": "now() - (%(months)s * 30 * (1 - b::float / greatest(%(batches)s, 1))) * interval "
            "'1 day'",
        },
        "FROM generate_series(0, %(batches)s - 1) AS b",
        params,
    )
    written = insert_select(
        Migration,
        {
            "organization": "%(org)s",
            "migration_id": plan.uuid_sql("migration", "m.k"),
            "customer": "m.customer_id",
            "current_subscription": "m.legacy_id",
            "status": "m.status",
            "catalog_item_id": "m.catalog_item_id",
            "term_duration": "m.term_duration",
            "billing_cycle": "m.billing_cycle",
            "purchase_full_term": "m.k %% 4 = 0",
            "quantity": "m.quantity",
            "external_reference_id": "coalesce(mb.external_reference_id, '')",
            "batch": "mb.id",
            "new_commerce_subscription": f"CASE WHEN m.status = '{MigrationStatus.COMPLETED}' THEN m.nce_id "
            "END",
            "new_commerce_order_id": f"CASE WHEN m.status = '{MigrationStatus.COMPLETED}' THEN m.order_id "
            "END",
            "subscription_end_date": f"CASE WHEN m.status = '{MigrationStatus.COMPLETED}' THEN m.term_end "
            "END",
            "started_time": "m.started",
            "completed_time": f"CASE WHEN m.status = '{MigrationStatus.COMPLETED}' THEN m.started + "
            "interval '4 minutes' END",
            "error_code": f"""CASE m.status WHEN '{MigrationStatus.FAILED}' THEN 'PROVISIONING_FAILED'
                                            WHEN '{MigrationStatus.REJECTED}' THEN '3' ELSE '' END""",
            "error_description": f"""CASE m.status
                WHEN '{MigrationStatus.FAILED}' THEN 'The new-commerce order could not be placed; try again.'
                WHEN '{MigrationStatus.REJECTED}' THEN
                    '3: The subscription is suspended; reactivate it first.'
                ELSE '' END""",
            "initiated_by": "CASE WHEN m.k %% 10 = 9 THEN 'MICROSOFT' ELSE 'PARTNER' END",
            "created_by": "CASE WHEN m.k %% 10 = 9 THEN NULL ELSE "
            "(%(creators)s::bigint[])[1 + m.k %% cardinality(%(creators)s::bigint[])] END",
        },
        f"""WITH m AS (
                SELECT k, l.customer_id, l.id AS legacy_id, s.id AS nce_id, s.order_id, s.catalog_item_id,
                       s.term_duration, s.billing_cycle, s.term_end, l.quantity,
                       (%(statuses)s::text[])[1 + k %% cardinality(%(statuses)s::text[])] AS status,
                       now() - (%(months)s * 30 * (1 - k::float / %(count)s)) * interval '1 day' AS started
                  FROM generate_series(0, %(count)s - 1) AS k
                  JOIN commerce_legacysubscription l
                    ON l.subscription_id = {plan.uuid_sql("legacy", "k * %(slots)s + 1")}
                  JOIN commerce_ncesubscription s
                    ON s.subscription_id = {plan.uuid_sql("nce", "k * %(slots)s + 1")})
            FROM m
            LEFT JOIN commerce_migrationbatch mb
              ON mb.organization_id = %(org)s AND m.k / %(per)s < %(batches)s
             AND mb.external_reference_id = %(prefix)s || '-WAVE-' || lpad((m.k / %(per)s)::text, 4, '0')""",
        params,
    )
    completed = Migration.objects.filter(organization_id=ctx.org, status=MigrationStatus.COMPLETED)
    execute(
        """UPDATE commerce_ncesubscription s SET migrated_from_id = m.current_subscription_id
             FROM commerce_migration m
            WHERE m.organization_id = %(org)s AND m.status = %(done)s AND s.id =
                m.new_commerce_subscription_id""",
        {"org": ctx.org, "done": MigrationStatus.COMPLETED},
    )
    LegacySubscription.objects.filter(pk__in=completed.values("current_subscription_id")).update(
        status=SubscriptionStatus.CANCELLED, auto_renew=False
    )
    history_append(
        Migration,
        """SELECT organization_id, id, started_time, created_by_id, '', %(processing)s,
                   'Migration submitted.'
              FROM commerce_migration WHERE organization_id = %(org)s
            UNION ALL
            SELECT organization_id, id, started_time + interval '4 minutes', NULL,
                   %(processing)s, status, error_description
              FROM commerce_migration
             WHERE organization_id = %(org)s AND status = ANY(%(final)s)""",
        {
            "org": ctx.org,
            "processing": MigrationStatus.PROCESSING,
            "final": [MigrationStatus.COMPLETED, MigrationStatus.FAILED, MigrationStatus.REJECTED],
        },
    )
    return written
