"""Vendor clients: OAuth2 client-credentials applications of the vendor's own systems, bound to no
organization, with scopes per vendor feed (accounts.vendor_api)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User, VendorClient
from accounts.services.api_clients import client_application_create
from portal.audit import audit_record


@transaction.atomic
def vendor_client_create(*, actor: User, name: str, scopes: list[str]) -> tuple[VendorClient, str]:
    """Create a vendor client; returns it and its secret (shown once)."""
    if not getattr(actor, "is_staff", False):
        raise ValidationError("Only the vendor's staff create vendor clients.")
    unknown = sorted(set(scopes) - set(settings.VENDOR_SCOPES))
    if unknown or not scopes:
        raise ValidationError({"scopes": f"Choose vendor feed scopes; unknown: {', '.join(unknown) or '—'}."})
    if VendorClient.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A vendor client named {name!r} already exists."})
    service_user = User.objects.create_user(
        email=f"vendor-client-{secrets.token_hex(6)}@clients.invalid",
        password=None,
        display_name=f"Vendor client: {name}",
        is_service_account=True,
    )
    application, secret = client_application_create(name=f"vendor: {name}", service_user=service_user)
    client = VendorClient.objects.create(
        name=name,
        application=application,
        service_user=service_user,
        scopes=sorted(set(scopes)),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="vendor_client.created",
        organization_id=None,
        target=client,
        changes={"scopes": client.scopes},
    )
    return client, secret


@transaction.atomic
def vendor_client_revoke(*, actor: User, client: VendorClient) -> VendorClient:
    if client.revoked_at is not None:
        raise ValidationError({"client": "This client is already revoked."})
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    client.application.accesstoken_set.all().delete()
    client.service_user.is_active = False
    client.service_user.save(update_fields=["is_active"])
    audit_record(actor=actor, action="vendor_client.revoked", organization_id=None, target=client)
    return client
