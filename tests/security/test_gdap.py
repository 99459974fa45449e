"""GDAP relationships and access assignments (spec/security.md §3.1–3.2): Graph's rules, the status
table, the customer's signed approval link and the spec's worked example."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import include, path, reverse
from freezegun import freeze_time

from portal.history import history_for
from portal.models import AuditEvent, WebhookDelivery
from portal.roles import Role
from portal.webhooks import EVENTS
from security.choices import (
    GDAP_FINAL_STATUSES,
    GDAP_LIVE_STATUSES,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.models import GdapAccessAssignment, GdapRelationship
from security.selectors.gdap import gdap_approval_path, gdap_approval_token, gdap_relationship_from_token
from security.services.gdap import (
    gdap_auto_extend_set,
    gdap_customer_approve,
    gdap_global_admin_remove,
    gdap_lock_for_approval,
    gdap_relationship_create,
    gdap_relationship_update,
    gdap_renew,
    gdap_terminate,
)
from security.services.gdap_assignments import (
    gdap_assignment_create,
    gdap_assignment_delete,
    gdap_assignment_update,
)
from security.services.gdap_rules import GDAP_STATUS_CHANGED, GDAP_TRANSITIONS, gdap_transition
from tests.factories import (
    CustomerFactory,
    GdapAccessAssignmentFactory,
    GdapRelationshipFactory,
    UserFactory,
    WebhookEndpointFactory,
    active_gdap_relationship,
)

pytestmark = pytest.mark.django_db

S = GdapStatus
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
GA = GLOBAL_ADMINISTRATOR_ROLE_ID
P730D = timedelta(days=730)
P180D = timedelta(days=180)

PAIRS = list(itertools.product(S.values, S.values))
LEGAL = [(a, b) for a, b in PAIRS if b in GDAP_TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in GDAP_TRANSITIONS[a]]


def _invitation(request, token):  # pragma: no cover - only reversed
    return HttpResponse(token)


# The customer's page is written by the pages helper; this urlconf names the same route so the
# link can be checked here on its own.
urlpatterns = [
    path(
        "security/",
        include(([path("gdap/invitation/<str:token>/", _invitation, name="gdap-invitation")], "security")),
    )
]


@pytest.fixture
def agent(org_a):
    return UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT])


@pytest.fixture
def customer(org_a):
    return CustomerFactory(organization=org_a, name="Contoso")


def _create(agent, customer, **kwargs):
    values = {
        "display_name": "Contoso-Helpdesk",
        "duration": P730D,
        "role_ids": [HELPDESK, DIRECTORY_READERS],
    }
    values.update(kwargs)
    return gdap_relationship_create(actor=agent, organization=agent.organization, customer=customer, **values)


def _errors(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def _roles(relationship) -> set[str]:
    return {str(pk) for pk in relationship.roles.values_list("pk", flat=True)}


def _pending(agent, customer, **kwargs):
    return gdap_lock_for_approval(actor=agent, relationship=_create(agent, customer, **kwargs))


def _approved(agent, customer, **kwargs):
    relationship = _pending(agent, customer, **kwargs)
    return gdap_customer_approve(
        relationship=relationship, approver_name="Megan Bowen", approver_email="megan@contoso.example"
    )


# --- The status table -----------------------------------------------------------------------------


def test_the_table_names_every_status_and_closes_the_final_ones():
    assert set(GDAP_TRANSITIONS) == set(S.values)
    assert all(GDAP_TRANSITIONS[status] == frozenset() for status in GDAP_FINAL_STATUSES)
    assert all(GDAP_TRANSITIONS[status] for status in set(S.values) - GDAP_FINAL_STATUSES)
    spec = {
        (S.CREATED, S.APPROVAL_PENDING),
        (S.APPROVAL_PENDING, S.APPROVED),
        (S.APPROVED, S.ACTIVATING),
        (S.ACTIVATING, S.ACTIVE),
        (S.ACTIVE, S.EXPIRING),
        (S.EXPIRING, S.EXPIRED),
        (S.ACTIVE, S.TERMINATION_REQUESTED),
        (S.TERMINATION_REQUESTED, S.TERMINATING),
        (S.TERMINATING, S.TERMINATED),
        (S.APPROVAL_PENDING, S.EXPIRED),  # not approved within 90 days
    }
    assert spec <= set(LEGAL)
    # Nothing skips the customer's approval.
    assert not any(S.ACTIVE in GDAP_TRANSITIONS[status] for status in (S.CREATED, S.APPROVAL_PENDING))


def _relationship_in(org, status):
    now = datetime.now(UTC)
    return GdapRelationshipFactory(
        organization=org, status=status, activated_at=now - timedelta(days=5), end_at=now + timedelta(days=20)
    )


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_a_legal_move_is_saved_with_audit_history_and_webhook(org_a, from_status, to_status):
    relationship = _relationship_in(org_a, from_status)
    WebhookEndpointFactory(organization=org_a, events=[GDAP_STATUS_CHANGED])

    gdap_transition(actor=None, relationship=relationship, to_status=to_status)

    relationship.refresh_from_db()
    assert relationship.status == to_status
    audit = AuditEvent.objects.get(action="gdap.status_changed")
    assert audit.changes["status"] == [from_status, to_status]
    assert [(e.from_status, e.to_status) for e in history_for(relationship)] == [(from_status, to_status)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "security.gdap.status_changed"
    assert delivery.payload["data"]["id"] == relationship.relationship_id
    assert (delivery.payload["data"]["fromStatus"], delivery.payload["data"]["status"]) == (
        from_status,
        to_status,
    )
    assert delivery.payload["data"]["customer"]["tenantId"] == str(relationship.customer.tenant_id)


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(org_a, from_status, to_status):
    relationship = _relationship_in(org_a, from_status)

    with pytest.raises(ValidationError) as excinfo:
        gdap_transition(actor=None, relationship=relationship, to_status=to_status)

    assert f"cannot move to {to_status}" in _errors(excinfo)["status"][0]
    relationship.refresh_from_db()
    assert relationship.status == from_status
    assert not AuditEvent.objects.filter(action="gdap.status_changed").exists()


def test_the_webhook_event_is_registered():
    assert "security.gdap.status_changed" in EVENTS


# --- Creating requests: Graph's constraints -------------------------------------------------------


def test_a_request_starts_created_with_its_roles_and_is_audited(agent, customer):
    relationship = _create(agent, customer)

    assert relationship.status == S.CREATED
    assert (relationship.duration, relationship.auto_extend_duration) == (P730D, timedelta(0))
    assert _roles(relationship) == {HELPDESK, DIRECTORY_READERS}
    assert (relationship.activated_at, relationship.end_at, relationship.created_by) == (None, None, agent)
    audit = AuditEvent.objects.get(action="gdap.created")
    assert audit.changes["duration"] == "P730D" and audit.changes["auto_extend_duration"] == "PT0S"


def test_display_names_are_unique_per_partner_whatever_the_case(agent, customer, org_b):
    _create(agent, customer, display_name="Contoso-Helpdesk")

    with pytest.raises(ValidationError) as excinfo:
        _create(agent, CustomerFactory(organization=agent.organization), display_name="contoso-helpdesk")
    assert "unique per partner" in _errors(excinfo)["display_name"][0]
    # Another partner may use the same name.
    other = UserFactory(organization=org_b, roles=[Role.ADMIN_AGENT])
    assert _create(other, CustomerFactory(organization=org_b), display_name="Contoso-Helpdesk").pk


def test_the_database_backs_the_unique_display_name(agent, customer):
    relationship = _create(agent, customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        GdapRelationshipFactory(
            organization=relationship.organization, display_name=relationship.display_name
        )


@pytest.mark.parametrize(
    ("name", "message"),
    [("x" * 51, "at most 50"), ("   ", "Enter a display name")],
    ids=["51-characters", "blank"],
)
def test_display_names_have_at_most_fifty_characters(agent, customer, name, message):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, customer, display_name=name)
    assert message in _errors(excinfo)["display_name"][0]


def test_fifty_characters_are_fine(agent, customer):
    assert len(_create(agent, customer, display_name="x" * 50).display_name) == 50


@pytest.mark.parametrize(
    "duration",
    [timedelta(days=1), timedelta(days=90), timedelta(days=730)],
    ids=["P1D", "P90D", "P730D"],
)
def test_durations_from_one_day_to_two_years_are_accepted(agent, customer, duration):
    assert _create(agent, customer, duration=duration).duration == duration


@pytest.mark.parametrize(
    "duration",
    [timedelta(0), timedelta(hours=23), timedelta(days=731), "P730D"],
    ids=["PT0S", "PT23H", "P731D", "a-string"],
)
def test_durations_outside_one_day_to_two_years_are_refused(agent, customer, duration):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, customer, duration=duration)
    assert "duration" in _errors(excinfo)
    assert not GdapRelationship.objects.exists()


def test_the_database_backs_the_duration_bounds(org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        GdapRelationshipFactory(organization=org_a, duration=timedelta(days=731))


@pytest.mark.parametrize("auto_extend", [timedelta(days=90), timedelta(days=365)], ids=["P90D", "P365D"])
def test_only_pt0s_or_p180d_auto_extend(agent, customer, auto_extend):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, customer, auto_extend_duration=auto_extend)
    assert "PT0S" in _errors(excinfo)["auto_extend_duration"][0]


def test_p180d_auto_extend_is_accepted_without_global_administrator(agent, customer):
    assert _create(agent, customer, auto_extend_duration=P180D).auto_extends


def test_global_administrator_cannot_auto_extend(agent, customer):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, customer, role_ids=[GA, HELPDESK], auto_extend_duration=P180D)
    assert "Global Administrator" in _errors(excinfo)["auto_extend_duration"][0]
    # Without auto-extension it may be requested.
    assert GA in _roles(_create(agent, customer, role_ids=[GA, HELPDESK]))


@pytest.mark.parametrize(
    ("role_ids", "message"),
    [
        ([], "at least one"),
        (["not-a-guid"], "not an Entra role"),
        ([str(uuid.uuid4())], "Unknown Entra role"),
    ],
    ids=["none", "garbage", "unknown"],
)
def test_roles_must_be_known_entra_roles(agent, customer, role_ids, message):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, customer, role_ids=role_ids)
    assert message in _errors(excinfo)["role_ids"][0]


def test_the_customer_must_be_the_partners_own(agent, org_b):
    with pytest.raises(ValidationError) as excinfo:
        _create(agent, CustomerFactory(organization=org_b))
    assert "does not belong" in _errors(excinfo)["customer"][0]


def test_only_admin_agents_and_global_admins_manage_gdap_the_pages_check_first(
    bob, charlie, customer, agent, verified_client
):
    response = verified_client(bob).post(
        reverse("security:gdap-create"), {"customer": str(customer.tenant_id), "display_name": "Nope"}
    )
    assert response.status_code == 403
    relationship = _create(agent, customer)
    # Another organization's admin does not even find it.
    lock = reverse("security:gdap-lock", args=[relationship.pk])
    assert verified_client(charlie).post(lock).status_code == 404
    relationship.refresh_from_db()
    assert relationship.status == S.CREATED


def test_a_global_admin_may_create_requests(alice, customer):
    assert _create(alice, customer).created_by == alice


# --- Editing: everything while created, only the auto-extension while live ------------------------


def test_everything_may_change_while_created(agent, customer):
    relationship = _create(agent, customer)

    gdap_relationship_update(
        actor=agent,
        relationship=relationship,
        display_name="Contoso-Users",
        duration=timedelta(days=365),
        role_ids=[USER_ADMIN],
        auto_extend_duration=P180D,
    )

    relationship.refresh_from_db()
    assert (relationship.display_name, relationship.duration, relationship.auto_extend_duration) == (
        "Contoso-Users",
        timedelta(days=365),
        P180D,
    )
    assert _roles(relationship) == {USER_ADMIN}
    audit = AuditEvent.objects.get(action="gdap.updated")
    assert audit.changes["display_name"] == ["Contoso-Helpdesk", "Contoso-Users"]
    assert audit.changes["duration"] == ["P730D", "P365D"]


def test_adding_global_administrator_to_an_auto_extending_request_is_refused(agent, customer):
    relationship = _create(agent, customer, auto_extend_duration=P180D)
    with pytest.raises(ValidationError) as excinfo:
        gdap_relationship_update(actor=agent, relationship=relationship, role_ids=[GA, HELPDESK])
    assert "Global Administrator" in _errors(excinfo)["auto_extend_duration"][0]
    assert GA not in _roles(relationship)


def test_unchanged_values_are_no_change(agent, customer):
    relationship = _approved(agent, customer)
    gdap_relationship_update(
        actor=agent,
        relationship=relationship,
        display_name=relationship.display_name,
        duration=relationship.duration,
        role_ids=[DIRECTORY_READERS, HELPDESK],
    )
    assert not AuditEvent.objects.filter(action="gdap.updated").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("display_name", "Renamed"), ("duration", timedelta(days=30)), ("role_ids", [USER_ADMIN])],
)
@pytest.mark.parametrize("status", [S.APPROVAL_PENDING, S.ACTIVE])
def test_name_duration_and_roles_are_fixed_once_sent_for_approval(agent, customer, field, value, status):
    relationship = _pending(agent, customer) if status == S.APPROVAL_PENDING else _approved(agent, customer)
    with pytest.raises(ValidationError) as excinfo:
        gdap_relationship_update(actor=agent, relationship=relationship, **{field: value})
    assert "only be changed while the relationship is created" in _errors(excinfo)[field][0]


def test_the_auto_extension_may_change_while_active(agent, customer):
    relationship = _approved(agent, customer)

    gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)
    relationship.refresh_from_db()
    assert relationship.auto_extend_duration == P180D
    gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=False)
    relationship.refresh_from_db()
    assert relationship.auto_extend_duration == timedelta(0)
    changes = (
        AuditEvent.objects.filter(action="gdap.updated").order_by("pk").values_list("changes", flat=True)
    )
    assert [change["auto_extend_duration"] for change in changes] == [["PT0S", "P180D"], ["P180D", "PT0S"]]


@pytest.mark.parametrize(
    "status",
    [
        S.APPROVAL_PENDING,
        S.APPROVED,
        S.ACTIVATING,
        S.TERMINATION_REQUESTED,
        S.TERMINATING,
        S.TERMINATED,
        S.EXPIRED,
    ],
)
def test_the_auto_extension_is_fixed_outside_created_and_active(org_a, agent, status):
    relationship = _relationship_in(org_a, status)
    with pytest.raises(ValidationError) as excinfo:
        gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)
    assert "created or active" in _errors(excinfo)["auto_extend_duration"][0]


def test_an_active_relationship_with_global_administrator_cannot_auto_extend(agent, customer):
    relationship = _approved(agent, customer, role_ids=[GA, HELPDESK])
    with pytest.raises(ValidationError) as excinfo:
        gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)
    assert "remove Global Administrator first" in _errors(excinfo)["auto_extend_duration"][0]


def test_turning_auto_extension_on_brings_an_expiring_relationship_back_to_active(org_a, agent):
    relationship = _relationship_in(org_a, S.EXPIRING)
    gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)
    relationship.refresh_from_db()
    assert (relationship.status, relationship.auto_extend_duration) == (S.ACTIVE, P180D)


# --- Approval: lockForApproval, the signed link, the customer's consent ---------------------------


def test_lock_for_approval_moves_created_to_approval_pending(agent, customer):
    relationship = _pending(agent, customer)
    assert relationship.status == S.APPROVAL_PENDING
    assert relationship.locked_for_approval_at is not None
    with pytest.raises(ValidationError) as excinfo:
        gdap_lock_for_approval(actor=agent, relationship=relationship)
    assert "Only a created request" in _errors(excinfo)["status"][0]


def test_the_approval_token_is_signed_and_salted(agent, customer):
    relationship = _pending(agent, customer)
    token = gdap_approval_token(relationship)

    assert gdap_relationship_from_token(token) == relationship
    assert relationship.relationship_id not in token
    # The same payload signed without our salt (or tampered with) is refused.
    for bad in (
        signing.dumps({"relationship": relationship.relationship_id}),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "garbage",
        signing.dumps({"relationship": str(uuid.uuid4())}, salt="security.gdap.invitation"),
    ):
        assert gdap_relationship_from_token(bad) is None


@pytest.mark.urls(__name__)
def test_the_approval_path_is_the_invitation_page_with_the_token(agent, customer):
    relationship = _pending(agent, customer)
    path_ = gdap_approval_path(relationship)
    assert path_.startswith("/security/gdap/invitation/")
    token = path_.removeprefix("/security/gdap/invitation/").rstrip("/")
    assert gdap_relationship_from_token(token) == relationship


def test_the_customer_approval_activates_through_each_status(agent, customer):
    WebhookEndpointFactory(organization=agent.organization, events=[GDAP_STATUS_CHANGED])
    relationship = _pending(agent, customer)

    gdap_customer_approve(
        relationship=relationship, approver_name="Megan Bowen", approver_email="Megan@Contoso.example"
    )

    relationship.refresh_from_db()
    assert relationship.status == S.ACTIVE
    assert relationship.end_at == relationship.activated_at + P730D
    history = [event.to_status for event in history_for(relationship)]
    assert history == [S.CREATED, S.APPROVAL_PENDING, S.APPROVED, S.ACTIVATING, S.ACTIVE]
    assert [d.payload["data"]["status"] for d in WebhookDelivery.objects.order_by("pk")] == [
        S.APPROVAL_PENDING,
        S.APPROVED,
        S.ACTIVATING,
        S.ACTIVE,
    ]
    approval = AuditEvent.objects.get(action="gdap.approved")
    assert approval.changes == {"approver_name": "Megan Bowen", "approver_email": "megan@contoso.example"}
    assert approval.actor_label == "Megan Bowen <megan@contoso.example> (customer)"


def test_the_customer_must_say_who_approves(agent, customer):
    relationship = _pending(agent, customer)
    with pytest.raises(ValidationError) as excinfo:
        gdap_customer_approve(relationship=relationship, approver_name=" ", approver_email="nobody")
    assert set(_errors(excinfo)) == {"approver_name", "approver_email"}
    relationship.refresh_from_db()
    assert relationship.status == S.APPROVAL_PENDING


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (S.CREATED, "not been sent for approval"),
        (S.EXPIRED, "expired"),
        (S.ACTIVE, "already answered"),
        (S.TERMINATED, "already answered"),
    ],
)
def test_only_a_pending_request_can_be_approved(org_a, status, message):
    relationship = _relationship_in(org_a, status)
    with pytest.raises(ValidationError) as excinfo:
        gdap_customer_approve(
            relationship=relationship, approver_name="Megan", approver_email="m@contoso.example"
        )
    assert message in _errors(excinfo)["status"][0]


def test_the_spec_worked_example(agent, customer):
    """Contoso-Default-2025: created and locked 2025-01-10, approved 2025-01-12T09:30Z, P730D, P180D."""
    with freeze_time("2025-01-10T08:00:00Z"):
        relationship = _create(
            agent, customer, display_name="Contoso-Default-2025", auto_extend_duration=P180D
        )
        assert relationship.status == S.CREATED
        gdap_lock_for_approval(actor=agent, relationship=relationship)
    with freeze_time("2025-01-12T09:30:00Z"):
        gdap_customer_approve(
            relationship=relationship, approver_name="Megan", approver_email="m@contoso.example"
        )
        assignment = gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id=uuid.uuid4(),
            security_group_name="Helpdesk-L1",
            role_ids=[HELPDESK, DIRECTORY_READERS],
        )

    relationship.refresh_from_db()
    assert relationship.status == S.ACTIVE
    assert relationship.activated_at == datetime(2025, 1, 12, 9, 30, tzinfo=UTC)
    assert relationship.end_at == datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
    assert assignment.status == AccessAssignmentStatus.ACTIVE
    assert {role.display_name for role in assignment.roles.all()} == {
        "Helpdesk Administrator",
        "Directory Readers",
    }
    # The first extension (the daily job, tests/security/test_gdap_daily.py) moves it to 2027-07-11.
    assert (relationship.end_at + P180D).date().isoformat() == "2027-07-11"


# --- Global Administrator removal -----------------------------------------------------------------


def test_global_administrator_is_removed_while_active_from_relationship_and_assignments(agent, customer):
    relationship = _approved(agent, customer, role_ids=[GA, HELPDESK])
    both = gdap_assignment_create(
        actor=agent,
        relationship=relationship,
        security_group_id=uuid.uuid4(),
        security_group_name="Admins",
        role_ids=[GA, HELPDESK],
    )
    only_ga = gdap_assignment_create(
        actor=agent,
        relationship=relationship,
        security_group_id=uuid.uuid4(),
        security_group_name="Break-glass",
        role_ids=[GA],
    )

    gdap_global_admin_remove(actor=agent, relationship=relationship)

    assert _roles(relationship) == {HELPDESK}
    assert {str(pk) for pk in both.roles.values_list("pk", flat=True)} == {HELPDESK}
    only_ga.refresh_from_db()
    assert only_ga.status == AccessAssignmentStatus.DELETED
    assert AuditEvent.objects.filter(action="gdap.global_admin_removed").exists()
    # Now it may auto-extend.
    gdap_auto_extend_set(actor=agent, relationship=relationship, enabled=True)


@pytest.mark.parametrize(
    "status",
    [
        S.CREATED,
        S.APPROVAL_PENDING,
        S.APPROVED,
        S.ACTIVATING,
        S.TERMINATION_REQUESTED,
        S.TERMINATED,
        S.EXPIRED,
    ],
)
def test_global_administrator_is_removed_only_while_active(org_a, agent, status):
    relationship = _relationship_in(org_a, status)
    relationship.roles.add(GA)
    with pytest.raises(ValidationError) as excinfo:
        gdap_global_admin_remove(actor=agent, relationship=relationship)
    assert "only be removed while the relationship is active" in _errors(excinfo)["status"][0]
    assert GA in _roles(relationship)


def test_global_administrator_removal_needs_it_and_another_role(agent, customer):
    without = _approved(agent, customer)
    with pytest.raises(ValidationError) as excinfo:
        gdap_global_admin_remove(actor=agent, relationship=without)
    assert "does not include" in _errors(excinfo)["role_ids"][0]
    only = _approved(
        agent, CustomerFactory(organization=agent.organization), display_name="GA-only", role_ids=[GA]
    )
    with pytest.raises(ValidationError) as excinfo:
        gdap_global_admin_remove(actor=agent, relationship=only)
    assert "only role" in _errors(excinfo)["role_ids"][0]


# --- Termination and renewal ----------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(GDAP_LIVE_STATUSES))
def test_termination_runs_its_three_steps_and_deletes_assignments(org_a, agent, status):
    relationship = _relationship_in(org_a, status)
    assignment = GdapAccessAssignmentFactory(organization=org_a, relationship=relationship, status="active")

    with freeze_time("2026-03-01T12:00:00Z"):
        gdap_terminate(actor=agent, relationship=relationship)

    relationship.refresh_from_db()
    assert relationship.status == S.TERMINATED
    assert relationship.end_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert [event.to_status for event in history_for(relationship)][-3:] == [
        S.TERMINATION_REQUESTED,
        S.TERMINATING,
        S.TERMINATED,
    ]
    assignment.refresh_from_db()
    assert assignment.status == AccessAssignmentStatus.DELETED


@pytest.mark.parametrize(
    "status",
    [S.CREATED, S.APPROVAL_PENDING, S.APPROVED, S.ACTIVATING, S.TERMINATING, S.TERMINATED, S.EXPIRED],
)
def test_only_live_relationships_are_terminated(org_a, agent, status):
    relationship = _relationship_in(org_a, status)
    with pytest.raises(ValidationError) as excinfo:
        gdap_terminate(actor=agent, relationship=relationship)
    assert "Only an active or expiring" in _errors(excinfo)["status"][0]


@pytest.mark.parametrize("status", [S.ACTIVE, S.EXPIRING, S.EXPIRED, S.TERMINATED])
def test_renewal_is_a_new_created_request_with_the_same_terms(agent, customer, status):
    relationship = _approved(agent, customer, auto_extend_duration=P180D, duration=timedelta(days=400))
    GdapRelationship.objects.filter(pk=relationship.pk).update(status=status)

    renewal = gdap_renew(actor=agent, relationship=relationship)

    assert renewal.pk != relationship.pk
    assert renewal.status == S.CREATED
    assert renewal.customer == customer
    assert (renewal.duration, renewal.auto_extend_duration) == (timedelta(days=400), P180D)
    assert _roles(renewal) == _roles(relationship)
    assert renewal.display_name == "Contoso-Helpdesk-R1"
    assert AuditEvent.objects.get(action="gdap.renewed").changes == {"renewal": renewal.relationship_id}
    assert gdap_renew(actor=agent, relationship=relationship).display_name == "Contoso-Helpdesk-R2"


def test_a_renewal_name_stays_within_fifty_characters(agent, customer):
    relationship = _approved(agent, customer, display_name="y" * 50)
    renewal = gdap_renew(actor=agent, relationship=relationship)
    assert renewal.display_name == "y" * 47 + "-R1"


@pytest.mark.parametrize("status", [S.CREATED, S.APPROVAL_PENDING, S.TERMINATING])
def test_requests_still_in_flight_are_not_renewed(org_a, agent, status):
    with pytest.raises(ValidationError) as excinfo:
        gdap_renew(actor=agent, relationship=_relationship_in(org_a, status))
    assert "can be renewed" in _errors(excinfo)["status"][0]


# --- Access assignments ---------------------------------------------------------------------------


def test_an_assignment_uses_only_its_relationships_roles(agent, customer):
    relationship = _approved(agent, customer)
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id=uuid.uuid4(),
            security_group_name="Users",
            role_ids=[HELPDESK, USER_ADMIN],
        )
    assert "not in it: User Administrator" in _errors(excinfo)["role_ids"][0]
    assert not GdapAccessAssignment.objects.exists()


@pytest.mark.parametrize(
    "status", [S.CREATED, S.APPROVAL_PENDING, S.APPROVED, S.ACTIVATING, S.TERMINATED, S.EXPIRED]
)
def test_assignments_only_on_live_relationships(org_a, agent, status):
    relationship = _relationship_in(org_a, status)
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id=uuid.uuid4(),
            security_group_name="Helpdesk-L1",
            role_ids=[HELPDESK],
        )
    assert "active relationship" in _errors(excinfo)["relationship"][0]


def test_one_live_assignment_per_security_group(agent, customer):
    relationship = _approved(agent, customer)
    group = uuid.uuid4()
    values = {"security_group_id": group, "security_group_name": "Helpdesk-L1", "role_ids": [HELPDESK]}
    first = gdap_assignment_create(actor=agent, relationship=relationship, **values)
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_create(actor=agent, relationship=relationship, **values)
    assert "already has an access assignment" in _errors(excinfo)["security_group_id"][0]
    # Once deleted, the group may be assigned again.
    gdap_assignment_delete(actor=agent, assignment=first)
    assert gdap_assignment_create(actor=agent, relationship=relationship, **values).status == "active"


def test_an_assignment_needs_a_group_guid_and_name(agent, customer):
    relationship = _approved(agent, customer)
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id="sg-1",
            security_group_name="X",
            role_ids=[HELPDESK],
        )
    assert "GUID" in _errors(excinfo)["security_group_id"][0]
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_create(
            actor=agent,
            relationship=relationship,
            security_group_id=uuid.uuid4(),
            security_group_name="",
            role_ids=[HELPDESK],
        )
    assert "name" in _errors(excinfo)["security_group_name"][0]


def test_assignment_roles_change_within_the_relationship_and_deletion_is_final(agent, customer):
    relationship = _approved(agent, customer)
    assignment = gdap_assignment_create(
        actor=agent,
        relationship=relationship,
        security_group_id=uuid.uuid4(),
        security_group_name="Helpdesk-L1",
        role_ids=[HELPDESK],
    )

    gdap_assignment_update(actor=agent, assignment=assignment, role_ids=[HELPDESK, DIRECTORY_READERS])
    assert {str(pk) for pk in assignment.roles.values_list("pk", flat=True)} == {HELPDESK, DIRECTORY_READERS}
    with pytest.raises(ValidationError):
        gdap_assignment_update(actor=agent, assignment=assignment, role_ids=[USER_ADMIN])
    with pytest.raises(ValidationError):
        gdap_assignment_update(actor=agent, assignment=assignment, role_ids=[])

    gdap_assignment_delete(actor=agent, assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.status == AccessAssignmentStatus.DELETED
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_delete(actor=agent, assignment=assignment)
    assert "already deleted" in _errors(excinfo)["status"][0]
    with pytest.raises(ValidationError):
        gdap_assignment_update(actor=agent, assignment=assignment, role_ids=[HELPDESK])
    assert list(
        AuditEvent.objects.filter(action__startswith="gdap.assignment")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["gdap.assignment_created", "gdap.assignment_updated", "gdap.assignment_deleted"]


def test_assignment_roles_cannot_change_once_the_relationship_ended(org_a, agent):
    relationship = active_gdap_relationship(org_a)
    assignment = GdapAccessAssignmentFactory(organization=org_a, relationship=relationship, status="active")
    GdapRelationship.objects.filter(pk=relationship.pk).update(status=S.TERMINATED)
    with pytest.raises(ValidationError) as excinfo:
        gdap_assignment_update(actor=agent, assignment=assignment, role_ids=[HELPDESK])
    assert "active relationship" in _errors(excinfo)["relationship"][0]
