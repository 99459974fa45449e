"""Security notices of a person's account, through the outbox to a real SMTP server: an authenticator
app added or replaced, the second factor reset, and sign-in locked after repeated wrong passwords.
All are critical: e-mailed at once, impossible to turn off, only to the people they concern."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.notifications import MFA_DEVICE_ADDED, MFA_DEVICE_REMOVED, SIGN_IN_LOCKED
from accounts.services import mfa
from portal.notifications import Channel, categories
from portal.notifications.models import Notification
from portal.notifications.services import preferences_set
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _recipients(code: str) -> set[str]:
    return set(Notification.objects.filter(category=code).values_list("recipient__email", flat=True))


@pytest.fixture
def dana(org_a):
    """A plain member of Alice's organization (no admin role)."""
    return UserFactory(organization=org_a, email="dana@alpha.example", display_name="Dana Diaz")


def test_the_categories_are_registered_critical_and_cannot_be_turned_off(dana):
    codes = {found.code: found for found in categories()}
    for found in (MFA_DEVICE_ADDED, MFA_DEVICE_REMOVED, SIGN_IN_LOCKED):
        assert codes[found.code].critical
        with pytest.raises(ValidationError, match="always e-mailed at once"):
            preferences_set(user=dana, choices={found.code: Channel.OFF})


def test_enrolling_an_authenticator_app_tells_only_its_owner_by_e_mail(
    client, dana, alice, bob, charlie, smtp_server, django_capture_on_commit_callbacks
):
    client.post(reverse("accounts:login"), {"username": dana.email, "password": PASSWORD})
    client.get(reverse("accounts:mfa-setup"))
    device = TOTPDevice.objects.get(user=dana, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:mfa-setup"), {"token": _code(device)})
    assert response.status_code == 200 and len(response.context["codes"]) == 10

    assert _recipients(MFA_DEVICE_ADDED.code) == {dana.email}  # not Alice, Bob or Charlie
    [message] = smtp_server.messages()
    assert message["To"] == dana.email
    assert message["Subject"] == "[Alpha Partners GmbH] An authenticator app was added to your account"
    assert message["List-Unsubscribe"] is None  # critical: cannot be unsubscribed
    text = _text(message)
    assert "https://portal.test/accounts/profile/" in text
    assert "reset your password" in text


def test_the_same_enrolment_raised_twice_sends_one_e_mail(
    dana, smtp_server, django_capture_on_commit_callbacks
):
    device = TOTPDevice.objects.create(user=dana, name="app", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        mfa._device_added_notify(user=dana, device=device, replaced=False)
        mfa._device_added_notify(user=dana, device=device, replaced=False)  # a retried request
    assert len(smtp_server.messages()) == 1
    assert Notification.objects.filter(recipient=dana).count() == 1


def test_replacing_the_app_says_so(dana, smtp_server, django_capture_on_commit_callbacks):
    TOTPDevice.objects.create(user=dana, name="old phone", confirmed=True)
    device = mfa.totp_enrolment_start(user=dana)
    with django_capture_on_commit_callbacks(execute=True):
        assert mfa.totp_enrolment_confirm(user=dana, device=device, token=_code(device)) is not None
    [message] = smtp_server.messages()
    assert message["Subject"] == "[Alpha Partners GmbH] Your authenticator app was replaced"
    assert "replaced your previous one" in _text(message)


def test_a_reset_of_the_second_factor_tells_its_owner_once(
    dana, alice, bob, smtp_server, django_capture_on_commit_callbacks
):
    staff = UserFactory(organization=None, is_staff=True, email="staff@vendor.example")
    TOTPDevice.objects.create(user=dana, name="app", confirmed=True)
    mfa.backup_codes_regenerate(user=dana)
    with django_capture_on_commit_callbacks(execute=True):
        mfa.mfa_reset(actor=staff, user=dana)
        # Resetting again removes nothing, so it tells nobody again.
        mfa.mfa_reset(actor=staff, user=dana)

    assert not TOTPDevice.objects.filter(user=dana).exists()
    assert not StaticDevice.objects.filter(user=dana).exists()
    assert _recipients(MFA_DEVICE_REMOVED.code) == {dana.email}
    [message] = smtp_server.messages()
    assert message["Subject"] == "[Alpha Partners GmbH] Your authenticator app was removed"
    text = _text(message)
    assert "https://portal.test/accounts/profile/" in text and "account admin" in text


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_lockout_tells_the_person_and_the_account_admins_once(
    client, dana, alice, bob, charlie, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            client.post(reverse("accounts:login"), {"username": dana.email, "password": "wrong"})
        # Further tries while locked out (the right password included) notify nobody again.
        for password in ("wrong", PASSWORD):
            response = client.post(reverse("accounts:login"), {"username": dana.email, "password": password})
    assert response.status_code == 429

    # Dana and Alice (Owner, Global admin); never Bob (no admin role) nor Charlie (other organization).
    assert _recipients(SIGN_IN_LOCKED.code) == {dana.email, alice.email}
    received = {message["To"]: message for message in smtp_server.messages()}
    assert set(received) == {dana.email, alice.email}
    title = "[Alpha Partners GmbH] Sign-in locked for dana@alpha.example after repeated failed attempts"
    assert received[dana.email]["Subject"] == title
    assert "https://portal.test/accounts/profile/" in _text(received[dana.email])
    admin_text = _text(received[alice.email])
    assert f"https://portal.test/users/{dana.pk}/" in admin_text
    assert "failed 3 times in a row from 127.0.0.1" in admin_text


@override_settings(AXES_FAILURE_LIMIT=2)
def test_a_lockout_of_a_name_nobody_has_tells_nobody(
    client, alice, smtp_server, django_capture_on_commit_callbacks
):
    inactive = UserFactory(organization=alice.organization, email="gone@alpha.example", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        for username in ("nobody@alpha.example", inactive.email):
            for _ in range(3):
                client.post(reverse("accounts:login"), {"username": username, "password": "wrong"})
    assert not Notification.objects.exists()
    assert smtp_server.messages() == []
