"""Security workspace pages (delegated access): GDAP list, request, the relationship's page and its
actions, access assignments, history, the customer's public invitation and legacy DAP."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portal.roles import Role
from security.choices import GLOBAL_ADMINISTRATOR_ROLE_ID, AccessAssignmentStatus, GdapStatus
from security.models import DapRelationship, GdapAccessAssignment, GdapRelationship
from security.selectors.gdap import gdap_approval_path
from security.services.gdap import gdap_lock_for_approval
from security.services.gdap_daily import gdap_daily
from tests.factories import (
    CustomerFactory,
    DapRelationshipFactory,
    GdapAccessAssignmentFactory,
    GdapRelationshipFactory,
    UserFactory,
    active_gdap_relationship,
)

pytestmark = pytest.mark.django_db

HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"


@pytest.fixture
def agent(org_a):
    """An Admin agent: manages GDAP."""
    return UserFactory(organization=org_a, email="agent@alpha.example", roles=[Role.ADMIN_AGENT])


@pytest.fixture
def agent_client(agent, verified_client) -> Client:
    return verified_client(agent)


@pytest.fixture
def reader(org_a):
    return UserFactory(organization=org_a, email="reader@alpha.example", roles=[Role.ACCOUNT_ADMIN])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def detail(relationship) -> str:
    return reverse("security:gdap-detail", args=[relationship.pk])


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["security:gdap-list", "security:gdap-create", "security:dap-list"])
def test_the_pages_render_for_an_admin_agent(name, agent_client):
    assert agent_client.get(reverse(name)).status_code == 200


def test_a_reader_sees_relationships_but_cannot_act(org_a, reader, verified_client):
    relationship = GdapRelationshipFactory(organization=org_a)
    client = verified_client(reader)
    assert client.get(reverse("security:gdap-list")).status_code == 200
    page = client.get(detail(relationship))
    assert page.status_code == 200
    assert b"Lock for approval" not in page.content
    assert client.get(reverse("security:gdap-create")).status_code == 403
    assert client.post(reverse("security:gdap-lock", args=[relationship.pk])).status_code == 403
    relationship.refresh_from_db()
    assert relationship.status == GdapStatus.CREATED


def test_people_without_security_roles_are_refused(org_a, bob, verified_client):
    relationship = GdapRelationshipFactory(organization=org_a)
    client = verified_client(bob)
    assert client.get(reverse("security:gdap-list")).status_code == 403
    assert client.get(detail(relationship)).status_code == 403
    assert client.get(reverse("security:dap-list")).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "security:gdap-lock",
        "security:gdap-auto-extend",
        "security:gdap-remove-global-admin",
        "security:gdap-renew",
        "security:gdap-terminate",
        "security:gdap-assignment-add",
    ],
)
def test_another_organizations_relationship_is_not_found(name, org_b, agent_client):
    theirs = active_gdap_relationship(org_b)
    assert agent_client.get(detail(theirs)).status_code == 404
    assert agent_client.post(reverse(name, args=[theirs.pk]), {"enabled": "1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == GdapStatus.ACTIVE


def test_another_organizations_assignment_and_dap_are_not_found(org_b, agent_client):
    assignment = GdapAccessAssignmentFactory(organization=org_b, relationship=active_gdap_relationship(org_b))
    dap = DapRelationshipFactory(organization=org_b)
    assert (
        agent_client.post(reverse("security:gdap-assignment-delete", args=[assignment.pk])).status_code == 404
    )
    assert agent_client.post(reverse("security:dap-remove", args=[dap.pk])).status_code == 404
    assert GdapAccessAssignment.objects.get(pk=assignment.pk).status != AccessAssignmentStatus.DELETED
    assert DapRelationship.objects.get(pk=dap.pk).removed_at is None


# --- The request, approval and history ----------------------------------------------------------------


def test_a_request_is_created_locked_approved_by_the_customer_and_recorded(org_a, agent_client, client):
    customer = CustomerFactory(organization=org_a, name="Contoso")
    form = agent_client.get(reverse("security:gdap-create"), {"customer": str(customer.tenant_id)})
    assert form.context["form"].initial["customer"] == str(customer.tenant_id)

    response = agent_client.post(
        reverse("security:gdap-create"),
        {
            "customer": str(customer.tenant_id),
            "display_name": "Contoso-Helpdesk",
            "duration_days": 365,
            "roles": [HELPDESK, DIRECTORY_READERS],
            "auto_extend": "on",
        },
    )
    relationship = GdapRelationship.objects.get(display_name="Contoso-Helpdesk")
    assert response.status_code == 302
    assert response["Location"] == detail(relationship)
    assert relationship.status == GdapStatus.CREATED
    assert relationship.duration == timedelta(days=365)

    response = agent_client.post(reverse("security:gdap-lock", args=[relationship.pk]), follow=True)
    assert any("Locked for approval" in message for message in messages_of(response))
    approval_url = response.context["approval_url"]
    # The link is signed with the time it was made: compare what it names, not the second it was signed.
    assert approval_url.rsplit(":", 2)[0].endswith(gdap_approval_path(relationship).rsplit(":", 2)[0])
    assert f'value="{approval_url}"' in response.content.decode()
    assert b"Copy link" in response.content

    # The customer's admin opens the link without an account.
    path = approval_url.split("testserver", 1)[1]
    invitation = client.get(path)
    assert invitation.status_code == 200
    html = invitation.content.decode()
    assert org_a.legal_name in html
    assert "Helpdesk Administrator" in html and "Directory Readers" in html
    assert "365 days" in html
    response = client.post(
        path, {"approver_name": "Carla Customer", "approver_email": "carla@contoso.example"}
    )
    assert response.status_code == 200
    assert b'data-testid="invitation-result"' in response.content
    relationship.refresh_from_db()
    assert relationship.status == GdapStatus.ACTIVE
    assert relationship.end_at == relationship.activated_at + timedelta(days=365)

    # A second answer is refused clearly.
    again = client.get(path)
    assert b'data-testid="invitation-answered"' in again.content

    page = agent_client.get(detail(relationship))
    assert page.context["approval_url"] == ""
    history = page.context["history"]
    assert [row.status for row in history][:4] == ["Active", "Activating", "Approved", "Approval pending"]
    assert history[-1].status == "Created"
    assert "Carla Customer" in history[0].who
    assert history[-1].who == "agent@alpha.example"


def _request(agent_client, customer: str, name: str):
    return agent_client.post(
        reverse("security:gdap-create"),
        {"customer": customer, "display_name": name, "duration_days": 30, "roles": [HELPDESK]},
    )


def test_the_customer_is_named_by_tenant_id_domain_or_name_without_listing_every_customer(
    org_a, org_b, agent_client
):
    contoso = CustomerFactory(organization=org_a, name="Contoso", domain="contoso.example")
    CustomerFactory(organization=org_a, name="Contoso Retail", domain="contoso-retail.example")
    theirs = CustomerFactory(organization=org_b, name="Fabrikam", domain="fabrikam.example")

    page = agent_client.get(reverse("security:gdap-create"))
    # A text field: the page lists no customers, however many the partner has.
    assert b'<input type="text" name="customer"' in page.content
    assert b'<select name="customer"' not in page.content
    assert "Contoso Retail" not in page.content.decode()

    for text, name in (
        (str(contoso.tenant_id), "By tenant"),
        ("CONTOSO.example", "By domain"),
        ("contoso", "By exact name"),
    ):
        assert _request(agent_client, text, name).status_code == 302, text
        assert GdapRelationship.objects.get(display_name=name).customer == contoso

    several = _request(agent_client, "conto", "Ambiguous")
    assert several.context["form"].errors["customer"] == [
        "Several customers match 'conto': Contoso (contoso.example), Contoso Retail "
        "(contoso-retail.example). Give the tenant ID or the domain."
    ]
    for text in ("Northwind", str(theirs.tenant_id), "fabrikam.example"):
        refused = _request(agent_client, text, "Nobody")
        assert refused.context["form"].errors["customer"] == [f"No customer of yours matches {text!r}."]
    assert not GdapRelationship.objects.filter(display_name__in=["Ambiguous", "Nobody"]).exists()


def test_a_bad_request_is_shown_next_to_its_field(org_a, agent_client):
    customer = CustomerFactory(organization=org_a)
    response = agent_client.post(
        reverse("security:gdap-create"),
        {
            "customer": str(customer.tenant_id),
            "display_name": "With GA",
            "duration_days": 30,
            "roles": [GLOBAL_ADMINISTRATOR_ROLE_ID],
            "auto_extend": "on",
        },
    )
    assert response.status_code == 200
    assert "Global Administrator" in str(response.context["form"].errors)
    assert not GdapRelationship.objects.filter(display_name="With GA").exists()


def test_a_tampered_invitation_link_is_refused(client):
    response = client.get(reverse("security:gdap-invitation", args=["nonsense:token"]))
    assert response.status_code == 404
    assert b"This approval link is not valid" in response.content


# --- Actions on a live relationship -------------------------------------------------------------------


def test_auto_extend_is_turned_on_and_off(org_a, agent_client):
    relationship = active_gdap_relationship(org_a)
    url = reverse("security:gdap-auto-extend", args=[relationship.pk])
    agent_client.post(url, {"enabled": "1"})
    relationship.refresh_from_db()
    assert relationship.auto_extends
    response = agent_client.post(url, {"enabled": "0"}, follow=True)
    assert "Auto-extend turned off." in messages_of(response)
    relationship.refresh_from_db()
    assert not relationship.auto_extends


def test_global_administrator_blocks_auto_extend_until_removed(org_a, agent_client):
    relationship = active_gdap_relationship(org_a, roles=[GLOBAL_ADMINISTRATOR_ROLE_ID, HELPDESK])
    page = agent_client.get(detail(relationship))
    assert page.context["global_admin_removable"] and not page.context["auto_extend_changeable"]
    response = agent_client.post(
        reverse("security:gdap-auto-extend", args=[relationship.pk]), {"enabled": "1"}, follow=True
    )
    assert any("Global Administrator" in message for message in messages_of(response))
    relationship.refresh_from_db()
    assert not relationship.auto_extends

    response = agent_client.post(
        reverse("security:gdap-remove-global-admin", args=[relationship.pk]), follow=True
    )
    assert "Global Administrator removed." in messages_of(response)
    assert GLOBAL_ADMINISTRATOR_ROLE_ID not in {
        str(pk) for pk in relationship.roles.values_list("pk", flat=True)
    }
    assert response.context["auto_extend_changeable"]


def test_assignments_are_added_within_the_relationships_roles_and_deleted(org_a, agent_client):
    relationship = active_gdap_relationship(org_a, roles=[HELPDESK, DIRECTORY_READERS])
    add = reverse("security:gdap-assignment-add", args=[relationship.pk])
    group = uuid.uuid4()

    # A role outside the relationship is not even offered.
    response = agent_client.post(
        add,
        {"security_group_id": group, "security_group_name": "Helpdesk-L1", "roles": [USER_ADMIN]},
        follow=True,
    )
    assert any("Roles" in message for message in messages_of(response))
    assert not GdapAccessAssignment.objects.exists()

    response = agent_client.post(
        add,
        {"security_group_id": group, "security_group_name": "Helpdesk-L1", "roles": [HELPDESK]},
        follow=True,
    )
    assert "Access assignment for Helpdesk-L1 added." in messages_of(response)
    assignment = GdapAccessAssignment.objects.get()
    assert [str(pk) for pk in assignment.roles.values_list("pk", flat=True)] == [HELPDESK]
    assert [a.pk for a in response.context["assignments"]] == [assignment.pk]

    response = agent_client.post(
        reverse("security:gdap-assignment-delete", args=[assignment.pk]), follow=True
    )
    assert "Access assignment for Helpdesk-L1 deleted." in messages_of(response)
    assert response.context["assignments"] == []


def test_terminate_then_renew(org_a, agent_client):
    relationship = active_gdap_relationship(org_a, display_name="Fabrikam")
    GdapAccessAssignmentFactory(organization=org_a, relationship=relationship)
    response = agent_client.post(reverse("security:gdap-terminate", args=[relationship.pk]), follow=True)
    assert "Relationship terminated; its access assignments are deleted." in messages_of(response)
    relationship.refresh_from_db()
    assert relationship.status == GdapStatus.TERMINATED
    assert response.context["assignments"] == []
    assert not response.context["terminable"] and response.context["renewable"]

    response = agent_client.post(reverse("security:gdap-renew", args=[relationship.pk]), follow=True)
    renewal = GdapRelationship.objects.exclude(pk=relationship.pk).get()
    assert response.redirect_chain[-1][0] == detail(renewal)
    assert renewal.status == GdapStatus.CREATED
    assert set(renewal.roles.all()) == set(relationship.roles.all())


def test_a_refused_action_says_why(org_a, agent_client):
    relationship = GdapRelationshipFactory(organization=org_a)  # created: nothing to terminate
    response = agent_client.post(reverse("security:gdap-terminate", args=[relationship.pk]), follow=True)
    assert any("Only an active or expiring relationship" in m for m in messages_of(response))


# --- The list and expiry ----------------------------------------------------------------------------


def test_the_list_filters_and_shows_expiry(org_a, org_b, agent_client):
    ending = active_gdap_relationship(
        org_a,
        display_name="Ending soon",
        activated_at=timezone.now() - timedelta(days=720),
        duration=timedelta(days=730),
    )
    active_gdap_relationship(org_a, display_name="Long")
    GdapRelationshipFactory(organization=org_a, display_name="Draft")
    active_gdap_relationship(org_b, display_name="Theirs")

    gdap_daily()
    ending.refresh_from_db()
    assert ending.status == GdapStatus.EXPIRING

    response = agent_client.get(reverse("security:gdap-list"))
    names = {r.display_name for r in response.context["page"].rows}
    assert names == {"Ending soon", "Long", "Draft"}
    assert b'data-testid="expiring-count">1<' in response.content

    response = agent_client.get(reverse("security:gdap-list"), {"status": GdapStatus.EXPIRING})
    assert [r.display_name for r in response.context["page"].rows] == ["Ending soon"]
    response = agent_client.get(reverse("security:gdap-list"), {"q": "draft"})
    assert [r.display_name for r in response.context["page"].rows] == ["Draft"]

    page = agent_client.get(detail(ending))
    assert re.search(rb"\d+ days? left", page.content)


def test_an_expired_relationship_shows_as_expired(org_a, agent_client):
    relationship = active_gdap_relationship(
        org_a, activated_at=timezone.now() - timedelta(days=40), duration=timedelta(days=30)
    )
    gdap_daily()
    page = agent_client.get(detail(relationship))
    assert b'data-status="expired"' in page.content
    assert [row.status for row in page.context["history"]][:2] == ["Expired", "Expiring"]
    assert page.context["history"][0].who == "system"


def test_a_pending_request_keeps_its_link_on_the_page(org_a, agent, agent_client):
    relationship = GdapRelationshipFactory(organization=org_a)
    gdap_lock_for_approval(actor=agent, relationship=relationship)
    page = agent_client.get(detail(relationship))
    assert b'data-testid="approval-url"' in page.content


# --- Legacy DAP -------------------------------------------------------------------------------------


def test_dap_is_listed_and_removed_but_never_created(org_a, agent_client):
    dap = DapRelationshipFactory(
        organization=org_a, customer__name="Old Contoso", established_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    response = agent_client.get(reverse("security:dap-list"))
    assert [d.pk for d in response.context["page"].rows] == [dap.pk]
    assert b"Inactive 90+ days" in response.content
    assert b"Request GDAP" in response.content

    response = agent_client.post(reverse("security:dap-remove", args=[dap.pk]), follow=True)
    assert "DAP with Old Contoso removed." in messages_of(response)
    dap.refresh_from_db()
    assert dap.removed_at is not None
    assert list(response.context["page"].rows) == []
    shown = agent_client.get(reverse("security:dap-list"), {"removed": "true"})
    assert b"Removed " in shown.content

    # No page creates a DAP: there is no create route and POSTing the list does nothing.
    for name in ("security:dap-create", "security:dap-new"):
        with pytest.raises(NoReverseMatch):
            reverse(name)
    assert agent_client.post(reverse("security:dap-list")).status_code in (200, 405)
    assert DapRelationship.objects.count() == 1
