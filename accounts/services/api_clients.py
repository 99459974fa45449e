"""API clients: an OAuth2 client-credentials application bound to one organization, with a
service user holding the roles the admin gave it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import Application

from accounts.models import ApiClient, Organization, User
from accounts.services.people import roles_grant_check, roles_set, roles_validate
from accounts.tokens import tokens_forget
from portal.audit import audit_record
from portal.roles import Role


@transaction.atomic
def api_client_create(
    *, actor: User, organization: Organization, name: str, scopes: list[str], roles: list[str]
) -> tuple[ApiClient, str]:
    """Create an OAuth2 client-credentials application; returns it and its secret (shown once)."""
    known_scopes = set(settings.OAUTH2_PROVIDER["SCOPES"])
    unknown = sorted(set(scopes) - known_scopes)
    if unknown or not scopes:
        raise ValidationError({"scopes": f"Choose known scopes; unknown: {', '.join(unknown) or '—'}."})
    roles = roles_validate(roles)
    if not roles:
        raise ValidationError({"roles": "Choose at least one role for the client."})
    if Role.OWNER in roles:
        raise ValidationError({"roles": "API clients cannot be owners."})
    roles_grant_check(actor=actor, user=None, before=set(), after=set(roles))
    service_user = User.objects.create_user(
        email=f"api-client-{secrets.token_hex(6)}@clients.invalid",
        password=None,
        display_name=f"API client: {name}",
        organization=organization,
        is_service_account=True,
    )
    roles_set(user=service_user, roles=roles)
    application, secret = client_application_create(name=name, service_user=service_user)
    client = ApiClient.objects.create(
        organization=organization,
        name=name,
        application=application,
        service_user=service_user,
        scopes=sorted(set(scopes)),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="api_client.created",
        organization_id=organization.pk,
        target=client,
        changes={"scopes": client.scopes, "roles": roles},
    )
    return client, secret


def client_application_create(*, name: str, service_user: User) -> tuple[Application, str]:
    """The confidential client-credentials OAuth2 application of a partner or vendor client; its
    secret is returned once and stored hashed."""
    secret = secrets.token_urlsafe(40)
    application = Application.objects.create(
        name=name,
        user=service_user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    return application, secret


@transaction.atomic
def api_client_revoke(*, actor: User, client: ApiClient) -> ApiClient:
    if client.revoked_at is not None:
        raise ValidationError({"client": "This client is already revoked."})
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    tokens_forget(application_id=client.application_id)
    client.application.accesstoken_set.all().delete()
    client.service_user.is_active = False
    client.service_user.save(update_fields=["is_active"])
    audit_record(
        actor=actor, action="api_client.revoked", organization_id=client.organization_id, target=client
    )
    return client
