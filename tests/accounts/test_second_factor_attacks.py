"""An attacker with only a partner's password: each way past the second factor, closed."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from accounts.services import api_clients, mfa
from portal.models import AuditEvent
from portal.roles import Role
from tests.conftest import confirm_totp, verified_session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _password_only(user) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- 1. OAuth application pages and tokens ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/o/applications/", "/o/applications/register/", "/o/authorized_tokens/", "/o/device/"]
)
def test_the_oauth_application_pages_are_not_reachable(alice, path):
    confirm_totp(alice)
    assert _password_only(alice).get(path).status_code == 302
    assert verified_session(alice).get(path).status_code == 404


def _application(owner, secret: str) -> Application:
    return Application.objects.create(
        name="registered by hand",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )


def test_an_application_without_an_api_client_gets_no_token(alice, client):
    application = _application(alice, "s3cret-s3cret")
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "accounts:read"},
        HTTP_AUTHORIZATION=_basic(application.client_id, "s3cret-s3cret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_token_of_an_application_without_an_api_client_is_refused(alice):
    application = _application(alice, "s3cret-s3cret")
    token = AccessToken.objects.create(
        application=application,
        token=secrets.token_urlsafe(30),
        expires=timezone.now() + timedelta(hours=1),
        scope="accounts:read accounts:write",
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert api.get("/api/v1/accounts/users/").status_code == 401


def _api_client(actor, *, scopes, roles):
    return api_clients.api_client_create(
        actor=actor, organization=actor.organization, name="ERP", scopes=scopes, roles=roles
    )


def test_a_client_gets_no_scope_beyond_what_it_was_granted(alice, client):
    api_client, secret = _api_client(alice, scopes=["accounts:read"], roles=[Role.GLOBAL_ADMIN])
    auth = _basic(api_client.application.client_id, secret)
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "accounts:write"}, HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    response = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    assert response.json()["scope"] == "accounts:read"


def test_a_token_cannot_exceed_the_scopes_its_client_holds_now(alice):
    api_client, _ = _api_client(alice, scopes=["accounts:read"], roles=[Role.GLOBAL_ADMIN])
    token = AccessToken.objects.create(
        application=api_client.application,
        token=secrets.token_urlsafe(30),
        expires=timezone.now() + timedelta(hours=1),
        scope="accounts:read accounts:write",
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert api.get("/api/v1/accounts/customers/").status_code == 200
    response = api.post("/api/v1/accounts/customers/", {"name": "X"}, format="json")
    assert response.status_code == 403
    assert "accounts:write" in response.json()["detail"]


def test_a_token_acts_with_its_clients_roles_never_its_creators(alice, client):
    api_client, secret = _api_client(alice, scopes=["accounts:read"], roles=[Role.SALES_AGENT])
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(api_client.application.client_id, secret),
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert api.get("/api/v1/accounts/customers/").status_code == 200
    # Alice (Owner, Global admin) may list users; her Sales agent client may not.
    assert api.get("/api/v1/accounts/users/").status_code == 403


def test_a_revoked_client_gets_no_token(alice, client):
    api_client, secret = _api_client(alice, scopes=["accounts:read"], roles=[Role.GLOBAL_ADMIN])
    api_clients.api_client_revoke(actor=alice, client=api_client)
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(api_client.application.client_id, secret),
    )
    assert response.status_code == 401


def test_the_token_endpoint_is_throttled_per_client(alice, client, settings):
    settings.OAUTH_TOKEN_THROTTLE_RATE = "3/minute"
    api_client, _ = _api_client(alice, scopes=["accounts:read"], roles=[Role.GLOBAL_ADMIN])
    auth = _basic(api_client.application.client_id, "wrong secret")
    codes = [
        client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    # Another client's budget is its own.
    other = _basic("another-client", "x")
    response = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=other)
    assert response.status_code == 401


# --- 2. Backup codes and devices ------------------------------------------------------------------


def test_a_password_alone_cannot_regenerate_backup_codes(alice):
    confirm_totp(alice)
    own_codes = mfa.backup_codes_regenerate(user=alice)
    client = _password_only(alice)
    response = client.post(reverse("accounts:mfa-backup-codes"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))
    assert sorted(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == sorted(
        own_codes
    )
    assert client.post(reverse("accounts:mfa-verify"), {"token": "aaaaaaaa"}).status_code == 200


def test_a_password_alone_cannot_see_or_replace_the_authenticator(alice):
    device = confirm_totp(alice)
    client = _password_only(alice)
    response = client.get(reverse("accounts:mfa-setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]


def test_new_backup_codes_need_a_recent_second_factor_check(alice):
    device = confirm_totp(alice)
    client = _password_only(alice)
    client.post(reverse("accounts:mfa-verify"), {"token": _code(device)})
    with freeze_time(timezone.now() + timedelta(minutes=10)):
        response = client.post(reverse("accounts:mfa-backup-codes"), {"next": reverse("home:profile")})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:mfa-confirm"))
        assert not StaticToken.objects.filter(device__user=alice).exists()
        device.refresh_from_db()
        device.last_t = -1
        device.save()
        response = client.post(
            reverse("accounts:mfa-confirm"), {"token": _code(device), "next": reverse("home:profile")}
        )
        assert response["Location"] == reverse("home:profile")
        response = client.post(reverse("accounts:mfa-backup-codes"))
        assert response.status_code == 200
        assert len(response.context["codes"]) == 10
    assert AuditEvent.objects.filter(actor=alice, action="mfa.backup_codes_issued").count() == 1


def test_replacing_the_authenticator_needs_a_recent_check_and_is_audited(alice):
    old = confirm_totp(alice)
    client = _password_only(alice)
    client.post(reverse("accounts:mfa-verify"), {"token": _code(old)})
    response = client.get(reverse("accounts:mfa-setup"))
    assert response.status_code == 200
    assert response.context["replacing"]
    new = TOTPDevice.objects.get(user=alice, confirmed=False)
    with freeze_time(timezone.now() + timedelta(seconds=31)):
        response = client.post(reverse("accounts:mfa-setup"), {"token": _code(new)})
    assert response.status_code == 200
    assert list(TOTPDevice.objects.filter(user=alice)) == [new]
    assert AuditEvent.objects.filter(actor=alice, action="mfa.totp_replaced").exists()
    with freeze_time(timezone.now() + timedelta(minutes=10)):
        response = client.get(reverse("accounts:mfa-setup"))
    assert response["Location"].startswith(reverse("accounts:mfa-confirm"))


def test_a_user_without_a_device_still_enrols_before_the_second_factor(org_a):
    from tests.factories import UserFactory  # noqa: PLC0415

    user = UserFactory(organization=org_a)
    client = _password_only(user)
    assert client.get(reverse("accounts:mfa-setup")).status_code == 200
    assert client.post(reverse("accounts:mfa-backup-codes")).status_code == 302
