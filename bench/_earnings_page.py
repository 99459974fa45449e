"""The Earnings page's server time with a long history beside the same page with a short one.

    python bench/_earnings_page.py [--rows 5000000] [--quick]

1. Data, set-based and kept between runs: two organizations whose partners earn 50,000 ledger rows
   a month. The history organization holds `--rows` rows over rows/50,000 months ending this month
   (5,000,000 rows: 100 months); the reference organization holds 50,000 rows, this month's. Both
   are written by ONE `INSERT … SELECT` over generate_series ordered by month, so their ids
   interleave as monthly payout runs would write them: six solution areas × four partner roles
   (24 levers), three enrollments, 5,000 customers, rows older than three months paid (Sent).
   Then EarningSummary by `earnings.services.summary.summary_rebuild`, payments per enrollment
   and month, VACUUM ANALYZE.
2. The page, timed in-process through the Django test Client (a signed-in person with a verified
   second factor, full middleware): `GET /earnings/` filtered by solution area, partner role and
   payment month (this month's payments) — cards, chart and the first table page. The figure is
   the median server time of `--repeat` requests per organization after two warm-ups, the two
   organizations alternating.

Prints `BENCH earnings_page value=<history>ms reference=<50k rows>ms ratio=… target=<=1.5`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _common  # noqa: E402
from bench._common import bench_line, info  # noqa: E402

HISTORY_ORG = ("9900300", "Bench Earnings History Partner GmbH")
REFERENCE_ORG = ("9900301", "Bench Earnings Reference Partner Ltd")
REFERENCE_ROWS = 50_000
#: Its own database: five million rows of history are kept between runs.
DATABASE = "portal_bench_earnings_page"
MONTHLY_ROWS = 50_000
PROGRAM_CODE = "BENCHPG"
ROLES = ("Build intent", "Transact", "Deploy", "Use")
SOLUTION_AREAS = (
    "Infra",
    "Data & AI",
    "Digital & App Innovation",
    "Business Applications",
    "Modern Work",
    "Security",
)
TARGET = 1.5


def configure(parser) -> None:
    parser.add_argument("--repeat", type=int, default=9, help="timed requests per organization (9)")


# --- Data -----------------------------------------------------------------------------------------


def _vendor_data():
    """The bench program, one engagement per solution area and one lever per partner role."""
    from datetime import date  # noqa: PLC0415

    from earnings.models import Engagement, Lever, Program  # noqa: PLC0415

    program, _ = Program.objects.get_or_create(
        code=PROGRAM_CODE, defaults={"name": "Bench Commerce Incentives", "starts_on": date(2010, 1, 1)}
    )
    levers = []
    for index, area in enumerate(SOLUTION_AREAS):
        engagement, _ = Engagement.objects.get_or_create(
            engagement_id=f"BENCH-PG-{index}",
            defaults={
                "program": program,
                "name": f"{area} Core",
                "solution_area": area,
                "starts_on": date(2010, 1, 1),
            },
        )
        for role in ROLES:
            lever, _ = Lever.objects.get_or_create(
                engagement=engagement, partner_role=role, defaults={"name": f"{role} – {area}"}
            )
            levers.append(lever)
    return program, levers


def _organization(key: tuple[str, str], program):
    """The organization, its three enrolled locations and a person who may view earnings."""
    from datetime import date  # noqa: PLC0415

    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    from accounts.models import Organization, PartnerLocation, RoleAssignment, User  # noqa: PLC0415
    from earnings.models import Enrollment  # noqa: PLC0415
    from portal.roles import Role

    organization, _ = Organization.objects.get_or_create(
        partner_global_id=key[0],
        defaults={"legal_name": key[1], "country": "DE", "partner_types": ["services"]},
    )
    enrollments = []
    for n in range(3):
        location, _ = PartnerLocation.objects.get_or_create(
            organization=organization, partner_id=f"98{key[0][-3:]}0{n}", defaults={"country": "DE"}
        )
        enrollment, _ = Enrollment.objects.get_or_create(
            participant_id=location.partner_id,
            program=program,
            defaults={
                "organization": organization,
                "location": location,
                "participant_name": key[1],
                "enrolled_from": date(2010, 1, 1),
                "bank_profile_ok": True,
                "tax_profile_ok": True,
            },
        )
        enrollments.append(enrollment)
    email = f"bench-earnings-{key[0]}@bench.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, None, organization=organization, display_name="Bench Person")
        RoleAssignment.objects.create(organization=organization, user=user, role=Role.INCENTIVES_ADMIN)
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return organization, enrollments, user


def _months(rows: int) -> int:
    return -(-rows // MONTHLY_ROWS)


def ensure_data(rows: int, today):
    """Both organizations with exactly their rows ending in `today`'s month; rebuilt only when the
    counts or the last month differ."""
    from django.db import connection  # noqa: PLC0415

    from earnings.models import Earning, EarningSummary, Payment  # noqa: PLC0415
    from earnings.periods import add_months, month_start  # noqa: PLC0415
    from earnings.services.summary import summary_rebuild  # noqa: PLC0415

    program, levers = _vendor_data()
    history, history_enrollments, history_user = _organization(HISTORY_ORG, program)
    reference, reference_enrollments, reference_user = _organization(REFERENCE_ORG, program)
    current = month_start(today)
    wanted = {history.pk: rows, reference.pk: REFERENCE_ROWS}
    ledger = Earning._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT organization_id, count(*), max(earning_date) FROM {ledger} "
            "WHERE organization_id = ANY(%s) GROUP BY organization_id",
            [list(wanted)],
        )
        found = {org: (count, last) for org, count, last in cursor.fetchall()}
    fresh = all(
        org in found and found[org][0] == count and month_start(found[org][1]) == current
        for org, count in wanted.items()
    )
    if not fresh:
        info(f"building {rows:,} + {REFERENCE_ROWS:,} earnings rows (set-based)…")
        started = time.perf_counter()
        _build(history, history_enrollments, reference, reference_enrollments, levers, rows, current)
        info(f"ledger written in {time.perf_counter() - started:.0f}s")
        started = time.perf_counter()
        summary_rebuild(list(wanted))
        _payments([*history_enrollments, *reference_enrollments], current, _months(rows))
        with connection.cursor() as cursor:
            for model in (Earning, EarningSummary, Payment):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        info(f"summary, payments and VACUUM ANALYZE in {time.perf_counter() - started:.0f}s")
    summary_rows = EarningSummary.objects.filter(organization=history).count()
    info(
        f"history: {rows:,} rows over {_months(rows)} months ({summary_rows:,} summary rows); reference: "
        f"{REFERENCE_ROWS:,} rows in {add_months(current, 0):%Y-%m}"
    )
    return history_user, reference_user


def _build(
    history, history_enrollments, reference, reference_enrollments, levers, rows: int, current
) -> None:
    from django.db import connection, transaction  # noqa: PLC0415

    from earnings.models import Earning, EarningSummary, Payment  # noqa: PLC0415
    from earnings.periods import add_months  # noqa: PLC0415

    ledger = Earning._meta.db_table
    organizations = [history.pk, reference.pk]
    months = _months(rows)
    first_month = add_months(current, 1 - months)
    reference_first = add_months(current, 1 - _months(REFERENCE_ROWS))
    lever_ids = [lever.pk for lever in levers]
    engagement_ids = [lever.engagement_id for lever in levers]
    areas = [area for area in SOLUTION_AREAS for _role in ROLES]
    roles = [role for _area in SOLUTION_AREAS for role in ROLES]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {EarningSummary._meta.db_table} WHERE organization_id = ANY(%s)", [organizations]
        )
        cursor.execute(f"DELETE FROM {ledger} WHERE organization_id = ANY(%s)", [organizations])
        cursor.execute(
            f"DELETE FROM {Payment._meta.db_table} WHERE organization_id = ANY(%s)", [organizations]
        )
        # One statement for both organizations, ordered by month: ids interleave as monthly runs
        # write them. Row n of an organization falls in month n / MONTHLY_ROWS from its first.
        cursor.execute(
            f"""
            WITH source AS (
                SELECT %(history)s::bigint AS org, %(history_enrollments)s::bigint[] AS enrollments,
                       %(first)s::date AS first_month, n
                  FROM generate_series(0, %(rows)s - 1) AS n
                UNION ALL
                SELECT %(reference)s, %(reference_enrollments)s::bigint[], %(reference_first)s::date, n
                  FROM generate_series(0, %(reference_rows)s - 1) AS n
            ), rows AS (
                SELECT org, enrollments, n, n %% 24 AS lever_index,
                       (first_month + make_interval(months => (n / %(monthly)s)::int))::date AS month
                  FROM source
            )
            INSERT INTO {ledger}
                (organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id,
                 engagement_id, lever_id, transaction_id, revision, claim_id, earning_type, earning_rate,
                 earning_amount, currency, earning_exchange_rate, exchange_rate_date, earning_amount_usd,
                 earning_date, calculation_date, estimated_payment_month, payment_id, payment_status,
                 solution_area, partner_role, partner_association, customer_id, customer_name,
                 product_id, product_name, job_id, created_by_id, created_at)
            SELECT org, 'BPG-' || org || '-' || n, 'earning', '', '', enrollments[1 + (n / 24) %% 3],
                   %(program)s, (%(engagements)s::bigint[])[1 + lever_index],
                   (%(levers)s::bigint[])[1 + lever_index], NULL, 1, '', 'Rebate', 0.04,
                   round(((n %% 997) + 10) * 0.04 / 1.085, 6), 'EUR', 1.085, month,
                   round(((n %% 997) + 10) * 0.04, 6),
                   month + (n %% 28), (month + interval '1 month')::date + 17,
                   (month + interval '3 months')::date, NULL,
                   CASE WHEN month + interval '3 months' < %(current)s THEN 'Sent' ELSE 'Unprocessed' END,
                   (%(areas)s::text[])[1 + lever_index], (%(roles)s::text[])[1 + lever_index], '', NULL,
                   'Customer ' || ((n::bigint * 7919) %% 5000),
                   'CFQ7TTC0' || lpad(((n / 7) %% 40)::text, 4, '0'),
                   'Product ' || ((n / 7) %% 40), NULL, NULL, now()
              FROM rows
             ORDER BY month, org, n
            """,
            {
                "history": history.pk,
                "history_enrollments": [e.pk for e in history_enrollments],
                "first": first_month,
                "rows": rows,
                "reference": reference.pk,
                "reference_enrollments": [e.pk for e in reference_enrollments],
                "reference_first": reference_first,
                "reference_rows": REFERENCE_ROWS,
                "monthly": MONTHLY_ROWS,
                "program": levers[0].engagement.program_id,
                "engagements": engagement_ids,
                "levers": lever_ids,
                "areas": areas,
                "roles": roles,
                "current": current,
            },
        )


def _payments(enrollments, current, months: int) -> None:
    """One Sent payment per enrollment and paid month, summed from the summary."""
    from django.db import connection  # noqa: PLC0415

    from earnings.models import EarningSummary, Payment  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Payment._meta.db_table}
                (organization_id, payment_id, enrollment_id, program_id, payment_month, status, method,
                 currency, earned, earned_usd, sales_tax, service_fee_tax, total_payment, payment_date,
                 ci_reference_number, created_at, updated_at)
            SELECT s.organization_id,
                   'BPG-' || s.enrollment_id || '-' || to_char(s.estimated_payment_month, 'YYYYMM'),
                   s.enrollment_id, s.program_id, s.estimated_payment_month, 'Sent',
                   'Electronic bank transfer', 'USD', sum(s.earning_amount_usd), sum(s.earning_amount_usd),
                   0, 0, sum(s.earning_amount_usd),
                   s.estimated_payment_month + 25, '', s.estimated_payment_month + 20, now()
              FROM {EarningSummary._meta.db_table} s
             WHERE s.enrollment_id = ANY(%s) AND s.payment_status = 'Sent'
             GROUP BY s.organization_id, s.enrollment_id, s.program_id, s.estimated_payment_month
            """,
            [[e.pk for e in enrollments]],
        )


# --- Measurement ----------------------------------------------------------------------------------


def _client(user):
    from django.test import Client  # noqa: PLC0415
    from django_otp import DEVICE_ID_SESSION_KEY  # noqa: PLC0415
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = (
        TOTPDevice.objects.filter(user=user, confirmed=True).first().persistent_id
    )
    session.save()
    return client


def _timed(client, path: str, params: dict) -> tuple[float, object]:
    started = time.perf_counter()
    response = client.get(path, params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return elapsed, response


def measure(users: dict[str, object], params: dict, repeat: int) -> dict[str, tuple[float, object]]:
    """Median server time (ms) per organization, requests alternating between them."""
    from django.urls import reverse  # noqa: PLC0415

    path = reverse("earnings:index")
    clients = {name: _client(user) for name, user in users.items()}
    for client in clients.values():
        for _ in range(2):
            _timed(client, path, params)
    times: dict[str, list[float]] = {name: [] for name in clients}
    last = {}
    for _ in range(repeat):
        for name, client in clients.items():
            elapsed, response = _timed(client, path, params)
            times[name].append(elapsed)
            last[name] = response
    return {name: (statistics.median(values), last[name]) for name, values in times.items()}


def run(rows: int, repeat: int = 9) -> list[str]:
    from django.test import override_settings  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from earnings.periods import add_months, month_start  # noqa: PLC0415
    from earnings.selectors.ledger import earnings_selection, earnings_total  # noqa: PLC0415

    today = timezone.localdate()
    history_user, reference_user = ensure_data(rows, today)
    users = {"history": history_user, "reference": reference_user}
    payment_month = add_months(month_start(today), 3)
    filtered = {
        "solutionArea": "Infra",
        "partnerRole": "Transact",
        "estimatedPaymentMonth": f"{payment_month:%Y-%m}",
    }
    # DEBUG is off, so settings use whitenoise's manifest storage, and no manifest exists unless
    # collectstatic ran; `{% static %}` would fail. Plain storage changes no query.
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        results = measure(users, filtered, repeat)
        unfiltered = measure(users, {}, max(3, repeat // 3))
    for name, (median, response) in results.items():
        source, total, count, _capped = earnings_total(earnings_selection(user=users[name], data=filtered))
        shown = response.content.decode().count('data-testid="earning-row"')
        info(
            f"{name}: {median:.1f} ms · total {total:,.2f} USD over {count:,} rows ({source}) · "
            f"first page {shown} rows"
        )
    info(
        "without filters: history {:.1f} ms, reference {:.1f} ms".format(
            unfiltered["history"][0], unfiltered["reference"][0]
        )
    )
    value, reference = results["history"][0], results["reference"][0]
    return [bench_line("earnings_page", value, "ms", reference, "ms", value / reference, "<=", TARGET)]


def main(argv: list[str] | None = None) -> None:
    args = _common.parse_args(
        __doc__.splitlines()[0], default_rows=5_000_000, quick_rows=200_000, configure=configure, argv=argv
    )
    _common.setup_django({"DATABASE_URL": _common.bench_database_url(name=DATABASE)})
    run(args.rows, repeat=args.repeat)


if __name__ == "__main__":
    main()
