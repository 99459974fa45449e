"""The role-grant rule, every granting role × every granted role, for oneself and for others.

Nobody changes their own roles; Global admin, Account admin (and Compliance admin) are granted or
removed only by the Owner or a Global admin; a User management admin grants only the roles below
those; the Owner's roles change only through the ownership transfer.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.services import api_clients, people
from portal.models import AuditEvent
from portal.roles import Role
from tests.conftest import verified_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: Written out, not derived from the code under test.
TOP_GRANTERS = {Role.OWNER, Role.GLOBAL_ADMIN}
TOP_ROLES = {Role.GLOBAL_ADMIN, Role.ACCOUNT_ADMIN, Role.COMPLIANCE_ADMIN}
USER_MANAGERS = {Role.OWNER, Role.ACCOUNT_ADMIN, Role.GLOBAL_ADMIN, Role.USER_MANAGEMENT_ADMIN}


def expected_allowed(granting: str, granted: str) -> bool:
    if granted == Role.OWNER or granting not in USER_MANAGERS:
        return False
    return granting in TOP_GRANTERS if granted in TOP_ROLES else True


def _attempt(actor, user, roles) -> bool:
    """Change `user`'s roles as `actor` would: through the user page, where the one capability
    check runs before the service's grant rules. True when the roles changed."""
    before = set(user.role_codes)
    client = verified_session(actor)
    response = client.post(reverse("accounts:user-detail", args=[user.pk]), {"roles": roles})
    assert response.status_code in (200, 302, 403), response.status_code
    after = set(User.objects.get(pk=user.pk).role_codes)
    return response.status_code == 302 and after == set(roles) != before


@pytest.mark.parametrize("granting", Role.values)
def test_granting_and_removing_each_role_for_others(granting, org_a):
    actor = UserFactory(organization=org_a, roles=[granting])
    outcomes = {}
    for granted in Role.values:
        if granted == granting:
            continue
        base = Role.HELPDESK_AGENT if granted == Role.SALES_AGENT else Role.SALES_AGENT
        target = UserFactory(organization=org_a, roles=[base])
        outcomes[("grant", granted)] = _attempt(actor, target, [base, granted])
        holder = UserFactory(organization=org_a, roles=[base, granted])
        outcomes[("remove", granted)] = _attempt(actor, holder, [base])
    expected = {(change, granted): expected_allowed(granting, granted) for change, granted in outcomes}
    assert outcomes == expected


@pytest.mark.parametrize("granting", Role.values)
def test_nobody_changes_their_own_roles(granting, org_a):
    actor = UserFactory(organization=org_a, roles=[granting])
    for granted in Role.values:
        if granted != granting:
            assert not _attempt(actor, actor, [granting, granted]), granted
    assert not _attempt(actor, actor, [])
    assert set(actor.role_codes) == {granting}


@pytest.mark.parametrize("granting", [Role.GLOBAL_ADMIN, Role.ACCOUNT_ADMIN, Role.USER_MANAGEMENT_ADMIN])
def test_the_owners_roles_change_only_through_the_transfer(granting, org_a, alice):
    actor = UserFactory(organization=org_a, roles=[granting])
    assert not _attempt(actor, alice, [Role.OWNER])
    assert not _attempt(actor, alice, [Role.OWNER, Role.GLOBAL_ADMIN, Role.SALES_AGENT])
    assert set(alice.role_codes) == {Role.OWNER, Role.GLOBAL_ADMIN}


def test_a_user_management_admin_cannot_escalate_through_the_page(alice, org_a):
    manager = UserFactory(organization=org_a, roles=[Role.USER_MANAGEMENT_ADMIN])
    client = verified_session(manager)
    page = reverse("accounts:user-detail", args=[manager.pk])
    response = client.post(page, {"roles": [Role.USER_MANAGEMENT_ADMIN, Role.GLOBAL_ADMIN]})
    assert "your own roles" in response.content.decode()
    response = client.post(reverse("accounts:user-detail", args=[alice.pk]), {"roles": [Role.OWNER]})
    assert "ownership transfer" in response.content.decode()
    assert set(manager.role_codes) == {Role.USER_MANAGEMENT_ADMIN}
    assert set(alice.role_codes) == {Role.OWNER, Role.GLOBAL_ADMIN}


def test_a_user_management_admin_cannot_escalate_through_an_invitation_or_a_client(org_a):
    manager = UserFactory(organization=org_a, roles=[Role.USER_MANAGEMENT_ADMIN])
    for roles in ([Role.GLOBAL_ADMIN], [Role.ACCOUNT_ADMIN], [Role.OWNER], [Role.COMPLIANCE_ADMIN]):
        with pytest.raises(ValidationError):
            people.user_invite(actor=manager, organization=org_a, email="x@alpha.example", roles=roles)
    account_admin = UserFactory(organization=org_a, roles=[Role.ACCOUNT_ADMIN])
    with pytest.raises(ValidationError):
        api_clients.api_client_create(
            actor=account_admin,
            organization=org_a,
            name="x",
            scopes=["accounts:read"],
            roles=[Role.GLOBAL_ADMIN],
        )


def test_the_owner_transfers_ownership_after_a_fresh_check(alice, bob):
    client = verified_session(alice)
    response = client.post(reverse("accounts:user-transfer-ownership", args=[bob.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa-confirm"))
    assert Role.OWNER not in bob.role_codes
    session = client.session
    session["mfa_checked_at"] = 2**40
    session.save()
    response = client.post(reverse("accounts:user-transfer-ownership", args=[bob.pk]))
    assert response["Location"] == reverse("accounts:user-detail", args=[bob.pk])
    assert set(User.objects.get(pk=bob.pk).role_codes) == {Role.OWNER, Role.INCENTIVES_USER}
    assert set(User.objects.get(pk=alice.pk).role_codes) == {Role.GLOBAL_ADMIN}
    assert AuditEvent.objects.filter(action="organization.ownership_transferred", actor=alice).exists()


def test_only_the_owner_transfers_ownership(org_a, alice, bob):
    admin = UserFactory(organization=org_a, roles=[Role.GLOBAL_ADMIN])
    with pytest.raises(PermissionDenied):
        people.ownership_transfer(actor=admin, new_owner=admin)
    with pytest.raises(PermissionDenied):
        people.ownership_transfer(actor=bob, new_owner=bob)
    assert set(alice.role_codes) == {Role.OWNER, Role.GLOBAL_ADMIN}


def test_ownership_goes_to_no_one_outside_or_inactive(alice, charlie, org_a):
    with pytest.raises(ValidationError):
        people.ownership_transfer(actor=alice, new_owner=charlie)
    inactive = UserFactory(organization=org_a, is_active=False)
    with pytest.raises(ValidationError):
        people.ownership_transfer(actor=alice, new_owner=inactive)
