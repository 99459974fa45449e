"""Customers at any count, set-based: the scale seed's and the API list bench's (bench/api_list.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection

from accounts.choices import CustomerSegment

__all__ = ("BENCH_COUNTRIES", "customers_ensure")

BENCH_COUNTRIES = ["DE", "GB", "US", "FR", "NL", "SE", "ES", "IT", "JP", "AU", "CA", "BR", "IN"]
#: Six commercial customers in nine; the public-sector segments share the rest.
SEGMENTS = [CustomerSegment.COMMERCIAL.value] * 6 + [
    CustomerSegment.EDUCATION.value,
    CustomerSegment.GOVERNMENT.value,
    CustomerSegment.CHARITY.value,
]


def customers_ensure(
    organization,
    rows: int,
    *,
    words: list[str] | None = None,
    suffixes: list[str] | None = None,
    countries: list[str] | None = None,
    location_ids: list[int | None] | None = None,
    created_from: datetime | None = None,
    created_every: timedelta = timedelta(minutes=1),
) -> int:
    """Exactly `rows` customers for the organization (INSERT … SELECT over generate_series, topped up
    or trimmed on later runs); returns rows written or deleted.

    Customer n is named `Bench Customer n` (domain `customer<n>.bench.example`), or, given `words`
    and `suffixes`, `<word> <suffix> <n>` (domain `<word><n>.onmicrosoft.example`). Its country
    cycles through `countries`; `location_ids[i]` (None: no location) is the partner location of
    `countries[i]`'s customers. Every seventh has no employee count. `created_at` steps
    `created_every` from `created_from` (2024-01-01) in whole seconds, so two endpoints serving the
    same rows print identical timestamps.
    """
    from accounts.models import Customer  # noqa: PLC0415

    table = connection.ops.quote_name(Customer._meta.db_table)
    existing = Customer.objects.filter(organization=organization).count()
    if existing == rows:
        return 0
    countries = countries or BENCH_COUNTRIES
    location_ids = location_ids or [None] * len(countries)
    if len(location_ids) != len(countries):
        raise ValueError("location_ids must name one location (or None) per country")
    if words:
        suffixes = suffixes or ["Ltd"]
        name = (
            "(%(words)s::text[])[1 + n %% cardinality(%(words)s::text[])] || ' ' || "
            "(%(suffixes)s::text[])[1 + (n / cardinality(%(words)s::text[])) %% "
            "cardinality(%(suffixes)s::text[])]"
            " || ' ' || n"
        )
        domain = (
            "lower(regexp_replace((%(words)s::text[])[1 + n %% cardinality(%(words)s::text[])], "
            "'[^A-Za-z]', '', 'g')) || n || '.onmicrosoft.example'"
        )
    else:
        name = "'Bench Customer ' || n"
        domain = "'customer' || n || '.bench.example'"
    with connection.cursor() as cursor:
        if existing > rows:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "
                "WHERE organization_id = %s ORDER BY id DESC LIMIT %s)",
                [organization.pk, existing - rows],
            )
        else:
            cursor.execute(
                f"""
                INSERT INTO {table}
                    (organization_id, name, domain, tenant_id, country, segment, employee_count,
                     created_at, location_id)
                SELECT %(org)s, {name}, {domain}, gen_random_uuid(),
                       (%(countries)s::text[])[1 + n %% cardinality(%(countries)s::text[])],
                       (%(segments)s::text[])[1 + n %% cardinality(%(segments)s::text[])],
                       CASE WHEN n %% 7 = 0 THEN NULL ELSE (n * 37) %% 5000 END,
                       date_trunc('second', %(created_from)s::timestamptz + n * %(every)s::interval),
                       (%(locations)s::bigint[])[1 + n %% cardinality(%(countries)s::text[])]
                FROM generate_series(%(start)s, %(stop)s) AS n
                ON CONFLICT (organization_id, domain) DO NOTHING
                """,
                {
                    "org": organization.pk,
                    "words": words,
                    "suffixes": suffixes,
                    "countries": countries,
                    "segments": SEGMENTS,
                    "locations": location_ids,
                    "created_from": created_from or datetime.fromisoformat("2024-01-01T00:00:00+00:00"),
                    "every": created_every,
                    "start": existing + 1,
                    "stop": rows,
                },
            )
        changed = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    return changed
