"""Signed webhooks: workspaces register their events; deliveries are logged and retried by Celery.

Each request carries `X-Portal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`, keyed
with the endpoint's secret, so a receiver can check origin and reject replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from portal.choices import DeliveryStatus
from portal.models import WebhookDelivery, WebhookEndpoint

EVENTS: dict[str, str] = {}
TIMEOUT_SECONDS = 10


def register_event(name: str, description: str) -> str:
    """Declare an event a workspace emits; endpoints may subscribe only to registered events."""
    EVENTS[name] = description
    return name


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does with the header (used by our tests and documented in the README)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


def webhook_emit(*, organization_id: int, event: str, data: dict[str, Any]) -> list[int]:
    """Queue `event` for every active endpoint of the organization subscribed to it."""
    if event not in EVENTS:
        raise ValueError(f"Unregistered webhook event {event!r}")
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "event": event,
        "created_at": timezone.now().isoformat(),
        "organization_id": organization_id,
        "data": data,
    }
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    endpoints = WebhookEndpoint.objects.filter(
        organization_id=organization_id, is_active=True, events__contains=[event]
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization_id=organization_id,
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            payload=payload,
        )
        for endpoint in endpoints
    )
    ids = [delivery.pk for delivery in deliveries]
    if ids:
        # Imported here to prevent an import cycle: tasks import this module.
        from portal.tasks import webhook_deliver_task

        transaction.on_commit(lambda: [webhook_deliver_task.delay(pk) for pk in ids])
    return ids


class DeliveryFailed(Exception):
    pass


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery:
    """Send one delivery; raise DeliveryFailed (for the task to retry) on any non-2xx answer."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == DeliveryStatus.DELIVERED:
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "PartnerPortal-Webhooks/1.0",
            "X-Portal-Event": delivery.event,
            "X-Portal-Delivery": str(delivery.event_id),
            "X-Portal-Signature": f"t={timestamp},v1={sign(delivery.endpoint.secret, timestamp, body)}",
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            delivery.response_status = response.status
    except urllib.error.HTTPError as exc:
        delivery.response_status = exc.code
        delivery.last_error = f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        delivery.response_status = None
        delivery.last_error = str(getattr(exc, "reason", exc))[:500]
    ok = delivery.response_status is not None and 200 <= delivery.response_status < 300
    delivery.status = DeliveryStatus.DELIVERED if ok else DeliveryStatus.RETRYING
    if ok:
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    delivery.save(update_fields=["attempts", "response_status", "last_error", "status", "delivered_at"])
    if not ok:
        raise DeliveryFailed(delivery.last_error)
    return delivery


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.FAILED)
