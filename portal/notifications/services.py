"""Telling people: `notify` fans one event out to the people it concerns, set-based, and queues the
e-mails of those who want them at once; reading, marking read and choosing how each category
reaches a person."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.notifications.categories import Channel, categories, category
from portal.notifications.email import absolute_url, outbox_deliver_later, render_message, subject_for
from portal.notifications.models import (
    Notification,
    NotificationDefault,
    NotificationPreference,
    OutboxMessage,
)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@transaction.atomic
def notify(
    *,
    category_code: str,
    organization_id: int,
    recipients: QuerySet,
    title: str,
    event_key: str,
    body: str = "",
    url: str = "",
    organization_name: str | None = None,
) -> int:
    """Notify the active people of `recipients` (a User queryset) who belong to `organization_id`
    about one event; returns how many were notified.

    Constant in the number of people: one query reads who they are, one statement writes the
    notifications with each person's channel (their preference, else the organization's default,
    else the category's; critical categories always by e-mail), skipping anyone this event already
    notified (`event_key`), and the e-mails of those who want them at once, rendered once.
    Nobody outside the organization is ever notified, whatever `recipients` holds.
    """
    found = category(category_code)
    people = list(recipients.values_list("pk", flat=True))
    if not people:
        return 0
    users = _table(get_user_model())
    if organization_name is None:
        organization = apps.get_model("accounts", "Organization")
        organization_name = (
            organization.objects.filter(pk=organization_id).values_list("legal_name", flat=True).first()
        )
    channel = "%(email)s" if found.critical else "coalesce(p.channel, d.channel, %(default)s)"
    text, html = render_message(
        {
            "title": title,
            "body": body,
            "url": absolute_url(url),
            "organization_name": organization_name,
            "category": found,
        }
    )
    statement = f"""
        WITH created AS (
            INSERT INTO {_table(Notification)}
                (organization_id, recipient_id, category, title, body, url, event_key, channel, created_at)
            SELECT u.organization_id, u.id, %(category)s, %(title)s, %(body)s, %(url)s, %(event_key)s,
                   {channel}, %(now)s
            FROM {users} u
            LEFT JOIN {_table(NotificationPreference)} p ON p.user_id = u.id AND p.category = %(category)s
            LEFT JOIN {_table(NotificationDefault)} d
                   ON d.organization_id = u.organization_id AND d.category = %(category)s
            WHERE u.id = ANY(%(people)s) AND u.organization_id = %(organization)s AND u.is_active
              AND {channel} <> %(off)s
            ON CONFLICT (recipient_id, event_key) DO NOTHING
            RETURNING id, recipient_id, channel
        ), mailed AS (
            INSERT INTO {_table(OutboxMessage)}
                (organization_id, notification_id, key, category, to_email, subject, text_body, html_body,
                 status, attempts, last_error, created_at)
            SELECT %(organization)s, c.id, 'notification:' || c.id, %(category)s, u.email, %(subject)s,
                   %(text)s, %(html)s, 'queued', 0, '', %(now)s
            FROM created c JOIN {users} u ON u.id = c.recipient_id
            WHERE c.channel = %(email)s
            RETURNING id
        )
        SELECT (SELECT count(*) FROM created), coalesce((SELECT array_agg(id) FROM mailed), '{{}}')
    """
    params = {
        "people": people,
        "category": found.code,
        "title": title[:200],
        "body": body,
        "url": url[:500],
        "event_key": event_key[:200],
        "now": timezone.now(),
        "organization": organization_id,
        "email": Channel.EMAIL,
        "off": Channel.OFF,
        "default": found.default,
        "subject": subject_for(title, organization_name)[:300],
        "text": text,
        "html": html,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        count, mailed = cursor.fetchone()
    outbox_deliver_later(sorted(mailed))
    return count


# --- Reading --------------------------------------------------------------------------------------


def notifications_mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the person's notifications read (these `ids`, or all); returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


# --- Preferences ----------------------------------------------------------------------------------


def _check_choice(code: str, channel: str) -> None:
    try:
        found = category(code)
    except LookupError:
        raise ValidationError({"category": f"{code!r} is not a notification category."}) from None
    if channel not in Channel.values:
        raise ValidationError({"channel": f"{channel!r} is not one of {', '.join(Channel.values)}."})
    if found.critical and channel != Channel.EMAIL:
        raise ValidationError(
            {"channel": f"{found.label} is security-critical: it is always e-mailed at once."}
        )


@transaction.atomic
def preferences_set(*, user: Any, choices: dict[str, str]) -> None:
    """A person's channel per category; a choice equal to the default they would get is removed."""
    for code, channel in choices.items():
        _check_choice(code, channel)
    for code, channel in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user, category=code, defaults={"channel": channel}
        )


@transaction.atomic
def defaults_set(*, organization_id: int, choices: dict[str, str]) -> None:
    """The organization's default channel per category (its admins' choice)."""
    for code, channel in choices.items():
        _check_choice(code, channel)
    for code, channel in choices.items():
        NotificationDefault.objects.update_or_create(
            organization_id=organization_id, category=code, defaults={"channel": channel}
        )


def preferences_for(user: Any) -> list[dict[str, Any]]:
    """Each category with the person's channel, the default they would otherwise get, and whether
    they may change it."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("category", "channel"))
    defaults = dict(
        NotificationDefault.objects.filter(organization_id=user.organization_id).values_list(
            "category", "channel"
        )
    )
    rows = []
    for found in categories():
        default = Channel.EMAIL if found.critical else defaults.get(found.code, found.default)
        rows.append(
            {
                "category": found,
                "channel": Channel.EMAIL if found.critical else chosen.get(found.code, default),
                "default": default,
                "locked": found.critical,
            }
        )
    return rows
