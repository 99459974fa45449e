"""Webhooks against a real HTTP receiver on localhost."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from celery.exceptions import Retry

from portal.choices import DeliveryStatus
from portal.models import WebhookDelivery
from portal.tasks import WEBHOOK_MAX_RETRIES, webhook_deliver_task
from portal.webhooks import DeliveryFailed, register_event, verify_signature, webhook_deliver, webhook_emit
from tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db
EVENT = register_event("test.thing_happened", "Used by the webhook tests.")


class Receiver:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_it_delivers_a_signed_event(org_a, receiver, django_capture_on_commit_callbacks):
    target = receiver()
    endpoint = WebhookEndpointFactory(organization=org_a, url=target.url, events=[EVENT])
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(organization_id=org_a.pk, event=EVENT, data={"answer": 42})
    headers, body = target.requests[0]
    assert headers["X-Portal-Event"] == EVENT
    assert verify_signature(endpoint.secret, headers["X-Portal-Signature"], body)
    assert not verify_signature("wrong-secret", headers["X-Portal-Signature"], body)
    assert json.loads(body)["data"] == {"answer": 42}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )


def test_it_only_sends_to_subscribed_active_endpoints(org_a, org_b):
    WebhookEndpointFactory(organization=org_a, events=["other.event"])
    WebhookEndpointFactory(organization=org_a, events=[EVENT], is_active=False)
    WebhookEndpointFactory(organization=org_b, events=[EVENT])
    assert webhook_emit(organization_id=org_a.pk, event=EVENT, data={}) == []


def test_a_failed_delivery_is_logged_for_retry(org_a, receiver):
    target = receiver(statuses=[500])
    endpoint = WebhookEndpointFactory(organization=org_a, url=target.url, events=[EVENT])
    delivery = WebhookDelivery.objects.create(
        organization=org_a,
        endpoint=endpoint,
        event=EVENT,
        event_id="00000000-0000-0000-0000-000000000001",
        payload={},
    )
    with pytest.raises(DeliveryFailed):
        webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.last_error) == (
        DeliveryStatus.RETRYING,
        500,
        "HTTP 500",
    )
    webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_the_task_retries_with_backoff_then_gives_up(org_a, receiver):
    target = receiver(statuses=[503, 503])
    endpoint = WebhookEndpointFactory(organization=org_a, url=target.url, events=[EVENT])
    delivery = WebhookDelivery.objects.create(
        organization=org_a,
        endpoint=endpoint,
        event=EVENT,
        event_id="00000000-0000-0000-0000-000000000002",
        payload={},
    )
    with pytest.raises(Retry) as retry:
        webhook_deliver_task.apply(args=[delivery.pk], throw=True)
    assert retry.value.when == 10
    webhook_deliver_task.apply(args=[delivery.pk], retries=WEBHOOK_MAX_RETRIES, throw=True)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_an_unregistered_event_is_refused(org_a):
    with pytest.raises(ValueError, match="Unregistered"):
        webhook_emit(organization_id=org_a.pk, event="nobody.registered.this", data={})


def test_endpoints_are_managed_through_the_api_with_the_secret_shown_once(api_for, org_a):
    api = api_for(org_a)
    response = api.post(
        "/api/v1/portal/webhook-endpoints/", {"url": "https://example.com/h", "events": [EVENT]}
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["secret"]) == 64
    endpoint_id = response.json()["id"]
    assert "secret" not in api.get(f"/api/v1/portal/webhook-endpoints/{endpoint_id}/").json()
    bad = api.post("/api/v1/portal/webhook-endpoints/", {"url": "ftp://x", "events": ["nope"]})
    assert set(bad.json()["errors"]) == {"url", "events"}
