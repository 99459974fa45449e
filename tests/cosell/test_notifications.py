"""Co-sell notifications (portal.notifications), delivered to a real SMTP server: an inbound referral
reaches the people its routing picks (else the referral managers), a new assignee hears of the
assignment, and the assignee (else the managers) is warned 3 days and 1 day before a referral
expires and told once it expired — never anyone of another organization, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from cosell.choices import HistorySource, ReferralStatus, ReferralSubstatus
from cosell.notifications import (
    REFERRAL_ASSIGNED,
    REFERRAL_EXPIRED,
    REFERRAL_EXPIRING,
    REFERRAL_RECEIVED,
)
from cosell.selectors.routing import RoutingInput, routing_decide
from cosell.services.notices import referral_received_notify
from cosell.services.referrals import (
    referral_accept,
    referral_create,
    referral_route,
    referral_vendor_update,
    referrals_expire,
)
from cosell.services.reminders import referrals_remind
from portal.notifications.models import Notification
from portal.roles import Role
from tests.cosell.test_referrals import inbound
from tests.factories import ReferralFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(org_a, alice, bob, charlie):
    """Alpha's referral people: a Referrals admin, two Referrals users; Alice (Global admin) manages
    referrals too, Bob (Incentives user) does not; Charlie is Beta's."""
    return {
        "admin": UserFactory(organization=org_a, email="ria@alpha.example", roles=[Role.REFERRALS_ADMIN]),
        "seller": UserFactory(organization=org_a, email="sam@alpha.example", roles=[Role.REFERRALS_USER]),
        "watcher": UserFactory(organization=org_a, email="wes@alpha.example", roles=[Role.REFERRALS_USER]),
        "alice": alice,
        "bob": bob,
        "charlie": charlie,
    }


def told(category, referral=None) -> set[str]:
    rows = Notification.objects.filter(category=category.code)
    if referral is not None:
        rows = rows.filter(url=reverse("cosell:referral-detail", kwargs={"pk": referral.pk}))
    return set(rows.values_list("recipient__email", flat=True))


def mails(smtp_server) -> list[tuple[str, str]]:
    return sorted((message["To"], message["Subject"]) for message in smtp_server.messages())


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_an_inbound_referral_reaches_the_people_its_rule_picks_and_its_assignee(
    org_a, team, smtp_server, django_capture_on_commit_callbacks
):
    RoutingRuleFactory(
        organization=org_a,
        priority=10,
        match_countries=["DE"],
        assign_to_team="",
        assign_to_user=team["seller"],
        # Named by e-mail: a colleague (any case), someone of another organization, an outside list.
        notify_emails=["WES@alpha.example", team["charlie"].email, "triage@outside.example"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_create(
            organization=org_a, actor=team["admin"], data=inbound(), source=HistorySource.API
        )

    assert told(REFERRAL_RECEIVED, referral) == {"sam@alpha.example", "wes@alpha.example"}
    assert told(REFERRAL_ASSIGNED, referral) == {"sam@alpha.example"}
    # The referral managers are not told when a rule picked people; Beta's Charlie never is.
    assert not Notification.objects.filter(recipient__in=[team["admin"], team["alice"], team["charlie"]])
    title = f"[{org_a.legal_name}] New inbound referral: {referral.name}"
    assert mails(smtp_server) == sorted(
        [
            ("sam@alpha.example", title),
            ("sam@alpha.example", f"[{org_a.legal_name}] Referral {referral.name} is assigned to you"),
            ("wes@alpha.example", title),
        ]
    )
    received = next(m for m in smtp_server.messages() if m["To"] == "wes@alpha.example")
    text = text_of(received)
    assert f"https://portal.test/cosell/referrals/{referral.pk}/" in text
    assert "Northwind Traders AG (DE)" in text and "Accept or decline it by" in text
    html = received.get_body(preferencelist=("html",)).get_content()
    assert f'href="https://portal.test/cosell/referrals/{referral.pk}/"' in html

    # The same arrival raised again tells nobody twice.
    decision = routing_decide(organization_id=org_a.pk, given=RoutingInput.of(referral))
    with django_capture_on_commit_callbacks(execute=True):
        assert referral_received_notify(referral, decision) == 0
    assert len(smtp_server.messages()) == 3


def test_without_a_rule_the_people_who_manage_referrals_hear_of_it(
    org_a, team, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_create(
            organization=org_a, actor=team["admin"], data=inbound(), source=HistorySource.API
        )
    # The Referrals admin and the Global admin; not the Referrals users nor Bob, nor Beta's admin.
    assert told(REFERRAL_RECEIVED, referral) == {"ria@alpha.example", "alice@alpha.example"}
    assert told(REFERRAL_ASSIGNED) == set()
    assert {to for to, _subject in mails(smtp_server)} == {"ria@alpha.example", "alice@alpha.example"}
    body = text_of(smtp_server.messages()[0])
    assert "No rule applies and there is no default rule" in body


def test_a_rule_that_names_only_a_team_falls_back_to_the_referral_managers(org_a, team):
    RoutingRuleFactory(organization=org_a, priority=10, match_countries=["DE"], assign_to_team="DACH team")
    referral = referral_create(
        organization=org_a, actor=team["admin"], data=inbound(), source=HistorySource.API
    )
    assert told(REFERRAL_RECEIVED, referral) == {"ria@alpha.example", "alice@alpha.example"}


def test_each_new_assignment_tells_the_new_assignee_only(
    org_a, team, smtp_server, django_capture_on_commit_callbacks
):
    staff = UserFactory(organization=None, is_staff=True, email="pdm@vendor.example")
    referral = ReferralFactory(organization=org_a)
    RoutingRuleFactory(
        organization=org_a,
        priority=1,
        match_countries=["DE"],
        assign_to_team="",
        assign_to_user=team["seller"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral_route(referral=referral)
        referral_route(referral=referral)  # routed again to the same person: nothing new
    assert told(REFERRAL_ASSIGNED) == {"sam@alpha.example"}

    with django_capture_on_commit_callbacks(execute=True):
        referral_vendor_update(referral=referral, actor=staff, values={"assigned_user": team["watcher"]})
        referral_vendor_update(referral=referral, actor=staff, values={"lead_temperature": "hot"})
        referral_vendor_update(referral=referral, actor=staff, values={"assigned_user": team["seller"]})
        referral_vendor_update(referral=referral, actor=staff, values={"assigned_user": team["charlie"]})
    rows = Notification.objects.filter(category=REFERRAL_ASSIGNED.code).order_by("pk")
    # Sam again: assigned a second time is a new occurrence. Charlie, of Beta, never.
    assert [row.recipient.email for row in rows] == [
        "sam@alpha.example",
        "wes@alpha.example",
        "sam@alpha.example",
    ]
    assert sorted(to for to, _subject in mails(smtp_server)) == [
        "sam@alpha.example",
        "sam@alpha.example",
        "wes@alpha.example",
    ]
    assert "assigned to you by the vendor" in rows[1].body


def test_the_assignee_is_warned_3_days_and_1_day_ahead_once_each(
    org_a, team, smtp_server, django_capture_on_commit_callbacks
):
    referral = ReferralFactory(
        organization=org_a, assigned_user=team["seller"], expiration_at=timezone.now() + timedelta(days=10)
    )
    expiration = referral.expiration_at
    with django_capture_on_commit_callbacks(execute=True):
        with freeze_time(expiration - timedelta(days=3) + timedelta(minutes=5)):
            referrals_remind()
            referrals_remind()  # the hourly job again
        with freeze_time(expiration - timedelta(hours=23)):
            referrals_remind()
            referrals_remind()
    rows = Notification.objects.filter(category=REFERRAL_EXPIRING.code).order_by("pk")
    assert [(row.recipient.email, row.title) for row in rows] == [
        ("sam@alpha.example", f"Referral {referral.name} expires in 3 days"),
        ("sam@alpha.example", f"Referral {referral.name} expires in 1 day"),
    ]
    assert len(smtp_server.messages()) == 2
    assert f"https://portal.test/cosell/referrals/{referral.pk}/" in text_of(smtp_server.messages()[0])


def test_an_unassigned_referral_warns_the_referral_managers_and_an_answered_one_nobody(org_a, team):
    unassigned = ReferralFactory(organization=org_a, expiration_at=timezone.now() + timedelta(days=2))
    accepted = ReferralFactory(
        organization=org_a, assigned_user=team["seller"], expiration_at=timezone.now() + timedelta(days=2)
    )
    referral_accept(referral=accepted, actor=team["seller"])
    beta = ReferralFactory(organization=team["charlie"].organization, expiration_at=unassigned.expiration_at)
    referrals_remind()
    assert told(REFERRAL_EXPIRING, unassigned) == {"ria@alpha.example", "alice@alpha.example"}
    assert told(REFERRAL_EXPIRING, accepted) == set()
    assert told(REFERRAL_EXPIRING, beta) == {"charlie@beta.example"}  # Beta's own manager


def test_an_expired_referral_tells_its_assignee_or_the_managers_once(
    org_a, team, smtp_server, django_capture_on_commit_callbacks
):
    past = timezone.now() - timedelta(minutes=1)
    assigned = ReferralFactory(organization=org_a, assigned_user=team["seller"], expiration_at=past)
    unassigned = ReferralFactory(organization=org_a, expiration_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        assert referrals_expire() == 2
        assert referrals_expire() == 0
    assigned.refresh_from_db()
    assert (assigned.status, assigned.substatus) == (ReferralStatus.CLOSED, ReferralSubstatus.EXPIRED)
    assert told(REFERRAL_EXPIRED, assigned) == {"sam@alpha.example"}
    assert told(REFERRAL_EXPIRED, unassigned) == {"ria@alpha.example", "alice@alpha.example"}
    assert mails(smtp_server) == sorted(
        [
            ("sam@alpha.example", f"[{org_a.legal_name}] Referral {assigned.name} expired"),
            ("ria@alpha.example", f"[{org_a.legal_name}] Referral {unassigned.name} expired"),
            ("alice@alpha.example", f"[{org_a.legal_name}] Referral {unassigned.name} expired"),
        ]
    )


def test_the_preferences_page_lists_the_cosell_categories(alice, verified_client):
    page = verified_client(alice).get(reverse("portal:notification-preferences")).content.decode()
    for category in (REFERRAL_RECEIVED, REFERRAL_ASSIGNED, REFERRAL_EXPIRING, REFERRAL_EXPIRED):
        assert category.label in page
