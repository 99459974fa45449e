"""The full filtered Earnings – Default CSV download beside a raw COPY of the same SELECT, and the
peak memory of the process serving it at N/5 and N rows.

    python bench/_earnings_download.py [--rows 5000000] [--rounds 2] [--quick]  (quick: 200,000 rows)

1. Data, set-based and idempotent (topped up or trimmed on later runs): one organization with
   `--rows` earnings rows over N/4 transactions (four levers of four engagements per
   transaction), 1,000 customers, one enrollment; solution areas cycle over five values so that
   `solutionArea=Security` selects exactly a fifth of the rows. Built with INSERT … SELECT over
   generate_series (foreign-key triggers off while loading: the rows are consistent by
   construction), then ANALYZE.
2. Time: ONE gunicorn (gthread, 1 worker) serves `/earnings/downloads/earnings.csv?partnerRole=Transact`
   (a filter every row passes, so the file holds all N rows) to a signed-in person with a verified
   second factor; the client reads the body over a plain socket and counts bytes. The reference,
   in the same run and in this process, is psycopg's `COPY (<the view's SELECT>) TO STDOUT WITH
   (FORMAT csv, HEADER)` consumed block by block: the SELECT comes from the same code
   (`report_rows` + `report_select`) with the same person and filters, and both must produce the
   same number of bytes. Runs alternate (raw first, then the view first, …) so neither always
   meets a cold cache; the figure is the best of `--rounds` each.
   The page download limit (EARNINGS_DOWNLOAD_STREAM_MAX_ROWS) is raised above N for the server.
3. Memory: a fresh gunicorn for each size serves one warm-up download (no rows), then the full
   download; the figure is the worker's peak resident set (VmHWM from /proc) at N rows, the
   reference the same at N/5 rows (`solutionArea=Security`). Target: flat (ratio <= 1.1) and
   under 250 MB absolute.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

ORGANIZATION = ("9900050", "Bench Earnings Partner GmbH")
PARTNER_ID = "9900051"
LEVERS = 4
CUSTOMERS = 1000
SOLUTION_AREAS = ["Modern Work", "Security", "Infra", "Data & AI", "Business Applications"]
FULL_FILTER = "partnerRole=Transact"
FIFTH_FILTER = "solutionArea=Security"
DOWNLOAD_PATH = "/earnings/downloads/earnings.csv"
MEMORY_LIMIT_MB = 250


def configure(parser) -> None:
    parser.add_argument("--rounds", type=int, help="download/raw COPY pairs, alternating (2; 1 with --quick)")


# --- Data -----------------------------------------------------------------------------------------


def ensure_fixtures():
    """The organization, its location, program, engagements and levers, enrollment, customers."""
    from datetime import date  # noqa: PLC0415

    from django.db import connection, transaction  # noqa: PLC0415

    from accounts.models import Customer, Organization, PartnerLocation  # noqa: PLC0415
    from earnings.models import Engagement, Enrollment, Lever, Program  # noqa: PLC0415

    with transaction.atomic():
        organization, _ = Organization.objects.get_or_create(
            partner_global_id=ORGANIZATION[0],
            defaults={"legal_name": ORGANIZATION[1], "country": "DE", "partner_types": ["services"]},
        )
        location, _ = PartnerLocation.objects.get_or_create(
            partner_id=PARTNER_ID,
            defaults={"organization": organization, "country": "DE", "is_headquarters": True},
        )
        program, _ = Program.objects.get_or_create(
            code="BENCH-DL", defaults={"name": "Bench Download Incentives", "starts_on": date(2020, 7, 1)}
        )
        levers = []
        for number in range(LEVERS):
            engagement, _ = Engagement.objects.get_or_create(
                engagement_id=f"BENCH-DL-ENG-{number}",
                defaults={
                    "program": program,
                    "name": f"Bench download engagement {number}",
                    "solution_area": SOLUTION_AREAS[number],
                    "starts_on": date(2020, 7, 1),
                },
            )
            lever, _ = Lever.objects.get_or_create(
                engagement=engagement, partner_role="Transact", defaults={"name": f"Core {number}"}
            )
            levers.append(lever)
        enrollment, _ = Enrollment.objects.get_or_create(
            participant_id=PARTNER_ID,
            program=program,
            defaults={
                "organization": organization,
                "location": location,
                "participant_name": ORGANIZATION[1],
                "enrolled_from": date(2020, 7, 1),
                "bank_profile_ok": True,
                "tax_profile_ok": True,
            },
        )
        if Customer.objects.filter(organization=organization).count() < CUSTOMERS:
            table = connection.ops.quote_name(Customer._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {table}
                        (organization_id, name, domain, tenant_id, country, segment, created_at)
                    SELECT %s, 'Bench Customer ' || n, 'bench-customer' || n || '.example', gen_random_uuid(),
                           'DE', 'commercial', now()
                    FROM generate_series(1, %s) AS n
                    ON CONFLICT (organization_id, domain) DO NOTHING
                    """,
                    [organization.pk, CUSTOMERS],
                )
    return organization, location, program, levers, enrollment


def ensure_earnings(rows: int) -> tuple:
    """Exactly `rows` earnings of the bench organization, over rows/4 transactions; set-based."""
    from django.db import connection  # noqa: PLC0415

    from accounts.models import Customer  # noqa: PLC0415
    from earnings.models import Earning, Transaction  # noqa: PLC0415

    organization, location, program, levers, enrollment = ensure_fixtures()
    earnings_table = Earning._meta.db_table
    transactions_table = Transaction._meta.db_table
    existing = Earning.objects.filter(organization=organization).count()
    if existing == rows:
        return organization, 0
    with connection.cursor() as cursor:
        if existing > rows:
            cursor.execute(
                f"DELETE FROM {earnings_table} "
                "WHERE organization_id = %s AND substr(earning_id, 4)::bigint > %s",
                [organization.pk, rows],
            )
            cursor.execute(f"ANALYZE {earnings_table}")
            return organization, existing - rows
        customers = list(
            Customer.objects.filter(organization=organization).order_by("pk").values_list("pk", flat=True)
        )
        # The rows are consistent by construction; skipping the per-row foreign-key triggers
        # makes loading millions of rows take minutes instead of tens of minutes.
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                f"""
                INSERT INTO {transactions_table}
                    (organization_id, transaction_id, transaction_date, transaction_type, source, location_id,
                     customer_id, customer_name, customer_tenant_id, customer_country, customer_segment,
                     product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
                     partner_role, partner_association, is_trial, quantity, quantity_type,
                     transaction_currency, transaction_amount, transaction_exchange_rate,
                     transaction_amount_usd, created_at)
                SELECT %(org)s, 'BT-' || t, date '2023-01-01' + (t %% 1000), 'purchase', 'upload',
                       %(location)s,
                       (%(customers)s::bigint[])[1 + t %% %(customer_count)s],
                       'Bench Customer ' || (t %% 1000),
                       md5(t::text)::uuid::text, 'DE', 'commercial',
                       'CFQ7TTC0' || lpad((t %% 97)::text, 4, '0'), '0001', 'Microsoft 365 E' || (t %% 5),
                       md5('s' || t)::uuid::text, 'INV-' || t, 'Modern Work', 'Transact', 'Reseller', false,
                       1 + t %% 300, 'Billed quantity', 'EUR', 10 + (t %% 100000) / 7.0, 1.085,
                       round((10 + (t %% 100000) / 7.0) * 1.085, 2), now()
                FROM generate_series(%(start)s, %(stop)s) AS t
                ON CONFLICT (transaction_id) DO NOTHING
                """,
                {
                    "org": organization.pk,
                    "location": location.pk,
                    "customers": customers,
                    "customer_count": len(customers),
                    "start": existing // LEVERS,
                    "stop": (rows - 1) // LEVERS,
                },
            )
            cursor.execute(
                f"""
                INSERT INTO {earnings_table}
                    (organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id,
                     engagement_id, lever_id, transaction_id, revision, claim_id, earning_type, earning_rate,
                     earning_amount, currency, earning_exchange_rate, exchange_rate_date, earning_amount_usd,
                     earning_date, calculation_date, estimated_payment_month, payment_id, payment_status,
                     solution_area, partner_role, partner_association, customer_id, customer_name,
                     product_id, product_name, created_at)
                SELECT %(org)s, 'BE-' || n, 'earning', '', '', %(enrollment)s, %(program)s,
                       (%(engagements)s::bigint[])[1 + n %% 4], (%(levers)s::bigint[])[1 + n %% 4],
                       t.id, 1, '',
                       'Rebate', 0.04, round(t.transaction_amount * 0.04, 2), 'EUR', 1.085,
                       t.transaction_date, round(t.transaction_amount * 0.04 * 1.085, 2),
                       t.transaction_date, t.transaction_date + 18,
                       date_trunc('month', t.transaction_date + interval '3 months')::date, NULL,
                       'Unprocessed',
                       (%(areas)s::text[])[1 + n %% 5], 'Transact', 'Reseller', t.customer_id,
                       t.customer_name,
                       t.product_id, t.product_name, now()
                FROM generate_series(%(start)s, %(stop)s) AS n
                JOIN {transactions_table} AS t ON t.transaction_id = 'BT-' || (n / 4)
                """,
                {
                    "org": organization.pk,
                    "enrollment": enrollment.pk,
                    "program": program.pk,
                    "engagements": [lever.engagement_id for lever in levers],
                    "levers": [lever.pk for lever in levers],
                    "areas": SOLUTION_AREAS,
                    "start": existing,
                    "stop": rows - 1,
                },
            )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(f"ANALYZE {transactions_table}")
        cursor.execute(f"ANALYZE {earnings_table}")
    return organization, rows - existing


def ensure_person(organization):
    """A person with an organization-wide earnings role and a confirmed TOTP device."""
    from django.db import transaction  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    from accounts.models import RoleAssignment, User  # noqa: PLC0415
    from portal.roles import Role

    email = f"bench-earnings-{organization.partner_global_id}@bench.example"
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, None, organization=organization, display_name="Bench Earnings"
            )
            RoleAssignment.objects.create(organization=organization, user=user, role=Role.INCENTIVES_ADMIN)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return user, device


def session_cookie(user, device) -> str:
    """`Cookie:` header value of a signed-in session that passed the second factor."""
    from django.conf import settings  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415
    from django_otp import DEVICE_ID_SESSION_KEY  # noqa: PLC0415

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


# --- Measuring ----------------------------------------------------------------------------------------


def raw_copy(user, query: str) -> tuple[float, int]:
    """Seconds and bytes of `COPY (<the view's SELECT>) TO STDOUT` consumed in this process."""
    from django.db import connection  # noqa: PLC0415
    from django.http import QueryDict  # noqa: PLC0415

    from earnings.exports import REPORTS, report_rows, report_select  # noqa: PLC0415

    report = REPORTS["earnings"]
    sql, params = report_select(report, report_rows(report, user, QueryDict(query)))
    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor:
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
        with cursor.cursor.copy(statement, params) as copy:
            for block in copy:
                size += len(block)
    return time.perf_counter() - started, size


def download(port: int, path: str, cookie: str) -> tuple[float, int]:
    """Seconds and body bytes of one HTTP/1.0 GET (the server closes the connection at the end)."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode("ascii")
        )
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        head = b""
        while b"\r\n\r\n" not in head:
            received = sock.recv(65536)
            if not received:
                raise SystemExit(f"the server closed the connection before the headers: {head[:300]!r}")
            head += received
        headers, _, body = head.partition(b"\r\n\r\n")
        status = headers.split(b" ", 2)[1]
        if status != b"200":
            raise SystemExit(f"{path} answered {status.decode()}: {body[:300]!r}")
        size = len(body)
        while received := sock.recv_into(view):
            size += received
    return time.perf_counter() - started, size


class DownloadServer:
    """One gunicorn worker (gthread) serving the portal, and its peak resident set."""

    def __init__(self, env: dict[str, str]):
        from bench.api_list import Server  # noqa: PLC0415 - the foundation bench's gunicorn runner

        self.server = Server(env, workers=1, threads=2)

    def __enter__(self) -> DownloadServer:
        self.server.wait_ready("/status/health/")
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    @property
    def port(self) -> int:
        return self.server.port

    def peak_rss_mb(self) -> float:
        (pid,) = self.server.worker_pids()
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise SystemExit("no VmHWM in /proc status")


def peak_memory(env, cookie: str, query: str) -> tuple[float, float, int]:
    """(peak RSS MB before, during the download, body bytes) on a fresh server."""
    with DownloadServer(env) as server:
        download(server.port, f"{DOWNLOAD_PATH}?paymentId=none", cookie)
        before = server.peak_rss_mb()
        _seconds, size = download(server.port, f"{DOWNLOAD_PATH}?{query}", cookie)
        return before, server.peak_rss_mb(), size


def run(rows: int, rounds: int = 2) -> list[str]:
    started = time.perf_counter()
    env = _common.setup_django({"EARNINGS_DOWNLOAD_STREAM_MAX_ROWS": str(rows + 1)})
    organization, changed = ensure_earnings(rows)
    user, device = ensure_person(organization)
    cookie = session_cookie(user, device)
    info(
        f"data ready in {time.perf_counter() - started:.0f}s: organization {organization.pk} with {rows:,} "
        f"earnings ({changed:,} rows written or trimmed)"
    )

    # --- Time: the view through gunicorn beside the raw COPY, alternating
    timings: dict[str, list[float]] = {"view": [], "raw": []}
    with DownloadServer(env) as server:
        for round_number in range(rounds):
            order = ("raw", "view") if round_number % 2 == 0 else ("view", "raw")
            for name in order:
                if name == "raw":
                    seconds, size = raw_copy(user, FULL_FILTER)
                    raw_size = size
                else:
                    seconds, size = download(server.port, f"{DOWNLOAD_PATH}?{FULL_FILTER}", cookie)
                    view_size = size
                timings[name].append(seconds)
                info(f"round {round_number + 1} {name:4}: {seconds:6.1f}s, {size / 1e6:,.0f} MB")
        if view_size != raw_size:
            raise SystemExit(f"the download has {view_size} bytes, the raw COPY {raw_size}")

    # --- Memory: a fresh worker per size
    fifth_before, fifth_peak, fifth_size = peak_memory(env, cookie, FIFTH_FILTER)
    full_before, full_peak, full_size = peak_memory(env, cookie, FULL_FILTER)
    info(
        f"worker peak RSS: {fifth_peak:.0f} MB at {rows // 5:,} rows ({fifth_size / 1e6:,.0f} MB file; "
        f"{fifth_before:.0f} MB after warm-up), {full_peak:.0f} MB at {rows:,} rows "
        f"({full_size / 1e6:,.0f} MB file; {full_before:.0f} MB after warm-up); "
        f"absolute limit {MEMORY_LIMIT_MB} MB: {'ok' if full_peak < MEMORY_LIMIT_MB else 'EXCEEDED'}"
    )
    info(f"total {time.perf_counter() - started:.0f}s")

    view, raw = min(timings["view"]), min(timings["raw"])
    return [
        bench_line("earnings_download", view, "s", raw, "s", view / raw, "<=", 1.3),
        bench_line(
            "earnings_download_memory", full_peak, "MB", fifth_peak, "MB", full_peak / fifth_peak, "<=", 1.1
        ),
    ]


def main() -> None:
    args = _common.parse_args(
        __doc__.splitlines()[0], default_rows=5_000_000, quick_rows=200_000, configure=configure
    )
    run(args.rows, rounds=args.rounds or (1 if args.quick else 2))


if __name__ == "__main__":
    main()
