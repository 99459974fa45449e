"""Security alerts: raising, answering, the Action Center item, and the average response time
that feeds the mandatory `securityAlertsPromptlyResolved` requirement (spec/security.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from portal.models import AuditEvent
from portal.roles import Role
from security.choices import AlertStatus, AlertType
from security.selectors.posture import alerts_average_response_hours
from security.services.alerts import alert_dedupe_key, alert_raise, alert_respond
from security.services.requirements import requirement_dedupe_key
from tests.factories import CustomerFactory, SecurityAlertFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def test_raising_an_alert_asks_for_an_answer_within_24_hours(org_a):
    customer = CustomerFactory(organization=org_a)
    with freeze_time(NOW):
        alert = alert_raise(
            organization=org_a,
            alert_type=AlertType.CRYPTO_MINING,
            title="Crypto-mining VMs",
            customer=customer,
        )

    assert (alert.status, alert.created_at, alert.customer) == (AlertStatus.ACTIVE, NOW, customer)
    item = ActionItem.objects.get(organization=org_a, dedupe_key=alert_dedupe_key(alert))
    assert item.code == ActionItemCode.SECURITY_ALERT_OPEN
    assert (item.severity, item.due_at) == (Severity.HIGH, NOW + timedelta(hours=24))
    assert sorted(item.audience_roles) == [Role.ADMIN_AGENT, Role.GLOBAL_ADMIN]
    assert item.title == "Answer the security alert: Crypto-mining VMs"
    assert AuditEvent.objects.filter(action="security.alert_raised", target_id=str(alert.pk)).exists()


def test_an_alert_may_be_raised_with_its_original_time(org_a):
    with freeze_time(NOW):
        alert = alert_raise(
            organization=org_a,
            alert_type=AlertType.UNUSUAL_SIGN_IN,
            title="Sign-in from a new country",
            created_at=NOW - timedelta(hours=5),
        )

    assert alert.created_at == NOW - timedelta(hours=5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"alert_type": "volcano"}, "alert_type"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"created_at": datetime(2030, 1, 1, tzinfo=UTC)}, "created_at"),
    ],
)
def test_raising_refuses_bad_input(org_a, kwargs, field):
    values = {"alert_type": AlertType.MALWARE, "title": "Malware found", **kwargs}

    with pytest.raises(ValidationError) as caught:
        alert_raise(organization=org_a, **values)

    assert field in caught.value.message_dict


def test_raising_refuses_another_organizations_customer(org_a, org_b):
    with pytest.raises(ValidationError) as caught:
        alert_raise(
            organization=org_a,
            alert_type=AlertType.MALWARE,
            title="Malware found",
            customer=CustomerFactory(organization=org_b),
        )

    assert "customer" in caught.value.message_dict


@pytest.mark.parametrize("status", [AlertStatus.RESOLVED, AlertStatus.DISMISSED])
def test_answering_closes_the_alert_and_its_item(org_a, alice, status):
    with freeze_time(NOW - timedelta(hours=6)):
        alert = alert_raise(organization=org_a, alert_type=AlertType.MALWARE, title="Malware found")

    with freeze_time(NOW):
        answered = alert_respond(actor=alice, alert=alert, status=status, note="  Reimaged the VM.  ")

    assert (answered.status, answered.responded_at, answered.responded_by) == (status, NOW, alice)
    assert answered.response_note == "Reimaged the VM."
    item = ActionItem.objects.get(dedupe_key=alert_dedupe_key(alert))
    assert item.status == ActionItemStatus.RESOLVED
    event = AuditEvent.objects.get(action=f"security.alert_{status}")
    assert event.changes == {"status": ["active", status], "response_hours": 6.0}


def test_answering_needs_a_note_and_a_closing_status(org_a, alice):
    alert = SecurityAlertFactory(organization=org_a)

    with pytest.raises(ValidationError) as caught:
        alert_respond(actor=alice, alert=alert, status=AlertStatus.ACTIVE, note="")

    assert set(caught.value.message_dict) == {"status", "note"}
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACTIVE


def test_an_alert_is_answered_only_once(org_a, alice):
    alert = SecurityAlertFactory(organization=org_a)
    alert_respond(actor=alice, alert=alert, status=AlertStatus.RESOLVED, note="Done.")

    with pytest.raises(ValidationError) as caught:
        alert_respond(actor=alice, alert=alert, status=AlertStatus.DISMISSED, note="Again.")

    assert caught.value.message_dict["status"] == ["This alert was already resolved."]


# --- Average response time ------------------------------------------------------------------------


def alert_at(organization, *, created_ago: timedelta, answered_after: timedelta | None = None):
    created = NOW - created_ago
    extra = {}
    if answered_after is not None:
        extra = {
            "responded_at": created + answered_after,
            "status": AlertStatus.RESOLVED,
            "response_note": "Checked.",
        }
    return SecurityAlertFactory(organization=organization, created_at=created, **extra)


def test_average_counts_open_alerts_with_the_time_they_have_waited(org_a):
    alert_at(org_a, created_ago=timedelta(days=2), answered_after=timedelta(hours=10))
    alert_at(org_a, created_ago=timedelta(hours=30))  # still open

    assert alerts_average_response_hours(org_a, now=NOW) == pytest.approx(20.0)


def test_average_covers_only_the_last_30_days_and_this_organization(org_a, org_b):
    alert_at(org_a, created_ago=timedelta(days=3), answered_after=timedelta(hours=4))
    alert_at(org_a, created_ago=timedelta(days=31), answered_after=timedelta(hours=400))
    alert_at(org_b, created_ago=timedelta(days=1), answered_after=timedelta(hours=20))

    assert alerts_average_response_hours(org_a, now=NOW) == pytest.approx(4.0)
    assert alerts_average_response_hours(org_a, now=NOW, days=60) == pytest.approx(202.0)


def test_average_is_unknown_without_alerts(org_a):
    assert alerts_average_response_hours(org_a, now=NOW) is None


def test_average_uses_the_current_time_by_default(org_a):
    alert_at(org_a, created_ago=timedelta(hours=12))

    with freeze_time(NOW):
        assert alerts_average_response_hours(org_a) == pytest.approx(12.0)


def test_answering_settles_the_requirement_item(org_a, alice):
    # One alert open for 30 hours: the average is over 24 h, so the mandatory requirement fails.
    with freeze_time(NOW - timedelta(hours=30)):
        alert = alert_raise(organization=org_a, alert_type=AlertType.MALWARE, title="Malware found")
    ActionItem.objects.create(
        organization=org_a,
        code=ActionItemCode.SECURITY_REQUIREMENT_FAILED,
        severity=Severity.HIGH,
        title="Security requirement not met",
        dedupe_key=requirement_dedupe_key("securityAlertsPromptlyResolved"),
    )

    # Answered 30 minutes after raising: the average drops to half an hour.
    with freeze_time(NOW - timedelta(hours=29, minutes=30)):
        alert_respond(actor=alice, alert=alert, status=AlertStatus.RESOLVED, note="Contained.")

    item = ActionItem.objects.get(dedupe_key=requirement_dedupe_key("securityAlertsPromptlyResolved"))
    assert item.status == ActionItemStatus.RESOLVED
