"""Request rate of the co-sell referrals list at 1,000,000 referrals beside the same at 10,000.

    python bench/_cosell_api.py [--quick]          (bench/cosell.py calls `run(quick)`)

1. Data, set-based and idempotent, in its own database `portal_bench_cosell`: one organization
   with 1,000,000 referrals and one with 10,000 (100,000 and 10,000 with --quick), INSERT … SELECT
   over generate_series (topped up or trimmed on later runs). Rows cycle through the four
   status/substatus pairs, eight customer countries and both referral types, and carry the nested
   JSON (customerProfile with a team member, consent, requirements, target, inviteContext) of a real
   invitation, so the page serializes what production pages do. The history triggers are skipped
   for the bulk load (`session_replication_role = replica`): a million "created" events are not
   what the list reads. Each organization has an API client (scope `cosell:read`, role Referrals
   admin) with a fresh token per run.
2. Request rate: ONE gunicorn (bench.api_list.Server: gthread, 2 workers x 4 threads) on
   127.0.0.1, keep-alive connections from threads in this process (bench.api_list.load), GET
   /api/v1/cosell/engagements/referrals (the default page: 100 newest referrals, no $count),
   alternating the two organizations in runs of the same length; the figure is the MEDIAN run.
   The target: the first page at 1M is served at least 0.8 times as fast as at 10k — no COUNT,
   the ordering read from the (organization, created_at) index.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

DATABASE = "portal_bench_cosell"
PATH = "/api/v1/cosell/engagements/referrals"
BIG_ORG = ("9910001", "Bench Co-sell Million GmbH")
SMALL_ORG = ("9910002", "Bench Co-sell Ten Thousand Ltd")
ROWS = {False: (1_000_000, 10_000), True: (100_000, 10_000)}
TARGET = 0.8
THROTTLE_RATE = "1000000/minute"
WORKERS, THREADS, CONNECTIONS = 2, 4, 8


# --- Data -----------------------------------------------------------------------------------------


def _organization(partner_global_id: str, legal_name: str):
    from accounts.models import Organization  # noqa: PLC0415 - needs Django set up

    organization, _ = Organization.objects.get_or_create(
        partner_global_id=partner_global_id,
        defaults={"legal_name": legal_name, "country": "DE", "partner_types": ["services"]},
    )
    return organization


#: Each column's value for row n (SQL over `n` and the lateral `s` = status pair, `c` = country).
_COLUMNS = {
    "organization_id": "%(org)s",
    "referral_id": "gen_random_uuid()",
    "engagement_id": "gen_random_uuid()",
    "name": "'Bench customer ' || n || ' - data platform modernisation'",
    "external_reference_id": "'CRM-OPP-' || lpad(n::text, 7, '0')",
    "created_at": "t.created",
    "updated_at": "t.created + interval '1 hour'",
    "expiration_at": "CASE WHEN s.status = 'New' THEN t.created + interval '14 days' END",
    "accepted_at": "CASE WHEN s.status <> 'New' THEN t.created END",
    "status": "s.status",
    "substatus": "s.substatus",
    "status_reason": "''",
    "loss_reason": "CASE WHEN s.substatus = 'Lost' THEN '1' ELSE '' END",
    "type": "CASE WHEN n %% 2 = 0 THEN 'Shared' ELSE 'Independent' END",
    "qualification": "'SalesQualified'",
    "referral_source": "''",
    "call_to_action": "''",
    "customer_marketplace_intent": "''",
    "is_inbound": "n %% 3 <> 0",
    "is_draft": "false",
    "deal_kind": "''",
    "microsoft_status": "''",
    "lead_temperature": "''",
    "customer_profile": """jsonb_build_object(
        'name', 'Bench Customer ' || n || ' AG',
        'address', jsonb_build_object('addressLine1', 'Hauptstrasse ' || n %% 100, 'city', 'Munich',
                                      'postalCode', '80331', 'country', c.country),
        'size', '1001to5000employees',
        'team', jsonb_build_array(jsonb_build_object(
            'firstName', 'Lena', 'lastName', 'Vogt', 'email', 'lena.vogt' || n || '@customer.example',
            'phoneNumber', '+49891234567')),
        'ids', jsonb_build_object('duns', lpad(n::text, 9, '0')))""",
    "customer_name": "'Bench Customer ' || n || ' AG'",
    "customer_country": "c.country",
    "customer_size": "'1001to5000employees'",
    "consent": """'{"consentToToShareInfoWithOthers": true, "consentToContact": true}'::jsonb""",
    "notes": "'Customer wants to move on-premises SQL warehouse to Azure.'",
    "deal_value": "1000 + (n * 37) %% 500000",
    "currency": "'EUR'",
    "closing_at": "t.created + interval '90 days'",
    "requirements": """'{"industries": [{"id": "Manufacturing"}], "products": [{"id": "Azure"},
        {"id": "PowerBI"}], "services": [{"id": "DeploymentOrMigration"}]}'::jsonb""",
    "team": "'[]'::jsonb",
    "target": """'[{"type": "SolutionProfile", "id": "SOL-34104-EBB"}]'::jsonb""",
    "invite_context": """'{"notes": "Please contact the customer this week.",
        "invitedBy": {"organizationId": "msft", "organizationName": "Microsoft"}}'::jsonb""",
    "partner_role": "''",
    "solution_area": "''",
    "solution_play": "''",
    "routing_rule_id": "NULL",
    "assigned_team": "''",
    "assigned_user_id": "NULL",
    "created_by_id": "NULL",
    "version": "1",
}


def _insert_sql(table: str) -> str:
    from cosell.models import Referral  # noqa: PLC0415 - needs Django set up

    columns = [f.column for f in Referral._meta.concrete_fields if not f.primary_key]
    missing = sorted(set(columns) - set(_COLUMNS))
    if missing:
        # A new column on Referral: say which, rather than insert rows the model cannot read.
        raise SystemExit(f"bench/_cosell_api.py: give a value for the new column(s) {', '.join(missing)}")
    return f"""
        INSERT INTO {table} ({", ".join(columns)})
        SELECT {", ".join(_COLUMNS[column] for column in columns)}
        FROM generate_series(%(start)s, %(stop)s) AS n
        CROSS JOIN LATERAL (SELECT timestamptz '2023-01-01 00:00:00+00' + n * interval '1 minute'
                            AS created) AS t
        CROSS JOIN LATERAL (SELECT (ARRAY['New', 'Active', 'Closed', 'Closed'])[1 + n %% 4] AS status,
                                   (ARRAY['Received', 'Accepted', 'Won', 'Lost'])[1 + n %% 4] AS substatus)
                           AS s
        CROSS JOIN LATERAL (SELECT (ARRAY['DE', 'GB', 'US', 'FR', 'NL', 'AT', 'JP', 'BR'])[1 + n %% 8]
                                   AS country) AS c
    """


def ensure_referrals(organization, rows: int) -> int:
    """Exactly `rows` referrals for the organization, set-based; returns rows written or deleted."""
    from django.db import connection, transaction  # noqa: PLC0415

    from cosell.models import Referral  # noqa: PLC0415

    table = Referral._meta.db_table
    existing = Referral.objects.filter(organization=organization).count()
    if existing == rows:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Bulk load without the history triggers (see the module docstring); this transaction only.
        cursor.execute("SET LOCAL session_replication_role = replica")
        if existing > rows:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "
                "WHERE organization_id = %s ORDER BY id DESC LIMIT %s)",
                [organization.pk, existing - rows],
            )
        else:
            cursor.execute(_insert_sql(table), {"org": organization.pk, "start": existing + 1, "stop": rows})
        changed = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return changed


def ensure_token(organization) -> str:
    """The organization's bench API client (scope cosell:read, role Referrals admin), a fresh token."""
    from bench.api_list import ensure_token as api_client_token  # noqa: PLC0415
    from portal.roles import Role

    return api_client_token(
        organization, name="bench-cosell", scopes=["cosell:read"], roles=[Role.REFERRALS_ADMIN]
    )


def explain_first_page(organization) -> None:
    """Print the plan of the list's page query (an index scan, no sort of the whole organization)."""
    from django.db import connection  # noqa: PLC0415

    from cosell.models import Referral  # noqa: PLC0415
    from cosell.odata import DEFAULT_ORDERING, DEFAULT_TOP  # noqa: PLC0415

    # The API's page query: the organization's rows, newest first, one row more than the page.
    queryset = Referral.objects.filter(organization=organization).order_by(*DEFAULT_ORDERING)[
        : DEFAULT_TOP + 1
    ]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    for line in plan:
        if any(word in line for word in ("Scan", "Sort", "Limit", "Execution Time", "Join")):
            info(f"    {line.strip()}")


# --- Measure --------------------------------------------------------------------------------------


def run(quick: bool) -> list[str]:
    """Build the data, serve the API with gunicorn, measure; returns the BENCH line."""
    from bench.api_list import Server, fetch, load, request_bytes  # noqa: PLC0415 - shared load helpers

    big_rows, small_rows = ROWS[quick]
    duration = 3.0 if quick else 10.0
    rounds = 2 if quick else 3
    warmup = 1.0 if quick else 2.0
    started = time.perf_counter()
    env = _common.setup_django(
        {"DATABASE_URL": _common.bench_database_url(name=DATABASE), "API_THROTTLE_RATE": THROTTLE_RATE}
    )
    big, small = _organization(*BIG_ORG), _organization(*SMALL_ORG)
    written = ensure_referrals(big, big_rows) + ensure_referrals(small, small_rows)
    tokens = {"big": ensure_token(big), "small": ensure_token(small)}
    info(
        f"data ready in {time.perf_counter() - started:.1f}s: {big_rows} and {small_rows} referrals "
        f"({written} rows written or trimmed)"
    )
    for name, organization in ((f"{big_rows} rows", big), (f"{small_rows} rows", small)):
        info(f"page query plan at {name}:")
        explain_first_page(organization)

    server = Server(dict(env, API_THROTTLE_RATE=THROTTLE_RATE), WORKERS, THREADS)
    runs: dict[str, list[dict]] = {"big": [], "small": []}
    try:
        server.wait_ready("/status/health/")
        payloads = {}
        for key, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            status, body = fetch(server.port, PATH, headers)
            if status != 200:
                raise SystemExit(f"GET {PATH} answered {status}: {body[:300]!r}")
            page = json.loads(body)
            info(
                f"{key}: first page {len(page['value'])} referrals, {len(body)} bytes, nextLink "
                f"{'yes' if '@odata.nextLink' in page else 'no'}"
            )
            payloads[key] = request_bytes(server.port, PATH, headers)
        for payload in payloads.values():
            load(server, payload, CONNECTIONS, warmup)
        for round_number in range(rounds):
            order = ("big", "small") if round_number % 2 == 0 else ("small", "big")
            for key in order:
                result = load(server, payloads[key], CONNECTIONS, duration)
                if result["errors"]:
                    raise SystemExit(f"{key}: {result['errors']} responses were not 200")
                runs[key].append(result)
                info(
                    f"round {round_number + 1} {key:5}: {result['rps']:7.1f} rps, "
                    f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"
                )
    finally:
        server.stop()
    big_rps = statistics.median(r["rps"] for r in runs["big"])
    small_rps = statistics.median(r["rps"] for r in runs["small"])
    info(f"total {time.perf_counter() - started:.0f}s")
    return [
        bench_line(
            "cosell_referrals_rps", big_rps, "rps", small_rps, "rps", big_rps / small_rps, ">=", TARGET
        )
    ]


if __name__ == "__main__":
    run("--quick" in sys.argv[1:])
