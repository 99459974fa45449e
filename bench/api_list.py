"""Request rate of the customer and earnings list APIs beside bare Django views, and SQL queries per
list page.

    python bench/api_list.py [--rows 20000] [--quick]

1. Data, set-based and idempotent: one organization with `--rows` customers and `--rows` earnings
   rows (INSERT … SELECT over generate_series, topped up or trimmed on later runs), one with 10 and
   one with 1,000 customers, each with an API client (OAuth2 client credentials, scopes
   `accounts:read` and `earnings:read`, roles Account admin and Incentives admin, a fresh access
   token per run) and a person with a verified second factor. The earnings rows belong to one
   enrollment of the organization's partner location in the program BENCHAPI: four earnings per
   transaction (one per lever), every tenth row a manual adjustment with no transaction, lever or
   rate, so the first page holds both the joined and the null columns.
2. Queries per page, in-process (Django test Client + CaptureQueriesContext): the API list with
   `?page_size=1000` (so the whole organization is on the page: 10 rows vs 1,000 rows) and the HTML
   list `/customers/` (its fixed page of 25: 10 rows vs 25 rows). Constant is the target.
3. Request rate: ONE gunicorn (`portal.wsgi`, DJANGO_ROOT_URLCONF=bench._urls) on 127.0.0.1, measured
   with keep-alive connections from threads in this process, alternating API and bare view runs of
   the same length; the figure is the MEDIAN run of each.

   Worker class: gthread (2 workers x 4 threads). Sync workers close the connection after every
   response (no keep-alive), so each request would also pay a TCP connect and the figure would
   measure the network stack as much as the application; gthread keeps connections alive and
   overlaps one thread's database round trips with another's Python work, which is what the
   psycopg pool in settings is sized for. Two workers on this machine's two cores. Connections are
   spread evenly over the workers (see `balanced_connections`).

   Two pairs are measured, each round running both: the customer list
   (/api/v1/accounts/customers/, Partner Center's Customer documents: `companyProfile`,
   `billingProfile`, the portal's `portalProfile`) beside `bench/_bare_views.py` customers at
   /api/bench/bare/customers/?org=<id> (the same documents built by hand), and the earnings
   list (/api/v1/earnings/earnings/, Partner Center's camelCase fields) beside
   `_bare_views.earnings` at /api/bench/bare/earnings/?org=<id>
   (see bench/_urls.py for why under /api/). Before measuring, each pair must serve the same first
   page (`same_rows`). Helpers are `_`-prefixed because `make bench` runs every other bench/*.py.
   Besides the BENCH lines the script prints worker CPU per request for every endpoint: on a shared
   machine it is steadier than requests/second.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

API_PATH = "/api/v1/accounts/customers/"
EARNINGS_API_PATH = "/api/v1/earnings/earnings/"
HTML_PATH = "/customers/"
BIG_ORG = ("9900001", "Bench Rows Partner GmbH")
#: The big organization's partner location, program and engagement the earnings rows belong to.
EARNINGS_PARTNER_ID = "9600001"
EARNINGS_PROGRAM = ("BENCHAPI", "Bench API Incentives")
EARNINGS_ENGAGEMENT = "BENCH-API-1"
SMALL_ORG = ("9900010", "Bench Ten Partner Ltd")
MEDIUM_ORG = ("9900011", "Bench Thousand Partner Ltd")
SMALL_ROWS, MEDIUM_ROWS = 10, 1000
# The throttle still runs on every API request (its cost is part of the figure) but must never
# answer 429 during the bench: the default API_THROTTLE_RATE is 6000/minute per organization.
THROTTLE_RATE = "1000000/minute"
#: The API's request rate beside the bare view's (issue 17: at least 0.8).
RPS_TARGET = 0.8


def configure(parser) -> None:
    parser.add_argument("--duration", type=float, help="seconds per measured run (10; 3 with --quick)")
    parser.add_argument("--rounds", type=int, help="API/bare run pairs, alternating (3; 2 with --quick)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--verbose", action="store_true", help="print the SQL of the counted pages")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also cProfile N in-process API list requests and print the top functions",
    )


# --- Data -----------------------------------------------------------------------------------------


def ensure_organization(partner_global_id: str, legal_name: str):
    from accounts.models import Organization  # noqa: PLC0415

    organization, _ = Organization.objects.get_or_create(
        partner_global_id=partner_global_id,
        defaults={"legal_name": legal_name, "country": "DE", "partner_types": ["services"]},
    )
    return organization


def ensure_customers(organization, rows: int) -> int:
    """Exactly `rows` customers for the organization, set-based; returns rows written or deleted."""
    from home.scale.customers import customers_ensure  # noqa: PLC0415 - after Django is set up

    return customers_ensure(organization, rows)


def ensure_earnings_fixtures(organization):
    """The organization's partner location and its enrollment in the bench program, whose one
    engagement has a lever per partner role."""
    from datetime import date  # noqa: PLC0415

    from accounts.models import PartnerLocation  # noqa: PLC0415
    from earnings.choices import PartnerRole, SolutionArea  # noqa: PLC0415
    from earnings.models import Engagement, Enrollment, Lever, Program  # noqa: PLC0415

    location, _ = PartnerLocation.objects.get_or_create(
        partner_id=EARNINGS_PARTNER_ID,
        defaults={"organization": organization, "country": "DE", "name": "Bench Rows Partner Germany"},
    )
    program, _ = Program.objects.get_or_create(
        code=EARNINGS_PROGRAM[0], defaults={"name": EARNINGS_PROGRAM[1], "starts_on": date(2020, 1, 1)}
    )
    engagement, _ = Engagement.objects.get_or_create(
        engagement_id=EARNINGS_ENGAGEMENT,
        defaults={
            "program": program,
            "name": "Modern Work Core",
            "solution_area": SolutionArea.MODERN_WORK,
            "starts_on": date(2020, 1, 1),
        },
    )
    levers = [
        Lever.objects.get_or_create(
            engagement=engagement, partner_role=role, defaults={"name": f"{role.label} – Modern Work"}
        )[0]
        for role in PartnerRole
    ]
    enrollment, _ = Enrollment.objects.get_or_create(
        participant_id=location.partner_id,
        program=program,
        defaults={
            "organization": organization,
            "location": location,
            "participant_name": organization.legal_name,
            "enrolled_from": date(2020, 1, 1),
            "bank_profile_ok": True,
            "tax_profile_ok": True,
        },
    )
    return location, program, engagement, levers, enrollment


def ensure_earnings(organization, rows: int) -> int:
    """Exactly `rows` earnings rows (ids `BAPI-1` … `BAPI-<rows>`) of the organization's bench
    enrollment, with their transactions; set-based. Returns rows written or deleted."""
    from django.db import connection, transaction  # noqa: PLC0415

    from earnings.choices import AdjustmentReason  # noqa: PLC0415
    from earnings.models import Earning, Transaction  # noqa: PLC0415

    location, program, engagement, levers, enrollment = ensure_earnings_fixtures(organization)
    ledger = Earning._meta.db_table
    transactions = Transaction._meta.db_table
    existing = Earning.objects.filter(enrollment=enrollment).count()
    if existing == rows:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        if existing > rows:
            cursor.execute(
                f"DELETE FROM {ledger} WHERE enrollment_id = %s AND substr(earning_id, 6)::bigint > %s",
                [enrollment.pk, rows],
            )
            changed = cursor.rowcount
            cursor.execute(
                f"DELETE FROM {transactions} AS t WHERE t.location_id = %s "
                f"AND NOT EXISTS (SELECT 1 FROM {ledger} AS e WHERE e.transaction_id = t.id)",
                [location.pk],
            )
        else:
            # Earning n belongs to transaction ceil(n / 4) through lever (n - 1) % 4; every tenth
            # row is a manual adjustment (no transaction, lever or rate; an en dash in its reason).
            cursor.execute(
                f"""
                INSERT INTO {transactions}
                    (organization_id, transaction_id, transaction_date, transaction_type, source,
                     location_id, customer_name, customer_tenant_id, customer_country, customer_segment,
                     product_id, sku_id, product_name, subscription_id, invoice_number, solution_area,
                     partner_role, partner_association, is_trial, quantity, quantity_type,
                     transaction_currency, transaction_amount, transaction_exchange_rate,
                     transaction_amount_usd, created_at)
                SELECT %(org)s, 'BAPIT-' || t, date '2024-01-01' + t %% 730, 'purchase', 'upload',
                       %(location)s, 'Bench Customer ' || t %% 1000, md5(t::text)::uuid::text, 'DE',
                       'commercial', 'CFQ7TTC0' || lpad((t %% 97)::text, 4, '0'), '0001',
                       'Microsoft 365 E' || t %% 5, md5('s' || t)::uuid::text, 'INV-' || t,
                       'Modern Work', 'Transact', 'Reseller', false, 1 + t %% 300, 'Billed quantity',
                       'EUR', 10 + (t %% 100000) / 7.0, 1.085, round((10 + (t %% 100000) / 7.0) * 1.085, 6),
                       timestamptz '2024-01-01 00:00:00+00' + t * interval '1 minute'
                FROM generate_series((%(start)s + 3) / 4, (%(stop)s + 3) / 4) AS t
                ON CONFLICT (transaction_id) DO NOTHING
                """,
                {"org": organization.pk, "location": location.pk, "start": existing + 1, "stop": rows},
            )
            cursor.execute(
                f"""
                INSERT INTO {ledger}
                    (organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id,
                     engagement_id, lever_id, transaction_id, revision, claim_id, earning_type,
                     earning_rate, earning_amount, currency, earning_exchange_rate, exchange_rate_date,
                     earning_amount_usd, earning_date, calculation_date, estimated_payment_month,
                     payment_id, payment_status, solution_area, partner_role, partner_association,
                     customer_id, customer_name, product_id, product_name, created_at)
                SELECT %(org)s, 'BAPI-' || n,
                       CASE WHEN adjustment THEN 'adjustment' ELSE 'earning' END,
                       CASE WHEN adjustment THEN %(reason)s ELSE '' END, '', %(enrollment)s, %(program)s,
                       CASE WHEN adjustment THEN NULL ELSE %(engagement)s::bigint END,
                       CASE WHEN adjustment THEN NULL ELSE (%(levers)s::bigint[])[1 + (n - 1) %% 4] END,
                       CASE WHEN adjustment THEN NULL ELSE t.id END, 1, '', 'Rebate',
                       CASE WHEN adjustment THEN NULL ELSE 0.04 END,
                       round(t.transaction_amount * 0.04 * sign, 6),
                       'EUR', 1.085, t.transaction_date,
                       round(t.transaction_amount * 0.04 * 1.085 * sign, 6),
                       t.transaction_date, t.transaction_date + 18,
                       CASE WHEN n %% 7 = 0 THEN NULL
                            ELSE date_trunc('month', t.transaction_date + interval '3 months')::date END,
                       NULL, 'Unprocessed', 'Modern Work',
                       CASE WHEN adjustment THEN '' ELSE (%(roles)s::text[])[1 + (n - 1) %% 4] END,
                       CASE WHEN adjustment THEN '' ELSE 'Reseller' END, NULL, t.customer_name,
                       t.product_id, t.product_name, t.created_at
                FROM generate_series(%(start)s, %(stop)s) AS n
                CROSS JOIN LATERAL (SELECT n %% 10 = 0 AS adjustment,
                                           CASE WHEN n %% 10 = 0 THEN -1 ELSE 1 END AS sign) AS a
                JOIN {transactions} AS t ON t.transaction_id = 'BAPIT-' || (n + 3) / 4
                """,
                {
                    "org": organization.pk,
                    "enrollment": enrollment.pk,
                    "program": program.pk,
                    "engagement": engagement.pk,
                    "levers": [lever.pk for lever in levers],
                    "roles": [lever.partner_role for lever in levers],
                    "reason": AdjustmentReason.INCORRECT_CALCULATION.value,
                    "start": existing + 1,
                    "stop": rows,
                },
            )
            changed = cursor.rowcount
    return changed


def vacuum_earnings() -> None:
    """VACUUM ANALYZE the tables the earnings list query joins (see home.scale.earnings)."""
    from home.scale.earnings import earnings_vacuum  # noqa: PLC0415 - after Django is set up

    earnings_vacuum()


def ensure_person(organization):
    """A signed-in person of the organization who may view customers, with a confirmed TOTP device."""
    from django.db import transaction  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    from accounts.models import RoleAssignment, User  # noqa: PLC0415
    from portal.roles import Role

    email = f"bench-person-{organization.partner_global_id}@bench.example"
    with transaction.atomic():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, None, organization=organization, display_name="Bench Person"
            )
            RoleAssignment.objects.create(organization=organization, user=user, role=Role.ACCOUNT_ADMIN)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return user


def ensure_token(organization, *, name: str = "bench", scopes=None, roles=None) -> str:
    """The organization's bench API client `name` (created once; scopes and roles brought up to
    date) and a fresh access token for it.

    Default roles: Account admin (customers.view) and Incentives admin (earnings.view),
    organization-wide.
    """
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415
    from oauth2_provider.models import AccessToken, Application  # noqa: PLC0415

    from accounts.models import ApiClient, RoleAssignment, User  # noqa: PLC0415
    from portal.roles import Role

    scopes = list(scopes or ["accounts:read", "earnings:read"])
    roles = list(roles or [Role.ACCOUNT_ADMIN, Role.INCENTIVES_ADMIN])
    with transaction.atomic():
        client = ApiClient.objects.filter(organization=organization, name=name).first()
        if client is None:
            user = User.objects.create_user(
                f"{name}-api-{organization.partner_global_id}@bench.example",
                None,
                organization=organization,
                display_name=f"API client: {name}",
                is_service_account=True,
            )
            application = Application.objects.create(
                name=name,
                user=user,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            )
            client = ApiClient.objects.create(
                organization=organization,
                name=name,
                application=application,
                service_user=user,
                scopes=scopes,
            )
        elif sorted(client.scopes) != sorted(scopes):
            client.scopes = scopes
            client.save(update_fields=["scopes"])
        for role in roles:
            RoleAssignment.objects.get_or_create(
                organization=organization, user_id=client.service_user_id, role=role, location=None
            )
        AccessToken.objects.filter(application_id=client.application_id).delete()
        token = secrets.token_urlsafe(30)
        AccessToken.objects.create(
            user=None,
            application_id=client.application_id,
            token=token,
            expires=timezone.now() + timedelta(hours=2),
            scope=" ".join(scopes),
        )
    return token


# --- Queries per page (in-process) ----------------------------------------------------------------


def verified_client(user):
    """A browser session that signed in and passed the second factor (as tests/conftest.py)."""
    from django.test import Client  # noqa: PLC0415
    from django_otp import DEVICE_ID_SESSION_KEY  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    client = Client()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def count_queries(client, path: str, **headers) -> tuple[int, object, list[str]]:
    """Queries of one request, after one warm-up request of the same page."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    client.get(path, **headers)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.content[:500]!r}")
    return len(captured.captured_queries), response, [q["sql"] for q in captured.captured_queries]


def api_queries(token: str, expected_rows: int, verbose: bool) -> int:
    from django.test import Client  # noqa: PLC0415

    path = f"{API_PATH}?page_size={expected_rows}"
    count, response, sql = count_queries(Client(), path, HTTP_AUTHORIZATION=f"Bearer {token}")
    rows = len(response.json()["results"])
    if rows != expected_rows:
        raise SystemExit(f"GET {path} returned {rows} rows, expected {expected_rows}")
    info(f"API list page with {rows} rows: {count} queries")
    if verbose:
        for statement in sql:
            info(f"    {statement[:200]}")
    return count


def html_queries(user, expected_rows: int, verbose: bool) -> int:
    from django.test import override_settings  # noqa: PLC0415

    # DEBUG is off, so settings use whitenoise's manifest storage, and no manifest exists unless
    # collectstatic ran; `{% static %}` would fail. Plain storage changes no query.
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        count, response, sql = count_queries(verified_client(user), HTML_PATH)
    rows = response.content.decode().count("<tr><td><a href=")
    from accounts.views import CustomerListView  # noqa: PLC0415

    page_size = CustomerListView.paginate_by
    if rows != min(expected_rows, page_size):
        raise SystemExit(f"GET {HTML_PATH} showed {rows} rows, expected {min(expected_rows, page_size)}")
    info(f"HTML list page with {rows} rows: {count} queries")
    if verbose:
        for statement in sql:
            info(f"    {statement[:200]}")
    return count


def earnings_queries(token: str, verbose: bool) -> int:
    """Queries of the earnings API's first page (informational: one list query is the goal)."""
    from django.test import Client  # noqa: PLC0415

    count, response, sql = count_queries(Client(), EARNINGS_API_PATH, HTTP_AUTHORIZATION=f"Bearer {token}")
    info(f"earnings API page with {len(response.json()['results'])} rows: {count} queries")
    if verbose:
        for statement in sql:
            info(f"    {statement[:200]}")
    return count


def profile_api(token: str, requests: int, path: str = API_PATH) -> None:
    """cProfile a loop of in-process API list requests (the default page of 50)."""
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    from django.test import Client  # noqa: PLC0415

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for _ in range(20):
        client.get(path, **headers)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path, **headers)
    profiler.disable()
    elapsed = time.perf_counter() - started
    info(f"profile: {requests} in-process requests of {path}, {elapsed / requests * 1000:.2f} ms each")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


# --- The server and the load generator -------------------------------------------------------------


class Server:
    """One gunicorn serving the portal with bench._urls on a free 127.0.0.1 port."""

    def __init__(self, env: dict[str, str], workers: int, threads: int):
        self.port = _common.free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--chdir",
            str(ROOT),
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.workers = workers

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"gunicorn exited with {self.process.returncode}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    status, _ = fetch(self.port, path)
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        self.fail("gunicorn did not answer in time")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry))
        return pids

    def owner_of(self, client: socket.socket) -> int | None:
        """The worker holding the server side of `client`'s connection (from /proc), if accepted."""
        client_port = client.getsockname()[1]
        inode = None
        with open("/proc/net/tcp", encoding="ascii") as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if local_port == self.port and remote_port == client_port:
                    inode = fields[9]
                    break
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for pid in self.worker_pids():
            try:
                descriptors = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for descriptor in descriptors:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{descriptor}") == target:
                        return pid
                except OSError:
                    continue
        return None

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far."""
        total = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def fail(self, message: str):
        self.stop(keep_log=True)
        tail = Path(self.log.name).read_text(errors="replace")[-4000:]
        raise SystemExit(f"{message}\n--- gunicorn log ({self.log.name}) ---\n{tail}")

    def stop(self, keep_log: bool = False) -> None:
        """Stop the server; its log is deleted unless asked for or it holds errors."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        log = Path(self.log.name)
        if log.exists() and (keep_log or "Traceback" in log.read_text(errors="replace")):
            info(f"gunicorn log kept: {log}")
        else:
            log.unlink(missing_ok=True)


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class _Connection:
    """A keep-alive HTTP/1.1 connection with a minimal response reader (little client CPU)."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.connect()

    def connect(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, payload: bytes) -> int:
        sock = self.sock
        sock.sendall(payload)
        buffer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buffer += chunk
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
        head = buffer[:end].split(b"\r\n")
        status = int(head[0].split(b" ", 2)[1])
        length = None
        close = False
        for line in head[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not supported by this load generator")
        if length is None:
            raise ValueError("response without Content-Length")
        remaining = length - (len(buffer) - end - 4)
        while remaining > 0:
            chunk = sock.recv(min(remaining, 262144))
            if not chunk:
                raise ConnectionError("server closed the connection mid-body")
            remaining -= len(chunk)
        if close:
            self.connect()
        return status


def balanced_connections(
    server: Server, payload: bytes, connections: int
) -> tuple[list[_Connection], list[int]]:
    """Keep-alive connections spread evenly over the workers; returns them and the spread.

    A gthread worker keeps every connection it accepts, and which worker wins an accept is a race:
    left alone, one worker often ends up with most connections and the run measures one core.
    Each connection makes one request (so it is surely accepted), then is kept only when its worker
    still has room.
    """
    workers = server.worker_pids()
    share = -(-connections // len(workers))
    taken = dict.fromkeys(workers, 0)
    pool: list[_Connection] = []
    for _ in range(connections * 20):
        if len(pool) == connections:
            break
        conn = _Connection(server.port)
        conn.request(payload)
        owner = server.owner_of(conn.sock)
        if owner in taken and taken[owner] < share:
            taken[owner] += 1
            pool.append(conn)
        else:
            conn.sock.close()
    while len(pool) < connections:  # balancing failed: take what comes
        pool.append(_Connection(server.port))
    return pool, sorted(taken.values(), reverse=True)


def load(server: Server, payload: bytes, connections: int, duration: float) -> dict[str, float]:
    """Requests/second over `duration` seconds with `connections` keep-alive connections."""
    pool, per_worker = balanced_connections(server, payload, connections)
    window: dict[str, float] = {}

    def start_clock() -> None:
        window["start"] = time.perf_counter()
        window["end"] = window["start"] + duration

    barrier = threading.Barrier(connections, action=start_clock)
    results: list[dict] = [{} for _ in range(connections)]

    def run(index: int) -> None:
        conn = pool[index]
        latencies: list[float] = []
        errors = 0
        failure = None
        barrier.wait()
        end = window["end"]
        try:
            while True:
                began = time.perf_counter()
                if began >= end:
                    break
                status = conn.request(payload)
                finished = time.perf_counter()
                if finished <= end:
                    latencies.append(finished - began)
                    if status != 200:
                        errors += 1
        except (OSError, ValueError) as exc:
            failure = repr(exc)
        results[index] = {"latencies": latencies, "errors": errors, "failure": failure}

    cpu_before = time.process_time()
    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client_cpu = time.process_time() - cpu_before
    for conn in pool:
        conn.sock.close()
    failures = [r["failure"] for r in results if r["failure"]]
    if failures:
        raise SystemExit(f"load generator failed: {failures[0]}")
    latencies = sorted(x for r in results for x in r["latencies"])
    if not latencies:
        raise SystemExit("no request completed within the run")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "errors": sum(r["errors"] for r in results),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "client_cpu": client_cpu / duration,
        "per_connection": [len(r["latencies"]) for r in results],
        "per_worker": per_worker,
    }


def request_bytes(port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def same_rows(port: int, api_headers: dict[str, str], bare_path: str, api_path: str = API_PATH) -> int:
    """Both endpoints answer the same first page; returns its row count."""
    status_api, body_api = fetch(port, api_path, api_headers)
    status_bare, body_bare = fetch(port, bare_path)
    if status_api != 200 or status_bare != 200:
        raise SystemExit(f"API answered {status_api}, bare view {status_bare}: {body_api[:300]!r}")
    api_rows = json.loads(body_api)["results"]
    bare_rows = json.loads(body_bare)["results"]
    if api_rows != bare_rows:
        first = next((i for i, (a, b) in enumerate(zip(api_rows, bare_rows, strict=False)) if a != b), None)
        detail = f"row {first}: {api_rows[first]} != {bare_rows[first]}" if first is not None else "lengths"
        raise SystemExit(f"The bare view does not serve the API's rows ({detail})")
    if not api_rows:
        raise SystemExit(f"GET {api_path} returned no rows")
    # Byte-identical rows when the bare view writes JSON as DRF does (the envelopes' `next` differ).
    marker = b'"results":'
    identical = body_api[body_api.find(marker) :] == body_bare[body_bare.find(marker) :]
    info(
        f"same page from {api_path} and the bare view: {len(api_rows)} rows, "
        f"{len(body_api)} vs {len(body_bare)} bytes{', rows byte-identical' if identical else ''}"
    )
    return len(api_rows)


# --- Main -----------------------------------------------------------------------------------------


def main() -> None:
    args = _common.parse_args(
        __doc__.splitlines()[0], default_rows=20000, quick_rows=2000, configure=configure
    )
    duration = args.duration or (3.0 if args.quick else 10.0)
    rounds = args.rounds or (2 if args.quick else 3)
    warmup = 1.0 if args.quick else 2.0

    started = time.perf_counter()
    env = _common.setup_django({"API_THROTTLE_RATE": THROTTLE_RATE})

    big = ensure_organization(*BIG_ORG)
    small = ensure_organization(*SMALL_ORG)
    medium = ensure_organization(*MEDIUM_ORG)
    changed = ensure_customers(big, args.rows)
    changed_earnings = ensure_earnings(big, args.rows)
    ensure_customers(small, SMALL_ROWS)
    ensure_customers(medium, MEDIUM_ROWS)
    tokens = {org.pk: ensure_token(org) for org in (big, small, medium)}
    people = {org.pk: ensure_person(org) for org in (small, medium)}
    vacuumed = time.perf_counter()
    vacuum_earnings()
    info(f"earnings tables vacuumed in {time.perf_counter() - vacuumed:.1f}s")
    info(
        f"data ready in {time.perf_counter() - started:.1f}s: organization {big.pk} with {args.rows} "
        f"customers ({changed} rows written or trimmed) and {args.rows} earnings rows ({changed_earnings} "
        f"written or trimmed), {SMALL_ROWS} and {MEDIUM_ROWS} customers for query counts"
    )

    # --- Queries per page
    api_q_small = api_queries(tokens[small.pk], SMALL_ROWS, args.verbose)
    api_q_medium = api_queries(tokens[medium.pk], MEDIUM_ROWS, args.verbose)
    html_q_small = html_queries(people[small.pk], SMALL_ROWS, args.verbose)
    html_q_medium = html_queries(people[medium.pk], MEDIUM_ROWS, args.verbose)
    earnings_queries(tokens[big.pk], args.verbose)
    if args.profile:
        profile_api(tokens[big.pk], args.profile)
        profile_api(tokens[big.pk], args.profile, EARNINGS_API_PATH)

    # --- Request rate
    from bench._urls import BARE_CUSTOMERS_PATH, BARE_EARNINGS_PATH  # noqa: PLC0415 - needs Django set up

    server_env = dict(env, DJANGO_ROOT_URLCONF="bench._urls", API_THROTTLE_RATE=THROTTLE_RATE)
    api_headers = {"Authorization": f"Bearer {tokens[big.pk]}"}
    # (API path, bare path) of each pair; every round runs both pairs.
    pairs = {
        "customers": (API_PATH, f"{BARE_CUSTOMERS_PATH}?org={big.pk}"),
        "earnings": (EARNINGS_API_PATH, f"{BARE_EARNINGS_PATH}?org={big.pk}"),
    }
    server = Server(server_env, args.workers, args.threads)
    try:
        server.wait_ready(pairs["customers"][1])
        info(
            f"gunicorn gthread {args.workers}x{args.threads} on 127.0.0.1:{server.port}, "
            f"{args.connections} keep-alive connections, {rounds} x {duration:g}s per endpoint"
        )
        payloads: dict[tuple[str, str], bytes] = {}
        for pair, (api_path, bare_path) in pairs.items():
            same_rows(server.port, api_headers, bare_path, api_path)
            payloads[pair, "api"] = request_bytes(server.port, api_path, api_headers)
            payloads[pair, "bare"] = request_bytes(server.port, bare_path, {})
        for payload in payloads.values():
            load(server, payload, args.connections, warmup)
        runs: dict[tuple[str, str], list[dict]] = {key: [] for key in payloads}
        for round_number in range(rounds):
            order = ("api", "bare") if round_number % 2 == 0 else ("bare", "api")
            for pair in pairs:
                for name in order:
                    cpu_before = server.cpu_seconds()
                    result = load(server, payloads[pair, name], args.connections, duration)
                    result["server_ms_per_request"] = (
                        (server.cpu_seconds() - cpu_before) / result["requests"] * 1000
                    )
                    runs[pair, name].append(result)
                    if result["errors"]:
                        raise SystemExit(f"{pair} {name}: {result['errors']} responses were not 200")
                    info(
                        f"round {round_number + 1} {pair:9} {name:4}: {result['rps']:7.1f} rps, "
                        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                        f"worker CPU {result['server_ms_per_request']:.2f} ms/request, "
                        f"client CPU {result['client_cpu'] * 100:.0f}%, "
                        f"connections per worker {'/'.join(map(str, result['per_worker']))}"
                    )
    finally:
        server.stop()

    rps: dict[str, tuple[float, float]] = {}
    for pair in pairs:
        api_rps = statistics.median(r["rps"] for r in runs[pair, "api"])
        bare_rps = statistics.median(r["rps"] for r in runs[pair, "bare"])
        api_cpu = statistics.median(r["server_ms_per_request"] for r in runs[pair, "api"])
        bare_cpu = statistics.median(r["server_ms_per_request"] for r in runs[pair, "bare"])
        rps[pair] = (api_rps, bare_rps)
        info(
            f"{pair}: median of {rounds} runs each; worker CPU per request: "
            f"API {api_cpu:.2f} ms, bare {bare_cpu:.2f} ms (ratio {bare_cpu / api_cpu:.2f})"
        )
    info(f"total {time.perf_counter() - started:.0f}s")

    api_rps, bare_rps = rps["customers"]
    bench_line("api_list_rps", api_rps, "rps", bare_rps, "rps", api_rps / bare_rps, ">=", RPS_TARGET)
    bench_line("api_list_queries", api_q_medium, "q", api_q_small, "q", api_q_medium / api_q_small, "<=", 1.0)
    bench_line(
        "html_list_queries", html_q_medium, "q", html_q_small, "q", html_q_medium / html_q_small, "<=", 1.0
    )
    api_rps, bare_rps = rps["earnings"]
    bench_line("api_earnings_rps", api_rps, "rps", bare_rps, "rps", api_rps / bare_rps, ">=", RPS_TARGET)


if __name__ == "__main__":
    main()
