"""The Earnings workspace's notifications, through the outbox to a real SMTP server: a payment sent
(again after a reversal), payments put on hold with the reason, and a background export that
finished — each to the people who see it (by role and partner location) and nobody else, once per
occurrence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import RoleAssignment
from earnings.choices import ExportStatus, PaymentStatus
from earnings.notifications import EXPORT_READY, PAYMENT_ON_HOLD, PAYMENT_SENT
from earnings.services import exports as export_services
from earnings.services import hold_set, payment_status_change
from earnings.services.exports import export_create, export_execute
from earnings.services.notices import export_finished_notify, payment_sent_notify
from portal.notifications import categories
from portal.notifications.models import Notification
from portal.roles import Role
from tests.factories import (
    EarningFactory,
    EnrollmentFactory,
    PartnerLocationFactory,
    PaymentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ORG = "[Alpha Partners GmbH]"


@pytest.fixture
def berlin(org_a):
    return PartnerLocationFactory(organization=org_a, country="DE")


@pytest.fixture
def enrollment(org_a, berlin):
    return EnrollmentFactory(organization=org_a, location=berlin, participant_name="Alpha Berlin")


@pytest.fixture
def people(org_a, org_b, berlin, alice, bob, charlie):
    """Who sees Berlin's payments: Alice (Global admin), Bob (Incentives user), a Billing admin and
    an Incentives user scoped to Berlin; who does not: a Sales agent (no earnings), an Incentives
    user scoped to Paris, and Charlie and a Billing admin of Beta."""
    paris = PartnerLocationFactory(organization=org_a, country="FR")

    def scoped(email, location):
        user = UserFactory(organization=org_a, email=email)
        RoleAssignment.objects.create(
            organization=org_a, user=user, role=Role.INCENTIVES_USER, location=location
        )
        return user

    return {
        "alice": alice,
        "bob": bob,
        "billing": UserFactory(organization=org_a, email="bill@alpha.example", roles=[Role.BILLING_ADMIN]),
        "berlin": scoped("berta@alpha.example", berlin),
        "paris": scoped("pierre@alpha.example", paris),
        "sales": UserFactory(organization=org_a, email="sal@alpha.example", roles=[Role.SALES_AGENT]),
        "charlie": charlie,
        "beta_billing": UserFactory(
            organization=org_b, email="bill@beta.example", roles=[Role.BILLING_ADMIN]
        ),
    }


def _told(category) -> set[str]:
    return set(Notification.objects.filter(category=category.code).values_list("recipient__email", flat=True))


def _emails(people, *names) -> set[str]:
    return {people[name].email for name in names}


def _subject(message) -> str:
    return " ".join(str(message["Subject"]).split())


def _text(message) -> str:
    return " ".join(message.get_body(preferencelist=("plain",)).get_content().split())


def _by_recipient(smtp_server) -> dict[str, list]:
    received: dict[str, list] = {}
    for message in smtp_server.messages():
        received.setdefault(message["To"], []).append(message)
    return received


def test_the_categories_are_on_the_preferences_page():
    assert {PAYMENT_SENT.code, PAYMENT_ON_HOLD.code, EXPORT_READY.code} <= {c.code for c in categories()}


# --- Payment sent ------------------------------------------------------------------------------------


@pytest.fixture
def payment(org_a, enrollment):
    payment = PaymentFactory(
        organization=org_a,
        enrollment=enrollment,
        currency="USD",
        earned=Decimal("1250.00"),
        earned_usd=Decimal("1250.00"),
        sales_tax=Decimal("237.50"),
        total_payment=Decimal("1487.50"),
        status=PaymentStatus.IN_PROGRESS,
    )
    EarningFactory(organization=org_a, enrollment=enrollment, payment=payment, currency="USD")
    return payment


def test_a_sent_payment_is_told_to_who_sees_its_location_once_per_sending(
    payment, people, smtp_server, django_capture_on_commit_callbacks
):
    alice = people["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        payment = payment_status_change(payment=payment, to_status=PaymentStatus.SENT, actor=alice)

    everyone_who_sees = _emails(people, "alice", "bob", "billing", "berlin")
    # Never the Sales agent, the Paris-scoped user, nor anyone of Beta.
    assert _told(PAYMENT_SENT) == everyone_who_sees
    received = _by_recipient(smtp_server)
    assert set(received) == everyone_who_sees
    message = received[people["billing"].email][0]
    assert _subject(message) == f"{ORG} Payment {payment.payment_id} of 1,487.50 USD sent"
    text = _text(message)
    assert f"https://portal.test/earnings/payments/{payment.pk}/" in text
    assert "including 237.50 USD sales tax" in text and "Alpha Berlin" in text

    # The same event raised again (a retried task) tells nobody twice...
    event_seq = int(
        Notification.objects.filter(category=PAYMENT_SENT.code).first().event_key.rsplit(":", 1)[1]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_sent_notify(payment, occurrence=event_seq) == 0
    assert len(smtp_server.messages()) == len(everyone_who_sees)
    # ...and moves that are not "Sent" tell nobody; a payment resent after a reversal is news.
    with django_capture_on_commit_callbacks(execute=True):
        for status in (
            PaymentStatus.REVERSAL_IN_PROGRESS,
            PaymentStatus.REVERSED,
            PaymentStatus.IN_PROGRESS,
            PaymentStatus.SENT,
        ):
            payment = payment_status_change(payment=payment, to_status=status, actor=alice)
    assert Notification.objects.filter(category=PAYMENT_SENT.code).count() == 2 * len(everyone_who_sees)
    assert len(_by_recipient(smtp_server)[people["bob"].email]) == 2


def test_a_payment_that_is_not_sent_tells_nobody(payment, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payment_status_change(payment=payment, to_status=PaymentStatus.FAILED, actor=people["alice"])
    assert not Notification.objects.exists()


# --- Payments on hold --------------------------------------------------------------------------------


def test_a_hold_put_on_the_payment_profile_is_told_with_who_put_it_and_what_else_blocks(
    enrollment, people, verified_client, smtp_server, django_capture_on_commit_callbacks
):
    enrollment.tax_profile_ok = False
    enrollment.save()
    alice = people["alice"]
    client = verified_client(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("earnings:hold-toggle", args=[enrollment.pk]), {"hold": "1"})

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.hold_payment
    # Alice put it: she knows; the others who see Berlin's payments are told.
    told = _emails(people, "bob", "billing", "berlin")
    assert _told(PAYMENT_ON_HOLD) == told
    received = _by_recipient(smtp_server)
    assert set(received) == told
    message = received[people["berlin"].email][0]
    assert _subject(message) == (
        f"{ORG} Payments to {enrollment.participant_id} in {enrollment.program.name} are on hold"
    )
    text = _text(message)
    assert f'{alice.display_name} selected "Hold my payment" on the payment profile.' in text
    assert "Its payments are also blocked: The tax profile is incomplete or not validated." in text
    assert "https://portal.test/earnings/payment-profile/" in text

    # Selecting the hold again while it holds changes nothing and tells nobody.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("earnings:hold-toggle", args=[enrollment.pk]), {"hold": "1"})
    assert len(smtp_server.messages()) == len(told)
    # Lifting it tells nobody; putting it again is a new hold.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("earnings:hold-toggle", args=[enrollment.pk]), {"hold": "0"})
    assert Notification.objects.count() == len(told)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("earnings:hold-toggle", args=[enrollment.pk]), {"hold": "1"})
    assert Notification.objects.count() == 2 * len(told)
    assert len(smtp_server.messages()) == 2 * len(told)


def test_a_hold_the_vendor_puts_says_its_reason_to_everyone_who_sees_the_payments(
    enrollment, people, smtp_server, django_capture_on_commit_callbacks
):
    vendor = UserFactory(organization=None, is_staff=True, email="payouts@vendor.example")

    with django_capture_on_commit_callbacks(execute=True):
        hold_set(enrollment=enrollment, hold=True, actor=vendor, reason="The bank returned the last payment.")

    told = _emails(people, "alice", "bob", "billing", "berlin")
    assert _told(PAYMENT_ON_HOLD) == told
    text = _text(_by_recipient(smtp_server)[people["alice"].email][0])
    assert "Reason: The bank returned the last payment." in text
    assert "also blocked" not in text


# --- Background exports ------------------------------------------------------------------------------


@pytest.fixture
def ledger(org_a, org_b, enrollment):
    EarningFactory(organization=org_a, enrollment=enrollment)
    EarningFactory(organization=org_a, enrollment=enrollment)
    EarningFactory(organization=org_b)


def test_a_finished_export_is_told_to_its_requester_only(
    ledger, people, smtp_server, django_capture_on_commit_callbacks
):
    bob = people["bob"]
    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(report="earnings", file_format="csv", filters={}, actor=bob)
    export.refresh_from_db()
    assert export.status == ExportStatus.COMPLETED

    # Bob asked for it; Alice, who sees the same earnings, did not.
    assert _told(EXPORT_READY) == {bob.email}
    [message] = smtp_server.messages()
    assert message["To"] == bob.email
    assert _subject(message) == f"{ORG} Your export “Earnings – Default” is ready"
    text = _text(message)
    assert f"https://portal.test/earnings/exports/{export.pk}/" in text
    assert "The CSV file of 2 rows is ready to download" in text and "The link expires on" in text

    # A retried task finds the export done; the event raised again tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        export_execute(export=export)
        assert export_finished_notify(export) == 0
    assert len(smtp_server.messages()) == 1


def test_a_failed_export_tells_its_requester_why(
    ledger, people, monkeypatch, smtp_server, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_services, "copy_to_file", broken)
    alice = people["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        export = export_create(report="payments", file_format="csv", filters={}, actor=alice)
    export.refresh_from_db()

    assert export.status == ExportStatus.FAILED
    assert _told(EXPORT_READY) == {alice.email}
    [message] = smtp_server.messages()
    assert _subject(message) == f"{ORG} Your export “Payments” failed"
    assert "The CSV export stopped: OSError: disk full." in _text(message)


def test_a_requester_who_lost_access_to_earnings_is_not_told(
    org_a, ledger, people, django_capture_on_commit_callbacks
):
    bob = people["bob"]
    export = export_create(report="earnings", file_format="csv", filters={}, actor=bob)  # not run yet
    RoleAssignment.objects.filter(user=bob).delete()
    export_execute(export=export)
    assert not Notification.objects.exists()
