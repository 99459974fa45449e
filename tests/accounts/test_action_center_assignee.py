"""The Action Center's items for one person: assigned by a check (or taken by a member), shown in
"Mine" beside the unassigned items addressed to one of the person's roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.choices import ActionItemCode
from accounts.services.action_center import action_item_assign, action_item_raise
from portal.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _item(organization, key: str, title: str, **values):
    return action_item_raise(
        organization_id=organization.pk,
        code=ActionItemCode.choices[0][0],
        dedupe_key=key,
        title=title,
        **values,
    )


def test_mine_shows_my_items_and_those_addressed_to_my_roles(alice, bob, verified_client):
    org = alice.organization
    _item(org, "a", "For Alice alone", assignee_id=alice.pk)
    _item(org, "b", "For Bob alone", assignee_id=bob.pk)
    _item(org, "c", "For incentive people", audience_roles=[Role.INCENTIVES_USER])
    _item(org, "d", "For everyone")
    _item(org, "e", "For admins but taken by Bob", audience_roles=list(alice.role_codes), assignee_id=bob.pk)

    client = verified_client(alice)
    mine = client.get(reverse("home:index"), {"mine": "on"}).content.decode()
    everything = client.get(reverse("home:index")).content.decode()

    assert "For Alice alone" in mine and "For everyone" in mine
    assert "For Bob alone" not in mine and "For incentive people" not in mine
    assert "For admins but taken by Bob" not in mine
    assert "For Bob alone" in everything and "Assigned to you" in everything


def test_a_member_takes_an_item_and_gives_it_back(alice, verified_client):
    item = _item(alice.organization, "x", "Renew the agreement")
    client = verified_client(alice)
    client.post(reverse("accounts:action-item-transition", args=[item.pk, "take"]))
    item.refresh_from_db()
    assert item.assignee == alice
    client.post(reverse("accounts:action-item-transition", args=[item.pk, "release"]))
    item.refresh_from_db()
    assert item.assignee is None


def test_an_item_is_never_assigned_outside_its_organization(alice, charlie):
    item = _item(alice.organization, "y", "Check the tax profile")
    with pytest.raises(ValidationError, match="active member of your organization"):
        action_item_assign(actor=alice, item=item, assignee=charlie)
    with pytest.raises(ValidationError):
        action_item_assign(
            actor=alice, item=item, assignee=UserFactory(organization=alice.organization, is_active=False)
        )
