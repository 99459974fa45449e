"""Security alerts: raised by the vendor (or a detector), answered by the partner (spec §1.1).

Answering within 24 hours on average over the last 30 days is one of the three mandatory
requirements. An alert still open counts with the time it has waited so far, so ignoring an
alert cannot improve the average.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, Severity
from accounts.models import Customer, Organization
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal.audit import audit_record
from portal.locks import lock
from security.choices import AlertStatus, AlertType
from security.models import SecurityAlert
from security.services.requirements import ALERT_AUDIENCE, security_requirements_refresh

__all__ = ("RESPONSE_TARGET", "alert_dedupe_key", "alert_raise", "alert_respond")

RESPONSE_TARGET = timedelta(hours=24)
_TITLE_MAX = 200


def alert_dedupe_key(alert: SecurityAlert) -> str:
    return f"security:alert:{alert.alert_id}"


def _alert_url(alert: SecurityAlert) -> str:
    return reverse("security:alert-detail", args=[alert.pk])


@transaction.atomic
def alert_raise(
    *,
    organization: Organization,
    alert_type: str,
    title: str,
    customer: Customer | None = None,
    created_at: datetime | None = None,
) -> SecurityAlert:
    """A new alert, and an Action Center item asking for an answer within 24 hours."""
    errors = {}
    if alert_type not in AlertType.values:
        errors["alert_type"] = f"{alert_type!r} is not one of {', '.join(AlertType.values)}."
    title = (title or "").strip()
    if not title:
        errors["title"] = "Say what the alert is about."
    elif len(title) > _TITLE_MAX:
        errors["title"] = f"Use at most {_TITLE_MAX} characters."
    if customer is not None and customer.organization_id != organization.pk:
        errors["customer"] = "This customer does not belong to the organization."
    now = timezone.now()
    created_at = created_at or now
    if created_at > now:
        errors["created_at"] = "An alert cannot be raised in the future."
    if errors:
        raise ValidationError(errors)
    alert = SecurityAlert.objects.create(
        organization=organization,
        customer=customer,
        alert_type=alert_type,
        title=title,
        created_at=created_at,
    )
    action_item_raise(
        organization_id=organization.pk,
        code=ActionItemCode.SECURITY_ALERT_OPEN,
        dedupe_key=alert_dedupe_key(alert),
        title=f"Answer the security alert: {title}"[:200],
        severity=Severity.HIGH,
        body=(
            "Microsoft requires security alerts to be answered within 24 hours on average. "
            "Investigate, then resolve or dismiss the alert with a note on what you did."
        ),
        due_at=created_at + RESPONSE_TARGET,
        target_url=_alert_url(alert),
        audience_roles=ALERT_AUDIENCE,
    )
    audit_record(
        actor=None,
        action="security.alert_raised",
        organization_id=organization.pk,
        target=alert,
        changes={"alert_type": alert_type, "customer": customer.name if customer else None},
    )
    return alert


@transaction.atomic
def alert_respond(*, actor: Any, alert: SecurityAlert, status: str, note: str) -> SecurityAlert:
    """Resolve or dismiss an alert; the note says what was done and is required."""
    alert = lock(alert)
    errors = {}
    if status not in (AlertStatus.RESOLVED, AlertStatus.DISMISSED):
        errors["status"] = "Answer an alert by resolving or dismissing it."
    note = (note or "").strip()
    if not note:
        errors["note"] = "Say what you found and did; the note is kept with the alert."
    if alert.status != AlertStatus.ACTIVE:
        errors["status"] = f"This alert was already {alert.get_status_display().lower()}."
    if errors:
        raise ValidationError(errors)
    alert.status = status
    alert.responded_at = max(timezone.now(), alert.created_at)
    alert.responded_by = actor if getattr(actor, "pk", None) else None
    alert.response_note = note
    alert.save(update_fields=["status", "responded_at", "responded_by", "response_note"])
    action_item_resolve(
        organization_id=alert.organization_id, dedupe_key=alert_dedupe_key(alert), actor=actor
    )
    audit_record(
        actor=actor,
        action=f"security.alert_{status}",
        organization_id=alert.organization_id,
        target=alert,
        changes={
            "status": [AlertStatus.ACTIVE.value, status],
            "response_hours": round((alert.responded_at - alert.created_at) / timedelta(hours=1), 2),
        },
    )
    # The average response time is a mandatory requirement: settle its item now.
    security_requirements_refresh(Organization.objects.get(pk=alert.organization_id))
    return alert
