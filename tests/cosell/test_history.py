"""The activity feed (spec §4): one row per changed JSON path with who, when and how, written by the
services into the one history; e-mails of the customer's team masked for non-admins."""

from __future__ import annotations

import pytest

from cosell.choices import HistorySource
from cosell.models import Referral
from cosell.selectors.activity import referral_history
from cosell.services.activity import referral_recorded
from cosell.services.referrals import referral_create, referral_update
from portal import context
from portal.history import history_for
from portal.roles import Role
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


def test_the_feed_is_written_by_the_services_not_inferred_from_rows(org_a, dana):
    """A raw UPDATE leaves no event; the next service write records only what it changed."""
    referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    events = history_for(referral).count()
    Referral.objects.filter(pk=referral.pk).update(name="Changed behind our back")
    assert history_for(referral).count() == events
    referral_update(
        referral=referral,
        actor=dana,
        data={"details": {"dealValue": 65000}},
        if_match=None,
        partial=True,
        source=HistorySource.UI,
    )
    event = history_for(referral).last()
    assert event.data["changes"] == [["/details/dealValue", 180000, 65000]]
    assert (event.actor, event.from_status, event.to_status) == (dana, "New", "New")


def test_a_write_outside_the_lifecycle_is_recorded_with_its_actor_source_and_note(org_a, dana):
    referral = ReferralFactory(organization=org_a)
    with referral_recorded(referral, actor=dana, source=HistorySource.ADMIN, note="Data fix"):
        referral.status_reason = "Edited in the admin"
        referral.save()
    last = referral_history(referral)[-1]
    assert (last.field, last.old, last.new) == ("/statusReason", "", "Edited in the admin")
    assert (last.who, last.actor_type, last.source) == ("dana@alpha.example", "user", "admin")
    assert history_for(referral).last().note == "Data fix"


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


def test_writes_of_one_request_keep_their_own_source_and_the_requests_id(org_a, dana):
    """Creating and routing in one request stay two sources; both carry the request's id."""
    token = context.activate(context.RequestContext(request_id="req-42", via="api"))
    try:
        referral = referral_create(organization=org_a, actor=dana, data=inbound(), source=HistorySource.API)
    finally:
        context.reset(token)
    changes = referral_history(referral)
    sources = {change.field: change.source for change in changes}
    assert sources["/status"] == "api"
    assert sources["/assignedTeam"] == "routing"
    assert {change.request_id for change in changes} == {"req-42"}
