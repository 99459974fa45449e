"""Writers for the shared tables that partners manage themselves (webhook endpoints)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from portal.audit import apply_changes, audit_record
from portal.models import WebhookEndpoint


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor: Any,
    organization_id: int,
    url: str,
    events: list[str],
    is_active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        organization_id=organization_id,
        url=url,
        events=events,
        is_active=is_active,
        description=description,
        secret=secrets.token_hex(32),
    )
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook_endpoint.created",
        organization_id=organization_id,
        target=endpoint,
        changes={"url": url, "events": events},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, actor: Any, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    changes = apply_changes(endpoint, fields)
    endpoint.full_clean()
    endpoint.save()
    audit_record(
        actor=actor,
        action="webhook_endpoint.updated",
        organization_id=endpoint.organization_id,
        target=endpoint,
        changes=changes,
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    audit_record(
        actor=actor,
        action="webhook_endpoint.deleted",
        organization_id=endpoint.organization_id,
        target=endpoint,
    )
    endpoint.delete()
