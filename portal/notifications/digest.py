"""The daily digest: one e-mail per person gathering the notifications they chose to receive that
way and that no digest has carried yet. Built in one statement whatever the number of people: the
message's frame is rendered once and each person's list is aggregated in SQL."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from portal.notifications.categories import Channel
from portal.notifications.email import outbox_deliver_later, render_message
from portal.notifications.models import Notification, OutboxMessage

ITEMS, COUNT = "@@ITEMS@@", "@@COUNT@@"


def _escaped(expression: str) -> str:
    """HTML-escaped text in SQL (the list is built there, not by the template engine)."""
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        literal = raw.replace("'", "''")
        expression = f"replace({expression}, '{literal}', '{entity}')"
    return expression


@transaction.atomic
def digest_send(*, until: datetime | None = None) -> dict[str, int]:
    """Queue today's digest for everyone with notifications waiting for one; returns the counts.

    A second run the same day queues nothing new: each notification is marked as carried, and the
    digest's key (person and day) is unique; items that arrive after a person's digest of the day
    wait for the next day's.
    """
    until = until or timezone.now()
    text_frame, html_frame = render_message(
        {"items": ITEMS, "count": COUNT}, template="notifications/email/digest"
    )
    quote = connection.ops.quote_name
    notifications = quote(Notification._meta.db_table)
    users = quote(get_user_model()._meta.db_table)
    organizations = quote(apps.get_model("accounts", "Organization")._meta.db_table)
    link = "%(site)s || n.url"
    title = _escaped("n.title")
    anchor = f"'<a href=\"' || {_escaped(link)} || '\">' || {title} || '</a>'"
    statement = f"""
        WITH due AS (
            SELECT n.id, n.recipient_id, n.organization_id, n.title, n.url, n.created_at
            FROM {notifications} n
            WHERE n.channel = %(digest)s AND n.digested_at IS NULL AND n.created_at <= %(until)s
        ), grouped AS (
            SELECT n.recipient_id, n.organization_id, count(*) AS total,
                   string_agg('- ' || n.title || CASE WHEN n.url <> '' THEN E'\\n  ' || {link} ELSE '' END,
                              E'\\n' ORDER BY n.created_at, n.id) AS text_items,
                   string_agg('<li>' || CASE WHEN n.url <> '' THEN {anchor} ELSE {title} END || '</li>',
                              '' ORDER BY n.created_at, n.id) AS html_items
            FROM due n GROUP BY n.recipient_id, n.organization_id
        ), mailed AS (
            INSERT INTO {quote(OutboxMessage._meta.db_table)}
                (organization_id, notification_id, key, category, to_email, subject, text_body, html_body,
                 status, attempts, last_error, created_at)
            SELECT g.organization_id, NULL, 'digest:' || g.recipient_id || ':' || %(day)s, 'digest', u.email,
                   '[' || o.legal_name || '] Your daily digest: ' || g.total || ' update'
                       || CASE WHEN g.total = 1 THEN '' ELSE 's' END,
                   replace(replace(%(text)s, %(items)s, g.text_items), %(count)s, g.total::text),
                   replace(replace(%(html)s, %(items)s, g.html_items), %(count)s, g.total::text),
                   'queued', 0, '', %(until)s
            FROM grouped g
            JOIN {users} u ON u.id = g.recipient_id AND u.is_active
            JOIN {organizations} o ON o.id = g.organization_id
            ON CONFLICT (key) DO NOTHING
            RETURNING id, split_part(key, ':', 2)::integer AS recipient_id
        ), carried AS (
            -- Only what a digest written now carries: a person whose digest of the day went out
            -- already keeps their later items for the next one.
            UPDATE {notifications} n SET digested_at = %(until)s
            FROM due JOIN mailed m ON m.recipient_id = due.recipient_id
            WHERE n.id = due.id
            RETURNING n.id
        )
        SELECT (SELECT count(*) FROM carried), coalesce((SELECT array_agg(id) FROM mailed), '{{}}')
    """
    params = {
        "digest": Channel.DIGEST,
        "until": until,
        "day": timezone.localdate(until).isoformat(),
        "site": settings.SITE_URL.rstrip("/"),
        "text": text_frame,
        "html": html_frame,
        "items": ITEMS,
        "count": COUNT,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        carried, mailed = cursor.fetchone()
    outbox_deliver_later(sorted(mailed))
    return {"notifications": carried, "emails": len(mailed)}
