"""The activity feed (spec §4): one row per changed JSON path with who, when and how, for every write
path, because the database triggers record it; e-mails of the customer's team masked for non-admins."""

from __future__ import annotations

import pghistory
import pytest

from accounts.choices import Role
from cosell.choices import HistorySource
from cosell.models import Referral
from cosell.services.referrals import referral_create, referral_history, referral_update
from tests.cosell.test_referrals import inbound
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana(org_a):
    return UserFactory(organization=org_a, email="dana@alpha.example", roles=[Role.REFERRALS_ADMIN])


@pytest.fixture
def seller(org_a):
    return UserFactory(organization=org_a, email="sam@alpha.example", roles=[Role.REFERRALS_USER])


def _rows(referral, viewer=None):
    return [
        (c.field, c.old, c.new, c.who, c.actor_type, c.source)
        for c in referral_history(referral, viewer=viewer)
    ]


def test_each_service_write_is_one_row_per_field_with_who_and_source(org_a, dana):
    referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    referral_update(
        referral=referral,
        actor=dana,
        data={"details": {"dealValue": 65000}, "customerProfile": {"address": {"city": "Berlin"}}},
        if_match=None,
        partial=True,
        source=HistorySource.UI,
    )
    rows = _rows(referral, viewer=dana)
    assert rows[:2] == [
        ("/status", None, "New", "dana@alpha.example", "api", "api"),
        ("/substatus", None, "Received", "dana@alpha.example", "api", "api"),
    ]
    assert ("/assignedTeam", "", "Referrals admins", "system", "system", "routing") in rows
    assert rows[-2:] == [
        ("/customerProfile/address/city", "Munich", "Berlin", "dana@alpha.example", "user", "ui"),
        ("/details/dealValue", 180000, 65000, "dana@alpha.example", "user", "ui"),
    ]
    changes = referral_history(referral)
    assert changes == sorted(changes, key=lambda change: change.when)


def test_a_copied_column_and_its_json_give_one_row(org_a, dana):
    referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    referral_update(
        referral=referral,
        actor=dana,
        data={"customerProfile": {"address": {"country": "AT"}}},
        if_match=None,
        partial=True,
        source=HistorySource.UI,
    )
    fields = [row[0] for row in _rows(referral)]
    assert fields.count("/customerProfile/address/country") == 1


def test_a_direct_queryset_update_is_still_recorded(org_a):
    referral = ReferralFactory(organization=org_a)
    Referral.objects.filter(pk=referral.pk).update(deal_value=65000, name="Changed behind our back")
    changed = {row[0]: row for row in _rows(referral)[2:]}
    assert set(changed) == {"/name", "/details/dealValue"}
    assert changed["/name"][1:3] == (referral.name, "Changed behind our back")
    assert changed["/details/dealValue"][1:3] == (180000, 65000)
    assert changed["/details/dealValue"][3:] == (
        "database (outside the portal's services)",
        "system",
        "system",
    )


def test_an_admin_style_save_is_recorded_with_the_request_user(org_a, dana):
    referral = ReferralFactory(organization=org_a)
    # What pghistory's request middleware does around an admin request.
    with pghistory.context(user=dana.pk, url="/admin/cosell/referral/1/change/"):
        referral.status_reason = "Edited in the admin"
        referral.save()
    last = referral_history(referral)[-1]
    assert (last.field, last.old, last.new) == ("/statusReason", "", "Edited in the admin")
    assert (last.who, last.actor_type, last.source) == ("dana@alpha.example", "user", "admin")


def test_a_plain_save_outside_any_request_is_recorded(org_a):
    referral = ReferralFactory(organization=org_a)
    referral.lead_temperature = "hot"
    referral.save()
    last = referral_history(referral)[-1]
    assert (last.field, last.old, last.new, last.source) == ("/leadTemperature", "", "hot", "system")


def test_customer_team_emails_are_masked_for_users_who_do_not_manage_all(org_a, dana, seller):
    referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    team = [{"firstName": "Sue", "lastName": "Smith", "email": "sue.smith@contoso.example"}]
    referral_update(
        referral=referral,
        actor=dana,
        data={"customerProfile": {"team": team}},
        if_match=None,
        partial=True,
        source=HistorySource.UI,
    )
    masked = referral_history(referral, viewer=seller)[-1]
    assert masked.field == "/customerProfile/team"
    assert masked.old[0]["email"] == "l***@northwind.example"
    assert masked.new[0]["email"] == "s***@contoso.example"
    assert masked.new[0]["lastName"] == "Smith"
    shown = referral_history(referral, viewer=dana)[-1]
    assert shown.new[0]["email"] == "sue.smith@contoso.example"
    assert referral_history(referral)[-1].new[0]["email"] == "s***@contoso.example"


def test_writes_inside_a_request_context_keep_their_own_source(org_a, dana):
    """The middleware opens one context per request; creating and routing in it stay two sources."""
    with pghistory.context(user=dana.pk, url="/api/v1/cosell/engagements/referrals"):
        referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    sources = {change.field: change.source for change in referral_history(referral)}
    assert sources["/status"] == "api"
    assert sources["/assignedTeam"] == "routing"
