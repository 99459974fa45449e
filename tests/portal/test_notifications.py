"""Notifications through the one outbox, delivered to a real SMTP server: who is told (never another
organization), each person's channel, critical categories, one e-mail per event however often it is
raised or its task retried, an SMTP server that is down then up, and the daily digest."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from portal.notifications import Category, Channel, register_category
from portal.notifications.digest import digest_send
from portal.notifications.email import outbox_deliver, outbox_sweep
from portal.notifications.models import Notification, OutboxMessage, OutboxStatus
from portal.notifications.services import defaults_set, notify, preferences_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PLAIN = register_category(Category("tests.notice", "A test notice", "Something to know"))
CRITICAL = register_category(Category("tests.alarm", "A test alarm", critical=True))
DIGESTED = register_category(Category("tests.digested", "A test digest item", default=Channel.DIGEST))


def _notify(organization, *, category=PLAIN.code, key="event-1", people=None, **values) -> int:
    return notify(
        category_code=category,
        organization_id=organization.pk,
        recipients=people if people is not None else User.objects.all(),
        title=values.get("title", "Referral 42 needs an answer"),
        body=values.get("body", "It expires in 3 days."),
        url=values.get("url", "/cosell/referrals/42/"),
        event_key=key,
    )


def test_an_event_reaches_its_organization_by_e_mail_with_both_parts_and_an_absolute_link(
    alice, bob, charlie, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        count = _notify(alice.organization)

    assert count == 2  # Alice and Bob; never Charlie of another organization
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {alice.email, bob.email}
    received = smtp_server.messages()
    assert sorted(message["To"] for message in received) == sorted([alice.email, bob.email])
    message = received[0]
    assert message["Subject"] == f"[{alice.organization.legal_name}] Referral 42 needs an answer"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "https://portal.test/cosell/referrals/42/" in text
    assert 'href="https://portal.test/cosell/referrals/42/"' in html
    assert "It expires in 3 days." in text and "It expires in 3 days." in html
    assert message["List-Unsubscribe"].strip() == (
        "<https://portal.test/notifications/preferences/?category=tests.notice>"
    )
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_the_same_event_twice_and_a_retried_task_send_nothing_twice(
    alice, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice.organization)
        assert _notify(alice.organization) == 0
    ids = list(OutboxMessage.objects.values_list("pk", flat=True))
    assert outbox_deliver(ids) == []  # the task delivered again, as a retried task would
    assert len(smtp_server.messages()) == 1
    assert Notification.objects.count() == 1


def test_each_person_gets_the_channel_they_chose_and_critical_ones_always_by_e_mail(
    alice, bob, smtp_server, django_capture_on_commit_callbacks
):
    carol = UserFactory(organization=alice.organization)
    preferences_set(user=alice, choices={PLAIN.code: Channel.OFF})
    preferences_set(user=bob, choices={PLAIN.code: Channel.IN_APP})
    defaults_set(organization_id=alice.organization_id, choices={PLAIN.code: Channel.DIGEST})
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice.organization)
        _notify(alice.organization, category=CRITICAL.code, key="alarm-1", title="MFA was turned off")

    plain = dict(Notification.objects.filter(category=PLAIN.code).values_list("recipient", "channel"))
    assert plain == {bob.pk: Channel.IN_APP, carol.pk: Channel.DIGEST}  # Alice: off
    received = smtp_server.messages()
    assert sorted(m["To"] for m in received) == sorted([alice.email, bob.email, carol.email])
    assert all("MFA was turned off" in m["Subject"] for m in received)
    assert received[0]["List-Unsubscribe"] is None  # a security notice cannot be unsubscribed


def test_a_preference_naming_nothing_real_is_refused():
    user = UserFactory()
    with pytest.raises(ValidationError, match="is not a notification category"):
        preferences_set(user=user, choices={"tests.nothing": Channel.EMAIL})
    with pytest.raises(ValidationError, match="is not one of"):
        preferences_set(user=user, choices={PLAIN.code: "pigeon"})
    with pytest.raises(ValidationError, match="always e-mailed at once"):
        preferences_set(user=user, choices={CRITICAL.code: Channel.OFF})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_while_smtp_is_down_messages_wait_with_their_error_then_go_once(
    alice, smtp_server, settings, django_capture_on_commit_callbacks
):
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice.organization, people=User.objects.filter(pk=alice.pk))
    waiting = OutboxMessage.objects.get()
    assert waiting.status == OutboxStatus.QUEUED
    assert "ConnectionRefusedError" in waiting.last_error and waiting.attempts >= 1
    assert smtp_server.messages() == []

    settings.EMAIL_PORT = up
    OutboxMessage.objects.update(created_at=waiting.created_at.replace(year=2020))
    assert outbox_sweep()["sent"] == 1
    assert outbox_sweep()["sent"] == 0
    assert len(smtp_server.messages()) == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_a_message_whose_worker_died_mid_send_is_not_sent_again_but_shown_to_staff(alice):
    message = OutboxMessage.objects.create(
        key="x", to_email=alice.email, subject="s", text_body="t", status=OutboxStatus.SENDING
    )
    OutboxMessage.objects.update(created_at=message.created_at.replace(year=2020))
    assert outbox_sweep()["uncertain"] == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.UNCERTAIN


def test_the_daily_digest_is_one_e_mail_per_person_once(
    alice, bob, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice.organization, category=DIGESTED.code, key="d1", title="Claim <7> approved")
        _notify(alice.organization, category=DIGESTED.code, key="d2", title="Payment sent", url="")
        assert smtp_server.messages() == []
        assert digest_send() == {"notifications": 4, "emails": 2}
        assert digest_send() == {"notifications": 0, "emails": 0}
        # An item arriving after today's digest waits for tomorrow's, not lost to today's.
        _notify(
            alice.organization,
            category=DIGESTED.code,
            key="d3",
            title="Late",
            people=User.objects.filter(pk=alice.pk),
        )
        assert digest_send() == {"notifications": 0, "emails": 0}
        assert Notification.objects.get(event_key="d3").digested_at is None
    received = {m["To"]: m for m in smtp_server.messages()}
    assert set(received) == {alice.email, bob.email}
    digest = received[alice.email]
    assert digest["Subject"] == f"[{alice.organization.legal_name}] Your daily digest: 2 updates"
    text = digest.get_body(preferencelist=("plain",)).get_content()
    html = digest.get_body(preferencelist=("html",)).get_content()
    assert "- Claim <7> approved\n  https://portal.test/cosell/referrals/42/\n- Payment sent" in text
    assert "Claim &lt;7&gt; approved</a></li><li>Payment sent</li>" in html


def test_the_bell_counts_unread_and_opening_one_marks_it_read(alice, bob, verified_client):
    _notify(alice.organization)
    client = verified_client(alice)
    bell = client.get(reverse("portal:notification-bell")).content.decode()
    assert 'data-testid="notification-count">1<' in bell
    mine = Notification.objects.get(recipient=alice)
    page = client.get(reverse("portal:notification-list")).content.decode()
    assert "Referral 42 needs an answer" in page
    opened = client.get(reverse("portal:notification-open", args=[mine.pk]))
    assert opened.status_code == 302 and opened["Location"] == "/cosell/referrals/42/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "notification-count" not in client.get(reverse("portal:notification-bell")).content.decode()
    # Bob's notification is not Alice's to open.
    theirs = Notification.objects.get(recipient=bob)
    assert client.get(reverse("portal:notification-open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_and_the_filters(alice, verified_client):
    _notify(alice.organization, people=User.objects.filter(pk=alice.pk))
    _notify(alice.organization, people=User.objects.filter(pk=alice.pk), key="e2", title="Other thing")
    client = verified_client(alice)
    client.post(reverse("portal:notifications-read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    unread = client.get(reverse("portal:notification-list"), {"show": "unread"}).content.decode()
    assert "Other thing" not in unread


def test_preferences_page_saves_and_refuses_turning_off_a_critical_category(alice, verified_client):
    client = verified_client(alice)
    page = client.get(reverse("portal:notification-preferences")).content.decode()
    assert "A test alarm" in page and 'data-testid="locked"' in page
    client.post(reverse("portal:notification-preferences"), {f"channel-{PLAIN.code}": Channel.DIGEST})
    assert Notification.objects.count() == 0
    from portal.notifications.models import NotificationPreference

    assert NotificationPreference.objects.get(user=alice).channel == Channel.DIGEST
    refused = client.post(
        reverse("portal:notification-preferences"), {f"channel-{CRITICAL.code}": Channel.OFF}, follow=True
    )
    assert "always e-mailed at once" in refused.content.decode()


def test_staff_read_the_development_mailbox_and_the_outbox(
    alice, smtp_server, settings, verified_client, django_capture_on_commit_callbacks
):
    staff = UserFactory(organization=None, is_staff=True, is_superuser=True)
    client = verified_client(staff)
    mailbox = reverse("admin:portal_outboxmessage_mailbox")
    settings.PORTAL_DEV_MAILDIR = ""
    assert client.get(mailbox).status_code == 404  # production: the SMTP server is elsewhere
    settings.PORTAL_DEV_MAILDIR = str(smtp_server.maildir)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice.organization, people=User.objects.filter(pk=alice.pk))
    page = client.get(mailbox).content.decode()
    assert "Referral 42 needs an answer" in page and alice.email in page
    outbox = client.get(reverse("admin:portal_outboxmessage_changelist")).content.decode()
    assert "Mailbox (development)" in outbox and alice.email in outbox
