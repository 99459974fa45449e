"""The nightly GDAP/DAP job (spec/security.md §3.1, §3.4): auto-extension on the last day, the
expiring warning first and the expiry on schedule, 90-day request expiry, inactive DAP — and a
second run on the same day changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_dismiss
from portal.history import history_for
from portal.models import AuditEvent, HistoryEvent, WebhookDelivery
from portal.roles import Role
from security.choices import GLOBAL_ADMINISTRATOR_ROLE_ID, AccessAssignmentStatus, GdapStatus
from security.models import GdapRelationship
from security.selectors.history import gdap_events
from security.services.dap import dap_legacy_import, dap_remove
from security.services.gdap import (
    gdap_auto_extend_set,
    gdap_customer_approve,
    gdap_lock_for_approval,
    gdap_relationship_create,
    gdap_renew,
    gdap_terminate,
)
from security.services.gdap_assignments import gdap_assignment_create
from security.services.gdap_daily import gdap_daily
from security.services.gdap_rules import GDAP_STATUS_CHANGED
from tests.factories import CustomerFactory, UserFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

S = GdapStatus
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
P180D = timedelta(days=180)
ZERO = {
    "approvals_expired": 0,
    "extended": 0,
    "expiring": 0,
    "expired": 0,
    "warnings_raised": 0,
    "warnings_resolved": 0,
    "dap_inactive_raised": 0,
    "dap_inactive_resolved": 0,
}
ACTIVATED = datetime(2025, 1, 12, 9, 30, tzinfo=UTC)


def _counts(**changed) -> dict[str, int]:
    return {**ZERO, **changed}


@pytest.fixture
def agent(org_a):
    return UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT])


@pytest.fixture
def customer(org_a):
    return CustomerFactory(organization=org_a, name="Contoso")


def _relationship(
    agent, customer, *, duration, auto_extend=timedelta(0), role_ids=(HELPDESK, DIRECTORY_READERS), name=None
):
    """Created and locked 2025-01-10, approved by the customer 2025-01-12T09:30Z (the spec's dates)."""
    with freeze_time("2025-01-10T08:00:00Z"):
        relationship = gdap_relationship_create(
            actor=agent,
            organization=agent.organization,
            customer=customer,
            display_name=name or "Contoso-Default-2025",
            duration=duration,
            role_ids=list(role_ids),
            auto_extend_duration=auto_extend,
        )
        gdap_lock_for_approval(actor=agent, relationship=relationship)
    with freeze_time(ACTIVATED):
        return gdap_customer_approve(
            relationship=relationship, approver_name="Megan", approver_email="m@contoso.example"
        )


def _daily(when: str) -> dict[str, int]:
    with freeze_time(when):
        return gdap_daily()


def _item(relationship) -> ActionItem:
    return ActionItem.objects.get(dedupe_key=f"gdap-expiring:{relationship.relationship_id}")


def _statuses(relationship) -> list[str]:
    return [event.to_status for event in history_for(relationship)]


# --- Auto-extension: the spec's worked example ----------------------------------------------------


def test_the_worked_example_extends_on_the_last_day_to_2027_07_11(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=730), auto_extend=P180D)
    assert relationship.end_at == datetime(2027, 1, 12, 9, 30, tzinfo=UTC)

    # Inside the warning window an auto-extending relationship raises nothing.
    assert _daily("2026-12-20T02:00:00Z") == ZERO
    # The day before the last day: not yet.
    assert _daily("2027-01-11T02:00:00Z") == ZERO
    relationship.refresh_from_db()
    assert relationship.end_at == datetime(2027, 1, 12, 9, 30, tzinfo=UTC)

    # The last day: the end moves 180 days.
    assert _daily("2027-01-12T02:00:00Z") == _counts(extended=1)
    relationship.refresh_from_db()
    assert relationship.end_at == datetime(2027, 7, 11, 9, 30, tzinfo=UTC)
    assert relationship.status == S.ACTIVE
    audit = AuditEvent.objects.get(action="gdap.auto_extended")
    assert audit.changes["end_at"] == ["2027-01-12T09:30:00+00:00", "2027-07-11T09:30:00+00:00"]
    # The history keeps the new end date too.
    assert gdap_events(relationship)[-1].end_at == relationship.end_at
    assert gdap_events(relationship)[-1].note == "End date 2027-07-11 09:30 UTC"

    # Running again the same day changes nothing.
    assert _daily("2027-01-12T02:00:00Z") == ZERO
    assert _daily("2027-01-12T23:00:00Z") == ZERO
    assert not ActionItem.objects.filter(code=ActionItemCode.GDAP_EXPIRING).exists()


def test_auto_extension_continues_until_turned_off(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=30), auto_extend=P180D)
    # 2025-02-11T09:30Z, then 2025-08-10, then 2026-02-06.
    assert _daily("2025-02-11T01:00:00Z")["extended"] == 1
    assert _daily("2025-08-10T01:00:00Z")["extended"] == 1
    relationship.refresh_from_db()
    assert relationship.end_at == datetime(2026, 2, 6, 9, 30, tzinfo=UTC)

    with freeze_time("2025-12-01T12:00:00Z"):
        gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=False)
    assert _daily("2026-01-10T02:00:00Z") == _counts(expiring=1, warnings_raised=1)
    assert _daily("2026-02-07T02:00:00Z") == _counts(expired=1, warnings_resolved=1)


def test_a_missed_run_extends_as_often_as_needed(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=1), auto_extend=P180D)
    # End 2025-01-13T09:30Z; the job only runs again 200 days later.
    assert _daily("2025-08-01T02:00:00Z")["extended"] == 1
    relationship.refresh_from_db()
    assert relationship.end_at == datetime(2025, 1, 13, 9, 30, tzinfo=UTC) + 2 * P180D


# --- Warning first, then expiry on schedule -------------------------------------------------------


def test_warning_first_then_expiry_on_schedule(agent, customer):
    WebhookEndpointFactory(organization=agent.organization, events=[GDAP_STATUS_CHANGED])
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    with freeze_time(ACTIVATED):
        assignment = gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id=uuid.uuid4(),
            security_group_name="Helpdesk-L1",
            role_ids=[HELPDESK],
        )
    end = datetime(2025, 4, 12, 9, 30, tzinfo=UTC)
    assert relationship.end_at == end

    # Every night at 02:00 from six weeks before the end until the day after it.
    seen: dict[str, datetime] = {}
    day = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    while day <= datetime(2025, 4, 14, 2, 0, tzinfo=UTC):
        with freeze_time(day):
            gdap_daily()
        relationship.refresh_from_db()
        seen.setdefault(relationship.status, day)
        item = ActionItem.objects.filter(code=ActionItemCode.GDAP_EXPIRING).first()
        if item is not None and item.severity == Severity.HIGH:
            seen.setdefault("high", day)
        day += timedelta(days=1)

    # Warned the first night the end is 30 days away or less (2025-03-14T02:00 is 29 d 7.5 h before),
    # high from 7 days before, expired the first night after the end.
    assert seen[S.EXPIRING] == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert seen["high"] == datetime(2025, 4, 6, 2, 0, tzinfo=UTC)
    assert seen[S.EXPIRED] == datetime(2025, 4, 13, 2, 0, tzinfo=UTC)
    assert _statuses(relationship)[-3:] == [S.ACTIVE, S.EXPIRING, S.EXPIRED]
    assert relationship.end_at == end
    assignment.refresh_from_db()
    assert assignment.status == AccessAssignmentStatus.DELETED
    item = _item(relationship)
    assert item.status == ActionItemStatus.RESOLVED
    assert [d.payload["data"]["status"] for d in WebhookDelivery.objects.order_by("pk")][-2:] == [
        S.EXPIRING,
        S.EXPIRED,
    ]


def test_the_expiring_item_is_deduplicated_and_a_rerun_changes_nothing(agent, customer, org_a):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))

    assert _daily("2025-03-20T02:00:00Z") == _counts(expiring=1, warnings_raised=1)
    item = _item(relationship)
    assert (item.code, item.severity, item.status) == (ActionItemCode.GDAP_EXPIRING, Severity.MEDIUM, "open")
    assert sorted(item.audience_roles) == sorted([Role.ADMIN_AGENT, Role.GLOBAL_ADMIN])
    assert item.due_at == relationship.end_at
    assert "Contoso-Default-2025" in item.title and "2025-04-12" in item.title
    assert item.organization_id == org_a.pk
    events = HistoryEvent.objects.count()
    audits = AuditEvent.objects.count()

    assert _daily("2025-03-20T02:00:00Z") == ZERO
    assert _daily("2025-03-21T02:00:00Z") == ZERO
    assert ActionItem.objects.filter(code=ActionItemCode.GDAP_EXPIRING).count() == 1
    assert (HistoryEvent.objects.count(), AuditEvent.objects.count()) == (events, audits)

    # Seven days before the end it becomes high, once.
    assert _daily("2025-04-06T02:00:00Z") == _counts(warnings_raised=1)
    assert _item(relationship).severity == Severity.HIGH
    assert _daily("2025-04-06T02:00:00Z") == ZERO


def test_a_dismissed_warning_stays_dismissed(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    _daily("2025-03-20T02:00:00Z")
    action_item_dismiss(actor=agent, item=_item(relationship))
    assert _daily("2025-03-21T02:00:00Z") == ZERO
    assert _item(relationship).status == ActionItemStatus.DISMISSED


def test_a_missed_run_still_records_expiring_before_expired(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=10))
    assert _daily("2025-03-01T02:00:00Z") == _counts(expired=1)
    relationship.refresh_from_db()
    assert _statuses(relationship)[-3:] == [S.ACTIVE, S.EXPIRING, S.EXPIRED]


def test_global_administrator_relationships_never_auto_extend(agent, customer):
    relationship = _relationship(
        agent, customer, duration=timedelta(days=20), role_ids=(GLOBAL_ADMINISTRATOR_ROLE_ID, HELPDESK)
    )
    # Even if the flag were set behind the services' back, the job lets it end.
    GdapRelationship.objects.filter(pk=relationship.pk).update(auto_extend_duration=P180D)
    assert _daily("2025-02-05T02:00:00Z")["expired"] == 1


def test_the_warning_window_follows_the_setting(agent, customer, settings):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    settings.SECURITY_GDAP_WARNING_DAYS = 10
    assert _daily("2025-03-20T02:00:00Z") == ZERO
    assert _daily("2025-04-03T02:00:00Z") == _counts(expiring=1, warnings_raised=1)
    # A shorter window later: the relationship is simply active again.
    settings.SECURITY_GDAP_WARNING_DAYS = 5
    assert _daily("2025-04-04T02:00:00Z") == _counts(warnings_resolved=1)
    relationship.refresh_from_db()
    assert relationship.status == S.ACTIVE


# --- The warning is resolved on extension, renewal, termination, expiry ---------------------------


def test_turning_auto_extension_on_resolves_the_warning(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    _daily("2025-03-20T02:00:00Z")
    with freeze_time("2025-03-20T10:00:00Z"):
        gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)
    relationship.refresh_from_db()
    assert relationship.status == S.ACTIVE
    assert _item(relationship).status == ActionItemStatus.RESOLVED
    assert _daily("2025-03-21T02:00:00Z") == ZERO
    assert _daily("2025-04-12T02:00:00Z") == _counts(extended=1)


def test_a_renewal_resolves_the_warning_and_the_job_leaves_it_resolved(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    _daily("2025-03-20T02:00:00Z")
    with freeze_time("2025-03-20T10:00:00Z"):
        renewal = gdap_renew(actor=agent, relationship=relationship)
    assert _item(relationship).status == ActionItemStatus.RESOLVED
    assert _daily("2025-03-21T02:00:00Z") == ZERO
    assert _daily("2025-04-06T02:00:00Z") == ZERO
    assert _item(relationship).status == ActionItemStatus.RESOLVED
    # The old relationship still ends on schedule; the renewal waits for the customer.
    assert _daily("2025-04-13T02:00:00Z") == _counts(expired=1)
    renewal.refresh_from_db()
    assert renewal.status == S.CREATED


def test_termination_resolves_the_warning(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    _daily("2025-03-20T02:00:00Z")
    with freeze_time("2025-03-20T10:00:00Z"):
        gdap_terminate(actor=agent, relationship=relationship)
    assert _item(relationship).status == ActionItemStatus.RESOLVED
    assert _daily("2025-03-21T02:00:00Z") == ZERO


def test_a_warning_left_without_its_cause_is_resolved_by_the_job(agent, customer):
    relationship = _relationship(agent, customer, duration=timedelta(days=90))
    _daily("2025-03-20T02:00:00Z")
    # Changed outside the services (e.g. a data fix): the next run notices.
    GdapRelationship.objects.filter(pk=relationship.pk).update(status=S.TERMINATED)
    assert _daily("2025-03-21T02:00:00Z") == _counts(warnings_resolved=1)


# --- Requests not approved within 90 days ---------------------------------------------------------


def test_requests_not_approved_within_90_days_expire(agent, customer):
    with freeze_time("2025-01-10T10:00:00Z"):
        relationship = gdap_relationship_create(
            actor=agent,
            organization=agent.organization,
            customer=customer,
            display_name="Waiting",
            duration=timedelta(days=365),
            role_ids=[HELPDESK],
        )
        gdap_lock_for_approval(actor=agent, relationship=relationship)

    assert _daily("2025-04-10T09:00:00Z") == ZERO
    assert _daily("2025-04-10T10:00:00Z") == _counts(approvals_expired=1)
    relationship.refresh_from_db()
    assert (relationship.status, relationship.end_at) == (S.EXPIRED, datetime(2025, 4, 10, 10, tzinfo=UTC))
    assert _daily("2025-04-10T10:00:00Z") == ZERO
    with pytest.raises(ValidationError) as excinfo:
        gdap_customer_approve(
            relationship=relationship, approver_name="Megan", approver_email="m@contoso.example"
        )
    assert "expired" in excinfo.value.message_dict["status"][0]


def test_created_requests_not_sent_for_approval_do_not_expire(agent, customer):
    with freeze_time("2025-01-10T10:00:00Z"):
        relationship = gdap_relationship_create(
            actor=agent,
            organization=agent.organization,
            customer=customer,
            display_name="Draft",
            duration=timedelta(days=365),
            role_ids=[HELPDESK],
        )
    assert _daily("2025-06-01T02:00:00Z") == ZERO
    relationship.refresh_from_db()
    assert relationship.status == S.CREATED


# --- Inactive DAP ---------------------------------------------------------------------------------


def test_an_inactive_dap_raises_a_low_item_until_removed(agent, customer, org_a):
    dap = dap_legacy_import(
        organization=org_a,
        customer=customer,
        established_at=datetime(2019, 5, 1, tzinfo=UTC),
        last_activity_at=datetime(2025, 1, 1, tzinfo=UTC),
    )

    assert _daily("2025-03-31T02:00:00Z") == ZERO  # 89 days
    assert _daily("2025-04-01T02:00:00Z") == _counts(dap_inactive_raised=1)
    item = ActionItem.objects.get(code=ActionItemCode.DAP_INACTIVE)
    assert (item.severity, item.organization_id, item.dedupe_key) == (
        Severity.LOW,
        org_a.pk,
        f"dap-inactive:{dap.pk}",
    )
    assert sorted(item.audience_roles) == sorted([Role.ADMIN_AGENT, Role.GLOBAL_ADMIN])
    assert "Contoso" in item.title and "2025-01-01" in item.body
    assert _daily("2025-04-02T02:00:00Z") == ZERO

    with freeze_time("2025-04-02T10:00:00Z"):
        dap_remove(actor=agent, dap=dap)
    item.refresh_from_db()
    assert item.status == ActionItemStatus.RESOLVED
    assert _daily("2025-04-03T02:00:00Z") == ZERO


def test_a_dap_with_recent_activity_is_fine_and_new_activity_resolves_the_item(customer, org_a):
    established = datetime(2020, 1, 1, tzinfo=UTC)
    dap_legacy_import(organization=org_a, customer=customer, established_at=established)
    # Never any activity: counted from the day it was established.
    assert _daily("2025-04-01T02:00:00Z") == _counts(dap_inactive_raised=1)
    dap_legacy_import(
        organization=org_a,
        customer=customer,
        established_at=established,
        last_activity_at=datetime(2025, 3, 30, tzinfo=UTC),
    )
    assert _daily("2025-04-02T02:00:00Z") == _counts(dap_inactive_resolved=1)
    assert ActionItem.objects.get(code=ActionItemCode.DAP_INACTIVE).status == ActionItemStatus.RESOLVED


def test_other_organizations_items_are_kept_apart(agent, customer, org_b):
    _relationship(agent, customer, duration=timedelta(days=90))
    other_agent = UserFactory(organization=org_b, roles=[Role.ADMIN_AGENT])
    _relationship(other_agent, CustomerFactory(organization=org_b), duration=timedelta(days=90))
    assert _daily("2025-03-20T02:00:00Z") == _counts(expiring=2, warnings_raised=2)
    assert sorted(ActionItem.objects.values_list("organization_id", flat=True)) == sorted(
        [agent.organization_id, org_b.pk]
    )
