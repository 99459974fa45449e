"""E-mail through the outbox: a message is queued in the transaction of what caused it (idempotently,
by its key) and sent by a worker once that commits; the status moves queued → sending → sent under
a row lock, so neither a retried task nor a second worker sends it twice. An unreachable SMTP server
leaves the message queued with its error (shown to staff in the admin) for the next attempt."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.notifications.categories import category as category_of
from portal.notifications.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

#: Messages a delivery task sends over one SMTP connection.
DELIVERY_BATCH = 100
#: A message still "sending" after this was lost with its worker: staff decide whether to resend.
SENDING_TIMEOUT = timedelta(minutes=15)
#: Errors after which the same message may be tried again later (the server never took it).
RETRYABLE = (smtplib.SMTPException, OSError)


def absolute_url(path: str) -> str:
    """A portal path as a link that works from a mailbox (`SITE_URL`)."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL.rstrip("/") + path


def subject_for(title: str, organization_name: str | None) -> str:
    return f"[{organization_name}] {title}" if organization_name else title


def render_message(
    context: dict[str, Any], *, template: str = "notifications/email/message"
) -> tuple[str, str]:
    """The plain-text and HTML parts of a message from `<template>.txt` and `.html`."""
    context = {
        "site_url": settings.SITE_URL.rstrip("/"),
        "preferences_url": absolute_url(reverse("portal:notification-preferences")),
        **context,
    }
    return render_to_string(f"{template}.txt", context), render_to_string(f"{template}.html", context)


def email_queue(
    *,
    key: str,
    to: str,
    title: str,
    body: str = "",
    url: str = "",
    organization_id: int | None = None,
    organization_name: str | None = None,
    category: str = "",
    template: str = "notifications/email/message",
    context: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Queue one e-mail (sent once the transaction commits); None if `key` was queued before."""
    text, html = render_message(
        {
            "title": title,
            "body": body,
            "url": absolute_url(url),
            "organization_name": organization_name,
            **(context or {}),
        },
        template=template,
    )
    message, created = OutboxMessage.objects.get_or_create(
        key=key[:200],
        defaults={
            "organization_id": organization_id,
            "category": category,
            "to_email": to,
            "subject": subject_for(title, organization_name)[:300],
            "text_body": text,
            "html_body": html,
        },
    )
    if not created:
        return None
    outbox_deliver_later([message.pk])
    return message


def outbox_deliver_later(ids: Sequence[int]) -> None:
    """Send these messages once the transaction commits, a batch per task."""
    if not ids:
        return
    from portal.tasks import outbox_deliver_task  # noqa: PLC0415 - tasks import this module

    batches = [list(ids[start : start + DELIVERY_BATCH]) for start in range(0, len(ids), DELIVERY_BATCH)]
    transaction.on_commit(lambda: [outbox_deliver_task.delay(batch) for batch in batches])


def _claim(pk: int) -> OutboxMessage | None:
    """The message, marked "sending" in its own committed transaction, if it is still to send."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=OutboxStatus.QUEUED)
            .first()
        )
        if message is None:
            return None
        message.status = OutboxStatus.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts"])
    return message


def _email(message: OutboxMessage, smtp) -> EmailMultiAlternatives:
    headers = {"Message-ID": f"<outbox-{message.pk}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"}
    if message.category:
        try:
            critical = category_of(message.category).critical
        except LookupError:
            critical = False
        if not critical:
            preferences = absolute_url(reverse("portal:notification-preferences"))
            headers["List-Unsubscribe"] = f"<{preferences}?category={message.category}>"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers=headers,
        connection=smtp,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    return email


def outbox_deliver(ids: Iterable[int]) -> list[int]:
    """Send each message still queued; returns the ids that failed and stay queued for a retry."""
    failed: list[int] = []
    smtp = get_connection(fail_silently=False)
    try:
        for pk in ids:
            message = _claim(pk)
            if message is None:
                continue  # sent, being sent, or not ours to send
            try:
                smtp.open()  # once: a no-op while the connection is open
                smtp.send_messages([_email(message, smtp)])
            except RETRYABLE as exc:
                logger.warning("outbox message %s not sent: %s", message.pk, exc)
                OutboxMessage.objects.filter(pk=message.pk).update(
                    status=OutboxStatus.QUEUED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
                )
                failed.append(message.pk)
                _reset(smtp)
            else:
                OutboxMessage.objects.filter(pk=message.pk).update(
                    status=OutboxStatus.SENT, sent_at=timezone.now(), last_error=""
                )
    finally:
        with contextlib.suppress(RETRYABLE):
            smtp.close()
    return failed


def _reset(smtp) -> None:
    """After an error the connection may be half-open: the next message opens a fresh one."""
    with contextlib.suppress(RETRYABLE):
        smtp.close()


def outbox_sweep() -> dict[str, int]:
    """Queued messages whose task was lost are sent again; messages stuck "sending" (their worker
    died mid-send) are marked uncertain for staff rather than risk sending them twice."""
    now = timezone.now()
    stuck = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, created_at__lt=now - SENDING_TIMEOUT
    ).update(
        status=OutboxStatus.UNCERTAIN, last_error="The worker was lost while sending; it may have gone out."
    )
    queued = list(
        OutboxMessage.objects.filter(status=OutboxStatus.QUEUED, created_at__lt=now - timedelta(minutes=1))
        .order_by("created_at")
        .values_list("pk", flat=True)[:10_000]
    )
    failed = outbox_deliver(queued) if queued else []
    return {"uncertain": stuck, "sent": len(queued) - len(failed), "still_queued": len(failed)}
