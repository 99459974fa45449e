import pytest
from django.urls import reverse

from portal.history import history_for, history_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_health_answers_without_signing_in(client):
    response = client.get(reverse("portal:health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"Database": True, "Redis": True}}


def test_the_status_page_reports_each_component(alice, verified_client):
    html = verified_client(alice).get(reverse("portal:status")).content.decode()
    for name in ["Database", "Redis", "Celery workers"]:
        assert name in html


def test_history_keeps_who_when_from_to_and_note(alice):
    customer = CustomerFactory(organization=alice.organization)
    history_record(
        subject=customer, actor=alice, from_status="draft", to_status="submitted", note="first try"
    )
    history_record(subject=customer, actor=None, from_status="submitted", to_status="approved")
    events = list(history_for(customer))
    assert [(e.from_status, e.to_status, e.actor_label) for e in events] == [
        ("draft", "submitted", alice.email),
        ("submitted", "approved", "system"),
    ]
    assert events[0].note == "first try"
