"""Shared fixtures: three people (Alice the owner, Bob a read-only member of her organization,
Charlie an admin of another organization), verified browser sessions and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from accounts.models import ApiClient
from accounts.tokens import tokens_forget_local
from membership.vendor_data import seed_vendor_data as seed_membership_vendor_data
from portal.celery import app as celery_app
from portal.roles import Role
from security.vendor_data import seed_vendor_data
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run inline in unit tests; tests of real workers start their own worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True, scope="session")
def _files_in_a_temporary_folder(tmp_path_factory):
    """Uploaded proof and export files never land in the project's .data/ folder."""
    with override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        EARNINGS_EXPORT_DIR=tmp_path_factory.mktemp("exports"),
    ):
        yield


@pytest.fixture(autouse=True)
def _vendor_data_after_flush(request):
    """A transactional test's flush empties every table, the vendor data migrations seed included
    (Entra roles, training courses, scoring rules, certifications, benefit packages); such tests get
    it back first. pytest-django runs them after every other database test, so those still see the
    migrated data."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    seed_vendor_data(django_apps)
    seed_membership_vendor_data(django_apps)


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache  # noqa: PLC0415 - after settings are configured

    cache.clear()
    tokens_forget_local()
    yield


@pytest.fixture
def org_a(db):
    return OrganizationFactory(legal_name="Alpha Partners GmbH")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(legal_name="Beta Partners Ltd")


@pytest.fixture
def alice(org_a):
    return UserFactory(organization=org_a, email="alice@alpha.example", roles=[Role.OWNER, Role.GLOBAL_ADMIN])


@pytest.fixture
def bob(org_a):
    return UserFactory(organization=org_a, email="bob@alpha.example", roles=[Role.INCENTIVES_USER])


@pytest.fixture
def charlie(org_b):
    return UserFactory(
        organization=org_b, email="charlie@beta.example", roles=[Role.OWNER, Role.GLOBAL_ADMIN]
    )


def confirm_totp(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def verified_session(user, client: Client | None = None) -> Client:
    """A browser session that signed in and passed the second factor."""
    client = client or Client()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or confirm_totp(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def verified_client():
    return verified_session


def token_for(organization, *, scopes=("accounts:read", "accounts:write"), roles=(Role.GLOBAL_ADMIN,)):
    """An API client of `organization` and a client-credentials access token for it."""
    user = UserFactory(organization=organization, is_service_account=True, roles=list(roles))
    application = Application.objects.create(
        name="integration",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    ApiClient.objects.create(
        organization=organization,
        name="integration",
        application=application,
        service_user=user,
        scopes=list(scopes),
    )
    return AccessToken.objects.create(
        user=None,
        application=application,
        token=secrets.token_urlsafe(30),
        expires=timezone.now() + timedelta(hours=1),
        scope=" ".join(scopes),
    )


@pytest.fixture
def api_for():
    def make(organization, **kwargs) -> APIClient:
        token = token_for(organization, **kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
        client.user = token.application.user  # the API client's service account
        return client

    return make


@pytest.fixture
def smtp_server(tmp_path, settings):
    """A real SMTP server (the one `make run` embeds) the portal delivers to; `.messages()` reads
    what arrived. Django's test e-mail backend is swapped for the real SMTP one."""
    from portal.smtp_catcher import Catcher  # noqa: PLC0415

    with Catcher(tmp_path / "mail") as catcher:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = catcher.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.SITE_URL = "https://portal.test"
        yield catcher
