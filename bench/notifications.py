"""Notifications at the scale of a large partner: one event fanned out to thousands of people, and
the daily digest of ten thousand.

    python bench/notifications.py [--rows 10000] [--quick]   (quick: 1,000 people)

1. Data, set-based and idempotent: one organization with `--rows` people (unusable passwords: no
   hashing), and, for the digest, three notifications per person waiting for it.
2. Fan-out: `notify` of one event to 50 people and to 5,000 (a tenth of `--rows` with `--quick`)
   with the e-mail channel (one notification and one queued e-mail per person), counting the
   queries of each; the figure is the query count at the large size beside the small one (equal:
   constant in the number of people). Each call runs in a transaction rolled back afterwards, so
   nothing is sent and every round starts from the same state; the time of each is printed.
3. Digest: `digest_send` for every person (one e-mail each, gathering their three notifications),
   beside the hand-written SQL of the same grouping — the same rows read, grouped per person with
   the same text and HTML lists, one row written per person and the notifications marked carried —
   each in a transaction rolled back afterwards; median of the rounds after one warm-up.

Prints `BENCH notifications:fanout_queries` (target ≤ 1) and `BENCH notifications:digest`
(target ≤ 2).
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

ORGANIZATION = ("9900030", "Bench Notifications GmbH")
CATEGORY = "bench.notice"
DIGEST_CATEGORY = "bench.digest_item"
DIGEST_ITEMS = 3
ROUNDS = 3


class _RolledBack(Exception):
    """Raised to roll a measured transaction back (nothing is sent, the next round starts clean)."""


def ensure_data(people: int):
    from django.db import connection  # noqa: PLC0415

    from accounts.models import Organization, User  # noqa: PLC0415
    from portal.notifications.models import Notification  # noqa: PLC0415

    organization, _ = Organization.objects.get_or_create(
        partner_global_id=ORGANIZATION[0], defaults={"legal_name": ORGANIZATION[1], "country": "DE"}
    )
    have = User.objects.filter(organization=organization).count()
    if have < people:
        User.objects.bulk_create(
            [
                User(
                    email=f"person{n}@notify.bench.example",
                    display_name=f"Person {n}",
                    organization=organization,
                    password="!",  # unusable: nobody signs in, nothing to hash
                )
                for n in range(have + 1, people + 1)
            ],
            batch_size=2_000,
            ignore_conflicts=True,
        )
    waiting = Notification.objects.filter(
        organization=organization, category=DIGEST_CATEGORY, digested_at__isnull=True
    ).count()
    if waiting < people * DIGEST_ITEMS:
        Notification.objects.filter(organization=organization, category=DIGEST_CATEGORY).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Notification._meta.db_table}
                    (organization_id, recipient_id, category, title, body, url, event_key, channel,
                     created_at)
                SELECT u.organization_id, u.id, %s, 'Claim C-' || u.id || '-' || i || ' approved', '',
                       '/incentives/claims/' || (u.id * 10 + i) || '/', 'bench:' || u.id || ':' || i,
                       'digest', now() - interval '1 hour'
                FROM {User._meta.db_table} u CROSS JOIN generate_series(1, %s) AS i
                WHERE u.organization_id = %s
                """,
                [DIGEST_CATEGORY, DIGEST_ITEMS, organization.pk],
            )
            cursor.execute(f"ANALYZE {Notification._meta.db_table}")
    return organization


def _rolled_back(work):
    """Run `work()` in a transaction that is rolled back; returns (seconds, queries, result)."""
    from django.db import connection, transaction  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    outcome = {}
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            outcome["result"] = work()
            outcome["seconds"] = time.perf_counter() - started
            outcome["queries"] = len(queries.captured_queries)
            raise _RolledBack
    except _RolledBack:
        pass
    return outcome["seconds"], outcome["queries"], outcome["result"]


def fan_out(organization, size: int) -> tuple[float, int, int]:
    from accounts.audiences import people  # noqa: PLC0415
    from portal.notifications.services import notify  # noqa: PLC0415

    ids = list(people(organization.pk).order_by("pk").values_list("pk", flat=True)[:size])

    def work():
        return notify(
            category_code=CATEGORY,
            organization_id=organization.pk,
            recipients=people(organization.pk).filter(pk__in=ids),
            title="Inbound referral received: Northwind data platform",
            body="Answer it within 14 days.",
            url="/cosell/referrals/1/",
            event_key=f"bench:fan-out:{size}",
            organization_name=organization.legal_name,
        )

    return _rolled_back(work)


def _reference_digest(organization_id: int) -> int:
    """The same grouping in hand-written SQL: each person's waiting items as a text and an HTML
    list, one row per person written, the items marked carried."""
    from django.db import connection  # noqa: PLC0415

    from portal.notifications.digest import _escaped  # noqa: PLC0415 - the same HTML escaping

    escaped_link, escaped_title = _escaped("'https://portal.example' || url"), _escaped("title")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS bench_digest_reference
                (recipient_id integer, to_email text, subject text, text_body text, html_body text)
            """
        )
        cursor.execute(
            f"""
            WITH due AS (
                SELECT id, recipient_id, organization_id, title, url, created_at FROM portal_notification
                WHERE channel = 'digest' AND digested_at IS NULL
            ), grouped AS (
                SELECT recipient_id, organization_id, count(*) AS total,
                       string_agg('- ' || title || E'\\n  https://portal.example' || url, E'\\n'
                                  ORDER BY created_at, id) AS text_items,
                       string_agg('<li><a href="' || {escaped_link} || '">' || {escaped_title}
                                  || '</a></li>', '' ORDER BY created_at, id) AS html_items
                FROM due GROUP BY recipient_id, organization_id
            ), written AS (
                INSERT INTO bench_digest_reference
                SELECT g.recipient_id, u.email, '[' || o.legal_name || '] Your daily digest: ' || g.total,
                       'Your daily digest' || E'\\n' || g.text_items, '<ul>' || g.html_items || '</ul>'
                FROM grouped g JOIN accounts_user u ON u.id = g.recipient_id
                JOIN accounts_organization o ON o.id = g.organization_id
                RETURNING 1
            ), carried AS (
                UPDATE portal_notification n SET digested_at = now() FROM due WHERE n.id = due.id RETURNING 1
            )
            SELECT (SELECT count(*) FROM written), (SELECT count(*) FROM carried)
            """
        )
        return cursor.fetchone()[0]


def run(people: int, quick: bool) -> list[str]:
    from portal.notifications import Category, Channel, register_category  # noqa: PLC0415
    from portal.notifications.digest import digest_send  # noqa: PLC0415

    register_category(Category(CATEGORY, "Bench notice"))
    register_category(Category(DIGEST_CATEGORY, "Bench digest item", default=Channel.DIGEST))
    organization = ensure_data(people)
    large = max(50, people // 10 if quick else 5_000)

    fan_out(organization, 50)  # warm-up: templates loaded, plans cached
    small_seconds, small_queries, small_count = fan_out(organization, 50)
    large_seconds, large_queries, large_count = fan_out(organization, large)
    info(f"fan-out to {small_count} people: {small_queries} queries, {small_seconds * 1000:.0f} ms")
    info(f"fan-out to {large_count} people: {large_queries} queries, {large_seconds * 1000:.0f} ms")

    digest_times, reference_times = [], []
    for round_number in range(ROUNDS + 1):
        seconds, _queries, result = _rolled_back(digest_send)
        reference, _, written = _rolled_back(lambda: _reference_digest(organization.pk))
        if round_number:  # the first round warms the caches
            digest_times.append(seconds)
            reference_times.append(reference)
    emails, notifications = result["emails"], result["notifications"]
    info(f"digest: {emails} e-mails from {notifications} notifications; the reference wrote {written}")
    digest, reference = statistics.median(digest_times), statistics.median(reference_times)
    return [
        bench_line(
            "notifications:fanout_queries",
            large_queries,
            "q",
            small_queries,
            "q",
            large_queries / small_queries,
            "<=",
            1,
        ),
        bench_line("notifications:digest", digest, "s", reference, "s", digest / reference, "<=", 2),
    ]


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0], default_rows=10_000, quick_rows=1_000)
    _common.setup_django()
    run(args.rows, args.quick)


if __name__ == "__main__":
    main()
