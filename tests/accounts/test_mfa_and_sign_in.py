from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from accounts.services import mfa
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_a_new_user_enrols_totp_and_gets_backup_codes(client, org_a):
    user = UserFactory(organization=org_a)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(reverse("home:index"))
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))
    response = client.get(reverse("accounts:mfa-verify"), follow=True)
    assert b"<svg" in response.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:mfa-setup"), {"token": _code(device)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert client.get(reverse("home:index")).status_code == 200
    assert AuditEvent.objects.filter(actor=user, action="mfa.totp_enrolled").exists()


def test_a_wrong_code_does_not_enrol(client, org_a):
    user = UserFactory(organization=org_a)
    client.force_login(user)
    client.get(reverse("accounts:mfa-setup"))
    response = client.post(reverse("accounts:mfa-setup"), {"token": "000000"})
    assert "doesn&#x27;t match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_a_backup_code_works_once(client, org_a):
    user = UserFactory(organization=org_a)
    TOTPDevice.objects.create(user=user, confirmed=True)
    codes = mfa.backup_codes_regenerate(user=user)
    client.force_login(user)
    response = client.post(reverse("accounts:mfa-verify"), {"token": codes[0]})
    assert response.status_code == 302
    client.logout()
    client.force_login(user)
    response = client.post(reverse("accounts:mfa-verify"), {"token": codes[0]})
    assert response.status_code == 200
    assert StaticToken.objects.filter(device=StaticDevice.objects.get(user=user)).count() == 9


def test_the_admin_refuses_staff_without_a_second_factor(client, db):
    staff = UserFactory(organization=None, is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))


def test_the_admin_opens_for_verified_staff(db, verified_client):
    staff = UserFactory(organization=None, is_staff=True, is_superuser=True)
    assert verified_client(staff).get("/admin/accounts/user/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_account_out(client, org_a):
    user = UserFactory(organization=org_a)
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": user.email, "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert AuditEvent.objects.filter(action="user.sign_in_failed").count() >= 3


def test_api_clients_cannot_sign_in_to_pages(client, org_a):
    user = UserFactory(organization=org_a, is_service_account=True)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert b"API clients cannot sign in" in response.content


def test_an_idle_session_ends_and_an_active_one_is_renewed(alice, verified_client):
    client = verified_client(alice)
    with freeze_time() as clock:
        assert client.get(reverse("home:index")).status_code == 200
        clock.tick(timedelta(minutes=50))
        assert client.get(reverse("home:index")).status_code == 200
        clock.tick(timedelta(minutes=50))
        # Active 50 minutes ago: the renewed session is still alive.
        assert client.get(reverse("home:index")).status_code == 200
        clock.tick(timedelta(minutes=61))
        response = client.get(reverse("home:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_passing_the_second_factor_issues_a_new_session_key(client, org_a):
    user = UserFactory(organization=org_a)
    TOTPDevice.objects.create(user=user, confirmed=True)
    codes = mfa.backup_codes_regenerate(user=user)
    client.force_login(user)
    before = client.session.session_key
    client.post(reverse("accounts:mfa-verify"), {"token": codes[0]})
    assert client.session.session_key != before
    assert client.get(reverse("home:index")).status_code == 200


def test_a_slow_request_cannot_undo_the_second_factor(client, org_a):
    user = UserFactory(organization=org_a)
    TOTPDevice.objects.create(user=user, confirmed=True)
    codes = mfa.backup_codes_regenerate(user=user)
    client.force_login(user)
    # A request (say, the browser's favicon) loaded the session before the code was entered…
    stale = SessionStore(session_key=client.session.session_key)
    assert stale.get("_auth_user_id") == str(user.pk)
    client.post(reverse("accounts:mfa-verify"), {"token": codes[0]})
    # …and writes its copy back afterwards: it lands on the old key and is refused.
    stale["_renewed_at"] = 0
    with pytest.raises(UpdateError):
        stale.save()
    assert client.get(reverse("home:index")).status_code == 200


def test_a_wrong_app_code_does_not_delay_a_backup_code(client, org_a):
    user = UserFactory(organization=org_a)
    TOTPDevice.objects.create(user=user, confirmed=True)
    codes = mfa.backup_codes_regenerate(user=user)
    client.force_login(user)
    client.post(reverse("accounts:mfa-verify"), {"token": "123456"})
    response = client.post(reverse("accounts:mfa-verify"), {"token": codes[1]})
    assert response.status_code == 302


def test_password_reset_sends_a_link_that_sets_a_new_password(
    client, org_a, smtp_server, django_capture_on_commit_callbacks
):
    user = UserFactory(organization=org_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password-reset"), {"email": user.email})
    [message] = smtp_server.messages()
    assert message["To"] == user.email and org_a.legal_name in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = next(word for word in text.split() if "/accounts/reset/" in word)
    assert link.startswith("https://portal.test/accounts/reset/")  # absolute, from SITE_URL
    assert link in message.get_body(preferencelist=("html",)).get_content()
    path = link.removeprefix("https://portal.test")
    response = client.get(path, follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Brand-New-Pass-2026", "new_password2": "Brand-New-Pass-2026"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-New-Pass-2026")


def test_totp_code_prints_the_code_the_device_accepts(org_a, capsys):
    user = UserFactory(organization=org_a)
    device = TOTPDevice.objects.create(user=user, confirmed=True)
    call_command("totp_code", user.email)
    assert device.verify_token(capsys.readouterr().out.strip())
