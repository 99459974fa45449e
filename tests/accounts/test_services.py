import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem, Invitation, User
from accounts.services import api_clients, people
from accounts.services.action_center import (
    action_item_dismiss,
    action_item_mark_done,
    action_item_raise,
    action_item_resolve,
    action_item_snooze,
    action_items_raise,
)
from portal.models import AuditEvent
from portal.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_invites_and_the_invitee_joins_with_the_invited_roles(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = people.user_invite(
            actor=alice,
            organization=alice.organization,
            email="New.Person@Alpha.example",
            roles=[Role.REFERRALS_USER],
        )
    assert len(mail.outbox) == 1
    [message] = mail.outbox
    assert message.to == ["new.person@alpha.example"]
    assert message.subject == f"[{alice.organization.legal_name}] You're invited to the Partner Portal"
    assert f"http://localhost:8000/accounts/invitation/{invitation.token}/" in message.body
    assert invitation.token in message.alternatives[0][0]  # the HTML part
    user = people.invitation_accept(
        token=invitation.token, password="A-Long-Enough-Pass-42", display_name="New"
    )
    assert user.email == "new.person@alpha.example"
    assert user.organization == alice.organization
    assert user.role_codes == {"referrals_user"}
    assert AuditEvent.objects.filter(action="user.invited", organization=alice.organization).exists()
    with pytest.raises(ValidationError, match="already used"):
        people.invitation_accept(token=invitation.token, password="A-Long-Enough-Pass-42")


def test_it_refuses_a_second_open_invitation_for_the_same_email(alice):
    people.user_invite(
        actor=alice, organization=alice.organization, email="x@alpha.example", roles=["developer"]
    )
    with pytest.raises(ValidationError, match="open invitation"):
        people.user_invite(
            actor=alice, organization=alice.organization, email="x@alpha.example", roles=["developer"]
        )
    assert Invitation.objects.count() == 1


def test_it_refuses_unknown_roles(alice):
    with pytest.raises(ValidationError, match="Unknown role"):
        people.user_invite(
            actor=alice, organization=alice.organization, email="y@alpha.example", roles=["wizard"]
        )


def test_it_audits_a_role_change_with_before_and_after(alice):
    member = UserFactory(organization=alice.organization, roles=[Role.INCENTIVES_USER])
    people.user_roles_change(actor=alice, user=member, roles=[Role.REFERRALS_ADMIN])
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.actor == alice
    assert event.changes == {"roles": [["incentives_user"], ["referrals_admin"]]}


def test_ownership_is_never_granted_as_a_role(alice):
    member = UserFactory(organization=alice.organization)
    with pytest.raises(ValidationError, match="ownership transfer"):
        people.user_roles_change(actor=alice, user=member, roles=[Role.OWNER])


def test_only_a_global_admin_assigns_the_compliance_admin(org_a):
    admin = UserFactory(organization=org_a, roles=[Role.ACCOUNT_ADMIN])
    member = UserFactory(organization=org_a)
    with pytest.raises(ValidationError, match="Global admin"):
        people.user_roles_change(actor=admin, user=member, roles=[Role.COMPLIANCE_ADMIN])


def test_the_owner_keeps_ownership_until_it_is_transferred(alice, org_a):
    admin = UserFactory(organization=org_a, roles=[Role.GLOBAL_ADMIN])
    with pytest.raises(ValidationError, match="ownership transfer"):
        people.user_roles_change(actor=admin, user=alice, roles=[Role.GLOBAL_ADMIN])


def test_roles_never_change_across_organizations(alice, charlie):
    with pytest.raises(ValidationError):
        people.user_roles_change(actor=alice, user=charlie, roles=[Role.DEVELOPER])


def test_the_action_center_asks_for_a_compliance_admin_until_one_is_assigned(alice):
    people.compliance_admin_check(organization_id=alice.organization_id)
    item = ActionItem.objects.get(code=ActionItemCode.COMPLIANCE_ADMIN_MISSING)
    assert item.status == ActionItemStatus.OPEN
    member = UserFactory(organization=alice.organization)
    people.user_roles_change(actor=alice, user=member, roles=[Role.COMPLIANCE_ADMIN])
    item.refresh_from_db()
    assert item.status == ActionItemStatus.RESOLVED


def test_raising_an_item_twice_keeps_one_and_reopens_it_when_the_cause_returns(org_a):
    kwargs = dict(
        organization_id=org_a.pk, code=ActionItemCode.GDAP_EXPIRING, dedupe_key="gdap-1", title="Expiring"
    )
    first = action_item_raise(**kwargs)
    second = action_item_raise(**{**kwargs, "title": "Expiring soon"})
    assert first.pk == second.pk
    assert ActionItem.objects.get().title == "Expiring soon"
    assert action_item_resolve(organization_id=org_a.pk, dedupe_key="gdap-1") == 1
    action_item_raise(**kwargs)
    assert ActionItem.objects.get().status == ActionItemStatus.OPEN


def test_raising_many_items_at_once_follows_the_same_rules(
    org_a, org_b, alice, django_assert_max_num_queries
):
    def spec(organization, key, title):
        return {
            "organization_id": organization.pk,
            "code": ActionItemCode.DESIGNATION_ATTAINED,
            "dedupe_key": key,
            "title": title,
        }

    action_item_raise(**spec(org_a, "open", "Old title"))
    action_item_raise(**spec(org_a, "resolved", "Resolved"))
    action_item_resolve(organization_id=org_a.pk, dedupe_key="resolved")
    dismissed = action_item_raise(**spec(org_a, "dismissed", "Dismissed"))
    action_item_dismiss(actor=alice, item=dismissed)
    action_item_raise(**spec(org_b, "new", "Another organization's item of the same key"))

    batch = [
        spec(org_a, "open", "New title"),
        spec(org_a, "resolved", "Back"),
        spec(org_a, "dismissed", "Still dismissed"),
        spec(org_a, "new", "Fresh"),
    ]
    with django_assert_max_num_queries(6):
        created = action_items_raise(batch)

    assert created == 1
    rows = dict(ActionItem.objects.filter(organization=org_a).values_list("dedupe_key", "title"))
    statuses = dict(ActionItem.objects.filter(organization=org_a).values_list("dedupe_key", "status"))
    assert rows == {"open": "New title", "resolved": "Back", "dismissed": "Still dismissed", "new": "Fresh"}
    assert statuses == {
        "open": ActionItemStatus.OPEN,
        "resolved": ActionItemStatus.OPEN,
        "dismissed": ActionItemStatus.DISMISSED,
        "new": ActionItemStatus.OPEN,
    }
    assert ActionItem.objects.get(organization=org_b).title == "Another organization's item of the same key"
    assert action_items_raise([]) == 0


def test_high_items_cannot_be_dismissed_or_snoozed(alice):
    item = action_item_raise(
        organization_id=alice.organization_id,
        code=ActionItemCode.TAX_PROFILE_MISSING,
        dedupe_key="tax",
        title="Tax",
        severity=Severity.HIGH,
    )
    with pytest.raises(ValidationError):
        action_item_dismiss(actor=alice, item=item)
    with pytest.raises(ValidationError):
        action_item_snooze(actor=alice, item=item)
    action_item_mark_done(actor=alice, item=item)
    item.refresh_from_db()
    assert (item.status, item.resolved_by) == (ActionItemStatus.RESOLVED, alice)


def test_a_dismissed_item_stays_dismissed_when_raised_again(alice):
    kwargs = dict(
        organization_id=alice.organization_id, code="REFERRAL_EXPIRING", dedupe_key="ref-1", title="R"
    )
    action_item_dismiss(actor=alice, item=action_item_raise(**kwargs))
    action_item_raise(**kwargs)
    assert ActionItem.objects.get().status == ActionItemStatus.DISMISSED


def test_an_api_client_gets_a_service_identity_in_its_organization(alice):
    client, secret = api_clients.api_client_create(
        actor=alice,
        organization=alice.organization,
        name="ERP sync",
        scopes=["accounts:read"],
        roles=[Role.ACCOUNT_ADMIN],
    )
    assert len(secret) > 30
    assert client.service_user.organization == alice.organization
    assert client.service_user.is_service_account
    assert not client.service_user.has_usable_password()
    api_clients.api_client_revoke(actor=alice, client=client)
    assert not User.objects.get(pk=client.service_user.pk).is_active


def test_an_api_client_cannot_get_an_unknown_scope(alice):
    with pytest.raises(ValidationError, match="scopes"):
        api_clients.api_client_create(
            actor=alice, organization=alice.organization, name="x", scopes=["everything"], roles=["developer"]
        )
