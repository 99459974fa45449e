"""GDAP relationships and access assignments (spec/security.md §3), and legacy DAP links.

Graph's rules for `delegatedAdminRelationship` hold here: the display name is unique per partner,
at most 50 characters and set only while `created`; the duration is P1D..P2Y; the auto-extension
is PT0S or P180D, may change while `created` or live, and is refused with Global Administrator,
which may only be removed while the relationship is live. Every status change goes through
`gdap_transition` (the table `GDAP_TRANSITIONS`): it writes the audit row and emits
"security.gdap.status_changed". `_record` appends each status move, and each change of the end
date or the auto-extension, to the relationship's history (portal.history) in the same
transaction: that is what the relationship's page, API and admin show.

"Expiring" is the last stretch of "active" (the partner still holds the roles), so what Graph
allows while active is allowed while expiring too; turning the auto-extension on moves an
expiring relationship back to active.

The portal never creates a DAP relationship: `dap_legacy_import` only mirrors links established
before Partner Center stopped creating them (the database check backs it), so they can be
reported and removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.action_center import action_item_raise, action_item_resolve
from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem, Customer, Organization
from portal.audit import audit_record, audit_record_each
from portal.capabilities import Capability, can
from portal.history import Entry, history_record, history_record_many
from portal.roles import Role
from portal.webhooks import register_event, webhook_emit
from security.choices import (
    DAP_CREATION_ENDED,
    DAP_INACTIVE_DAYS,
    GDAP_APPROVAL_EXPIRY,
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_DISPLAY_NAME_MAX,
    GDAP_FINAL_STATUSES,
    GDAP_LIVE_STATUSES,
    GDAP_MAX_DURATION,
    GDAP_MIN_DURATION,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.models import DapRelationship, EntraRole, GdapAccessAssignment, GdapRelationship

__all__ = (
    "GDAP_STATUS_CHANGED",
    "GDAP_TRANSITIONS",
    "dap_legacy_import",
    "dap_remove",
    "gdap_approval_path",
    "gdap_approval_token",
    "gdap_assignment_create",
    "gdap_assignment_delete",
    "gdap_assignment_update",
    "gdap_auto_extend_set",
    "gdap_customer_approve",
    "gdap_daily",
    "gdap_default_grant",
    "gdap_global_admin_remove",
    "gdap_lock_for_approval",
    "gdap_relationship_create",
    "gdap_relationship_from_token",
    "gdap_relationship_update",
    "gdap_renew",
    "gdap_terminate",
    "gdap_transition",
)

GDAP_STATUS_CHANGED = register_event(
    "security.gdap.status_changed",
    "A GDAP relationship moved to another status (e.g. approvalPending, active, expiring, terminated).",
)

S = GdapStatus
#: Where a relationship may go from each status (spec §3.1). Approval runs approved → activating →
#: active; expiry runs active → expiring → expired; termination runs through its three steps.
GDAP_TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.APPROVAL_PENDING}),
    S.APPROVAL_PENDING: frozenset({S.APPROVED, S.EXPIRED}),
    S.APPROVED: frozenset({S.ACTIVATING}),
    S.ACTIVATING: frozenset({S.ACTIVE}),
    S.ACTIVE: frozenset({S.EXPIRING, S.TERMINATION_REQUESTED}),
    S.EXPIRING: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATION_REQUESTED}),
    S.TERMINATION_REQUESTED: frozenset({S.TERMINATING}),
    S.TERMINATING: frozenset({S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
}
#: Relationships a renewal may start from: the live ones and the ended ones.
RENEWABLE_STATUSES = GDAP_LIVE_STATUSES | GDAP_FINAL_STATUSES
#: A request or relationship still on its way to (or holding) access: a renewal in one of these
#: statuses covers an expiring relationship, so no warning is raised for it.
_RENEWAL_STATUSES = frozenset({S.CREATED, S.APPROVAL_PENDING, S.APPROVED, S.ACTIVATING, S.ACTIVE})

INVITATION_SALT = "security.gdap.invitation"
#: The auto-extension happens on the relationship's last day (spec §3.1).
LAST_DAY = timedelta(days=1)
WARNING_HIGH_DAYS = 7
#: Who acts on GDAP and DAP items in the Action Center.
GDAP_AUDIENCE = [Role.ADMIN_AGENT, Role.GLOBAL_ADMIN]
EXPIRING_KEY = "gdap-expiring:"
DAP_INACTIVE_KEY = "dap-inactive:"

DEFAULT_NAME_PREFIX = "Default_"


def _default_display_name(customer: Customer) -> str:
    # Unique per partner and at most 50 characters (Graph's rules): the customer's primary key
    # keeps two customers with the same name apart.
    suffix = f"_{customer.pk}"
    room = GDAP_DISPLAY_NAME_MAX - len(DEFAULT_NAME_PREFIX) - len(suffix)
    return f"{DEFAULT_NAME_PREFIX}{customer.name[:room]}{suffix}"


@transaction.atomic(savepoint=False)
def gdap_default_grant(*, organization_id: int, customer_ids: Iterable[int], actor: Any = None) -> int:
    """Give each new customer the default GDAP relationship (spec §3.3); returns how many were made.

    The partner created the customer's tenant, so the relationship is active at once: the default
    roles (no Global Administrator), two years, auto-extended by 180 days. Idempotent: a customer
    that already has its default relationship is skipped.
    """
    customers = list(
        Customer.objects.filter(organization_id=organization_id, pk__in=list(customer_ids)).exclude(
            gdap_relationships__is_default_template=True
        )
    )
    if not customers:
        return 0
    now = timezone.now()
    relationships = GdapRelationship.objects.bulk_create(
        [
            GdapRelationship(
                organization_id=organization_id,
                customer=customer,
                display_name=_default_display_name(customer),
                duration=GDAP_MAX_DURATION,
                auto_extend_duration=GDAP_AUTO_EXTEND_DAYS,
                status=GdapStatus.ACTIVE,
                is_default_template=True,
                created_at=now,
                activated_at=now,
                last_modified_at=now,
                end_at=now + GDAP_MAX_DURATION,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            for customer in customers
        ]
    )
    # The roles of every new relationship in one INSERT … SELECT (an import grants thousands).
    through = GdapRelationship.roles.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {through} (gdaprelationship_id, entrarole_id)
            SELECT relationship.id, role.role_definition_id
            FROM unnest(%s::bigint[]) AS relationship(id)
            CROSS JOIN {EntraRole._meta.db_table} AS role
            WHERE role.in_default_template
            """,
            [[relationship.pk for relationship in relationships]],
        )
        role_count = cursor.rowcount // len(relationships)
    history_record_many(
        [
            Entry.of(relationship, to_status=relationship.status, note="Created", data=_tracked(relationship))
            for relationship in relationships
        ],
        actor=actor,
        at=now,
    )
    audit_record_each(
        actor=actor,
        action="gdap.default_granted",
        organization_id=organization_id,
        targets=relationships,
        changes=lambda relationship: {"customer": relationship.customer_id, "roles": role_count},
    )
    return len(relationships)


# --- Helpers --------------------------------------------------------------------------------------


def _refuse(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _check_actor(actor: Any, organization_id: int) -> None:
    """People need GDAP_MANAGE in the relationship's organization; the system (None) may act."""
    if actor is None or isinstance(actor, str):
        return
    if not can(actor, Capability.GDAP_MANAGE, organization_id):
        raise PermissionDenied("Managing GDAP relationships needs the Admin agent or Global admin role.")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"P{value.days}D" if value else "PT0S"
    return value


def _lock(relationship: GdapRelationship) -> GdapRelationship:
    return (
        GdapRelationship.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=relationship.pk)
    )


def _role_ids(relationship: GdapRelationship) -> set[str]:
    return {str(pk) for pk in relationship.roles.values_list("pk", flat=True)}


def _has_global_admin(role_ids: Iterable[str]) -> bool:
    return GLOBAL_ADMINISTRATOR_ROLE_ID in {str(role_id) for role_id in role_ids}


def _roles(role_ids: Iterable[str], *, field: str = "role_ids") -> list[EntraRole]:
    """The Entra roles named by `role_ids` (template ids), refusing unknown or missing ones."""
    wanted: list[uuid.UUID] = []
    for role_id in role_ids or []:
        try:
            wanted.append(uuid.UUID(str(role_id)))
        except ValueError:
            raise _refuse(field, f"{role_id!r} is not an Entra role template id.") from None
    if not wanted:
        raise _refuse(field, "Choose at least one Entra role.", code="required")
    roles = list(EntraRole.objects.filter(pk__in=wanted))
    unknown = sorted({str(role_id) for role_id in wanted} - {str(role.pk) for role in roles})
    if unknown:
        raise _refuse(field, f"Unknown Entra role(s): {', '.join(unknown)}.", code="unknown_role")
    return roles


def _clean_display_name(organization_id: int, display_name: str, *, exclude_pk: int | None = None) -> str:
    name = (display_name or "").strip()
    if not name:
        raise _refuse("display_name", "Enter a display name.", code="required")
    if len(name) > GDAP_DISPLAY_NAME_MAX:
        raise _refuse(
            "display_name",
            f"The display name has {len(name)} characters; Graph allows at most {GDAP_DISPLAY_NAME_MAX}.",
            code="max_length",
        )
    taken = GdapRelationship.objects.filter(organization_id=organization_id, display_name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise _refuse(
            "display_name",
            f"You already have a GDAP relationship named {name!r}; display names are unique per partner.",
            code="unique",
        )
    return name


def _check_duration(duration: Any) -> timedelta:
    if not isinstance(duration, timedelta):
        raise _refuse("duration", "Give the duration as a length of time, e.g. P730D.")
    if not GDAP_MIN_DURATION <= duration <= GDAP_MAX_DURATION:
        raise _refuse(
            "duration",
            f"The duration must be between P1D and P2Y (P730D); {_iso(duration)} is outside.",
            code="range",
        )
    return duration


def _check_auto_extend(auto_extend_duration: Any, role_ids: Iterable[str]) -> timedelta:
    if auto_extend_duration not in (GDAP_AUTO_EXTEND_NONE, GDAP_AUTO_EXTEND_DAYS):
        raise _refuse(
            "auto_extend_duration",
            "The auto-extension is either PT0S (off) or P180D (six months).",
            code="choice",
        )
    if auto_extend_duration and _has_global_admin(role_ids):
        raise _refuse(
            "auto_extend_duration",
            "Relationships that include the Global Administrator role cannot auto-extend; "
            "remove Global Administrator first.",
            code="global_admin",
        )
    return auto_extend_duration


def _tracked(relationship: GdapRelationship) -> dict[str, Any]:
    """What each history event keeps besides the status: the end date and the auto-extension."""
    return {"end_at": relationship.end_at, "auto_extend_duration": _iso(relationship.auto_extend_duration)}


def _record(relationship: GdapRelationship, *, actor: Any, from_status: str, changed: Iterable[str]) -> None:
    """Append a saved write to the relationship's history if it moved the status, the end date or
    the auto-extension; the note says which of the latter two changed, and to what."""
    notes = []
    if "end_at" in changed and relationship.end_at:
        notes.append(f"End date {relationship.end_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    if "auto_extend_duration" in changed:
        notes.append("Auto-extend on" if relationship.auto_extend_duration else "Auto-extend off")
    if from_status == relationship.status and not notes:
        return
    history_record(
        subject=relationship,
        actor=actor,
        from_status=from_status,
        to_status=relationship.status,
        note="; ".join(notes) or ("Created" if not from_status else ""),
        data=_tracked(relationship),
    )


def _expiring_key(relationship: GdapRelationship) -> str:
    return f"{EXPIRING_KEY}{relationship.relationship_id}"


def _dap_key(dap: DapRelationship) -> str:
    return f"{DAP_INACTIVE_KEY}{dap.pk}"


def _resolve_expiring(relationship: GdapRelationship, actor: Any = None) -> int:
    return action_item_resolve(
        organization_id=relationship.organization_id, dedupe_key=_expiring_key(relationship), actor=actor
    )


def _touch(relationship: GdapRelationship, changes: dict[str, list[Any]], *, actor: Any, action: str) -> None:
    relationship.last_modified_at = timezone.now()
    relationship.save()
    _record(relationship, actor=actor, from_status=relationship.status, changed=changes)
    audit_record(
        actor=actor,
        action=action,
        organization_id=relationship.organization_id,
        target=relationship,
        changes=changes,
    )


# --- Status changes -------------------------------------------------------------------------------


def gdap_transition(
    *, actor: Any, relationship: GdapRelationship, to_status: str, fields: dict[str, Any] | None = None
) -> GdapRelationship:
    """Move a (locked) relationship to `to_status` if `GDAP_TRANSITIONS` allows it, saving `fields`
    with the status; writes the audit row and emits the webhook."""
    from_status = relationship.status
    if to_status not in GDAP_TRANSITIONS.get(from_status, frozenset()):
        allowed = ", ".join(sorted(GDAP_TRANSITIONS.get(from_status, ()))) or "none (it has ended)"
        raise _refuse(
            "status",
            f"A GDAP relationship in {from_status} cannot move to {to_status}; allowed: {allowed}.",
            code="transition",
        )
    now = timezone.now()
    changes: dict[str, Any] = {"status": [from_status, to_status]}
    for name, value in (fields or {}).items():
        changes[name] = [_iso(getattr(relationship, name)), _iso(value)]
        setattr(relationship, name, value)
    relationship.status = to_status
    relationship.last_modified_at = now
    with transaction.atomic(savepoint=False):
        relationship.save(update_fields=["status", "last_modified_at", *(fields or {})])
        _record(relationship, actor=actor, from_status=from_status, changed=changes)
        audit_record(
            actor=actor,
            action="gdap.status_changed",
            organization_id=relationship.organization_id,
            target=relationship,
            changes=changes,
        )
        customer = relationship.customer
        webhook_emit(
            organization_id=relationship.organization_id,
            event=GDAP_STATUS_CHANGED,
            data={
                "id": relationship.relationship_id,
                "displayName": relationship.display_name,
                "customer": {"tenantId": str(customer.tenant_id), "displayName": customer.name},
                "fromStatus": from_status,
                "status": to_status,
                "endDateTime": _iso(relationship.end_at),
                "lastModifiedDateTime": _iso(now),
            },
        )
    return relationship


def _delete_assignments(relationship: GdapRelationship) -> int:
    return relationship.access_assignments.exclude(status=AccessAssignmentStatus.DELETED).update(
        status=AccessAssignmentStatus.DELETED, last_modified_at=timezone.now()
    )


# --- Requests -------------------------------------------------------------------------------------


@transaction.atomic
def gdap_relationship_create(
    *,
    actor: Any,
    organization: Organization,
    customer: Customer,
    display_name: str,
    duration: timedelta,
    role_ids: list[str],
    auto_extend_duration: timedelta = GDAP_AUTO_EXTEND_NONE,
) -> GdapRelationship:
    """A new request (status `created`) for `role_ids` in the customer's tenant for `duration`."""
    _check_actor(actor, organization.pk)
    if customer.organization_id != organization.pk:
        raise _refuse("customer", "This customer does not belong to your organization.")
    name = _clean_display_name(organization.pk, display_name)
    _check_duration(duration)
    roles = _roles(role_ids)
    _check_auto_extend(auto_extend_duration, [str(role.pk) for role in roles])
    now = timezone.now()
    relationship = GdapRelationship.objects.create(
        organization=organization,
        customer=customer,
        display_name=name,
        duration=duration,
        auto_extend_duration=auto_extend_duration,
        status=S.CREATED,
        created_at=now,
        last_modified_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _record(relationship, actor=actor, from_status="", changed=())
    relationship.roles.set(roles)
    audit_record(
        actor=actor,
        action="gdap.created",
        organization_id=organization.pk,
        target=relationship,
        changes={
            "customer": customer.pk,
            "display_name": name,
            "duration": _iso(duration),
            "auto_extend_duration": _iso(auto_extend_duration),
            "roles": sorted(str(role.pk) for role in roles),
        },
    )
    return relationship


def _while_created(relationship: GdapRelationship, field: str, label: str) -> None:
    if relationship.status != S.CREATED:
        raise _refuse(
            field,
            f"The {label} can only be changed while the relationship is created; "
            f"it is {relationship.status}. Renew it to request different terms.",
            code="locked",
        )


def _set_auto_extend(
    relationship: GdapRelationship, auto_extend_duration: Any, *, role_ids: Iterable[str]
) -> dict[str, list[Any]]:
    """Apply a new auto-extension to a locked relationship (not saved); returns the change."""
    if auto_extend_duration == relationship.auto_extend_duration:
        return {}
    if relationship.status != S.CREATED and relationship.status not in GDAP_LIVE_STATUSES:
        raise _refuse(
            "auto_extend_duration",
            f"The auto-extension can only be changed while the relationship is created or active; "
            f"it is {relationship.status}.",
            code="locked",
        )
    _check_auto_extend(auto_extend_duration, role_ids)
    change = [_iso(relationship.auto_extend_duration), _iso(auto_extend_duration)]
    relationship.auto_extend_duration = auto_extend_duration
    return {"auto_extend_duration": change}


@transaction.atomic
def gdap_relationship_update(
    *,
    actor: Any,
    relationship: GdapRelationship,
    display_name: str | None = None,
    duration: timedelta | None = None,
    role_ids: list[str] | None = None,
    auto_extend_duration: timedelta | None = None,
) -> GdapRelationship:
    """Graph's PATCH: everything while `created`; only the auto-extension while live.

    A value equal to the current one is no change, so a client may send the whole resource back.
    """
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    changes: dict[str, list[Any]] = {}
    current_roles = _role_ids(relationship)
    new_roles: list[EntraRole] | None = None

    if display_name is not None and display_name.strip() != relationship.display_name:
        _while_created(relationship, "display_name", "display name")
        name = _clean_display_name(relationship.organization_id, display_name, exclude_pk=relationship.pk)
        changes["display_name"] = [relationship.display_name, name]
        relationship.display_name = name
    if duration is not None and duration != relationship.duration:
        _while_created(relationship, "duration", "duration")
        _check_duration(duration)
        changes["duration"] = [_iso(relationship.duration), _iso(duration)]
        relationship.duration = duration
    if role_ids is not None:
        roles = _roles(role_ids)
        wanted = {str(role.pk) for role in roles}
        if wanted != current_roles:
            _while_created(relationship, "role_ids", "roles")
            changes["roles"] = [sorted(current_roles), sorted(wanted)]
            new_roles, current_roles = roles, wanted
    if auto_extend_duration is not None:
        changes |= _set_auto_extend(relationship, auto_extend_duration, role_ids=current_roles)
    elif new_roles is not None:
        # New roles must still allow the auto-extension already set.
        _check_auto_extend(relationship.auto_extend_duration, current_roles)
    if not changes:
        return relationship

    _touch(relationship, changes, actor=actor, action="gdap.updated")
    if new_roles is not None:
        relationship.roles.set(new_roles)
    if relationship.status == S.EXPIRING and relationship.auto_extends:
        gdap_transition(actor=actor, relationship=relationship, to_status=S.ACTIVE)
        _resolve_expiring(relationship, actor)
    return relationship


def gdap_auto_extend_set(*, actor: Any, relationship: GdapRelationship, enabled: bool) -> GdapRelationship:
    """Turn the six-monthly auto-extension on (P180D) or off (PT0S)."""
    return gdap_relationship_update(
        actor=actor,
        relationship=relationship,
        auto_extend_duration=GDAP_AUTO_EXTEND_DAYS if enabled else GDAP_AUTO_EXTEND_NONE,
    )


@transaction.atomic
def gdap_lock_for_approval(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """Graph's `lockForApproval`: the request is fixed and waits (90 days at most) for the customer."""
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    if relationship.status != S.CREATED:
        raise _refuse(
            "status",
            f"Only a created request can be sent for approval; this one is {relationship.status}.",
            code="transition",
        )
    return gdap_transition(
        actor=actor,
        relationship=relationship,
        to_status=S.APPROVAL_PENDING,
        fields={"locked_for_approval_at": timezone.now()},
    )


# --- The customer's approval ----------------------------------------------------------------------


def gdap_approval_token(relationship: GdapRelationship) -> str:
    """The signed token of the invitation link the customer's admin opens."""
    return signing.dumps({"relationship": relationship.relationship_id}, salt=INVITATION_SALT)


def gdap_relationship_from_token(token: str) -> GdapRelationship:
    """The relationship a link was made for; ValidationError for a tampered or unknown link."""
    invalid = _refuse(
        "token", "This approval link is not valid. Ask your partner to send it again.", code="bad_token"
    )
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        raise invalid from None
    relationship_id = payload.get("relationship") if isinstance(payload, dict) else None
    relationship = (
        GdapRelationship.objects.select_related("customer", "organization")
        .filter(relationship_id=relationship_id)
        .first()
    )
    if relationship is None:
        raise invalid
    return relationship


def gdap_approval_path(relationship: GdapRelationship) -> str:
    return reverse("security:gdap-invitation", args=[gdap_approval_token(relationship)])


@transaction.atomic
def gdap_customer_approve(
    *, relationship: GdapRelationship, approver_name: str, approver_email: str
) -> GdapRelationship:
    """The customer's admin approves: approvalPending → approved → activating → active.

    The relationship starts now and ends `duration` later (Graph's endDateTime).
    """
    errors: dict[str, str] = {}
    approver_name = (approver_name or "").strip()
    approver_email = (approver_email or "").strip().lower()
    if not approver_name:
        errors["approver_name"] = "Enter the name of the customer's administrator who approves."
    try:
        validate_email(approver_email)
    except ValidationError:
        errors["approver_email"] = "Enter the approving administrator's e-mail address."
    if errors:
        raise ValidationError(errors)
    relationship = _lock(relationship)
    if relationship.status != S.APPROVAL_PENDING:
        message = {
            S.CREATED: "This request has not been sent for approval yet.",
            S.EXPIRED: "This request expired: requests not approved within 90 days end. "
            "Ask your partner for a new one.",
        }.get(
            relationship.status,
            f"This request was already answered; the relationship is {relationship.status}.",
        )
        raise _refuse("status", message, code="transition")
    actor = f"{approver_name} <{approver_email}> (customer)"
    gdap_transition(actor=actor, relationship=relationship, to_status=S.APPROVED)
    gdap_transition(actor=actor, relationship=relationship, to_status=S.ACTIVATING)
    now = timezone.now()
    gdap_transition(
        actor=actor,
        relationship=relationship,
        to_status=S.ACTIVE,
        fields={"activated_at": now, "end_at": now + relationship.duration},
    )
    audit_record(
        actor=actor,
        action="gdap.approved",
        organization_id=relationship.organization_id,
        target=relationship,
        changes={"approver_name": approver_name, "approver_email": approver_email},
    )
    return relationship


# --- Changes to live relationships ----------------------------------------------------------------


@transaction.atomic
def gdap_global_admin_remove(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """Drop Global Administrator from a live relationship and from its access assignments."""
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise _refuse(
            "status",
            f"Global Administrator can only be removed while the relationship is active; "
            f"it is {relationship.status}.",
            code="transition",
        )
    roles = _role_ids(relationship)
    if GLOBAL_ADMINISTRATOR_ROLE_ID not in roles:
        raise _refuse("role_ids", "This relationship does not include Global Administrator.", code="absent")
    if roles == {GLOBAL_ADMINISTRATOR_ROLE_ID}:
        raise _refuse(
            "role_ids",
            "Global Administrator is this relationship's only role; terminate it and request "
            "least-privileged roles instead.",
            code="last_role",
        )
    relationship.roles.remove(GLOBAL_ADMINISTRATOR_ROLE_ID)
    emptied = []
    for assignment in relationship.access_assignments.exclude(status=AccessAssignmentStatus.DELETED):
        assignment.roles.remove(GLOBAL_ADMINISTRATOR_ROLE_ID)
        if not assignment.roles.exists():
            assignment.status = AccessAssignmentStatus.DELETED
            assignment.last_modified_at = timezone.now()
            assignment.save(update_fields=["status", "last_modified_at"])
            emptied.append(assignment.assignment_id)
    _touch(
        relationship,
        {
            "roles": [sorted(roles), sorted(roles - {GLOBAL_ADMINISTRATOR_ROLE_ID})],
            "assignments_deleted": emptied,
        },
        actor=actor,
        action="gdap.global_admin_removed",
    )
    return relationship


def _renewal_name(relationship: GdapRelationship) -> str:
    base = relationship.display_name
    for number in range(1, 1000):
        suffix = f"-R{number}"
        candidate = f"{base[: GDAP_DISPLAY_NAME_MAX - len(suffix)]}{suffix}"
        if not GdapRelationship.objects.filter(
            organization_id=relationship.organization_id, display_name__iexact=candidate
        ).exists():
            return candidate
    raise _refuse("display_name", "No free display name is left for a renewal; create the request by hand.")


@transaction.atomic
def gdap_renew(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """A new `created` request with the same customer, roles, duration and auto-extension.

    The expiring warning of the old relationship is resolved: the renewal covers it.
    """
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    if relationship.status not in RENEWABLE_STATUSES:
        raise _refuse(
            "status",
            f"Only active, expiring, expired or terminated relationships can be renewed; "
            f"this one is {relationship.status}.",
            code="transition",
        )
    renewal = gdap_relationship_create(
        actor=actor,
        organization=relationship.organization,
        customer=relationship.customer,
        display_name=_renewal_name(relationship),
        duration=relationship.duration,
        role_ids=sorted(_role_ids(relationship)),
        auto_extend_duration=relationship.auto_extend_duration,
    )
    audit_record(
        actor=actor,
        action="gdap.renewed",
        organization_id=relationship.organization_id,
        target=relationship,
        changes={"renewal": renewal.relationship_id},
    )
    _resolve_expiring(relationship, actor)
    return renewal


@transaction.atomic
def gdap_terminate(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """active/expiring → terminationRequested → terminating → terminated; assignments deleted."""
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise _refuse(
            "status",
            f"Only an active or expiring relationship can be terminated; this one is {relationship.status}.",
            code="transition",
        )
    gdap_transition(actor=actor, relationship=relationship, to_status=S.TERMINATION_REQUESTED)
    gdap_transition(actor=actor, relationship=relationship, to_status=S.TERMINATING)
    _delete_assignments(relationship)
    gdap_transition(
        actor=actor, relationship=relationship, to_status=S.TERMINATED, fields={"end_at": timezone.now()}
    )
    _resolve_expiring(relationship, actor)
    return relationship


# --- Access assignments ---------------------------------------------------------------------------


def _assignment_roles(relationship: GdapRelationship, role_ids: Iterable[str]) -> list[EntraRole]:
    roles = _roles(role_ids)
    outside = sorted(role.display_name for role in roles if str(role.pk) not in _role_ids(relationship))
    if outside:
        raise _refuse(
            "role_ids",
            f"An access assignment may only use its relationship's roles; not in it: {', '.join(outside)}.",
            code="not_in_relationship",
        )
    return roles


def _check_live(relationship: GdapRelationship) -> None:
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise _refuse(
            "relationship",
            f"Access can only be assigned on an active relationship; this one is {relationship.status}.",
            code="not_live",
        )


@transaction.atomic
def gdap_assignment_create(
    *,
    actor: Any,
    relationship: GdapRelationship,
    security_group_id: Any,
    security_group_name: str,
    role_ids: list[str],
) -> GdapAccessAssignment:
    """Give a security group of the partner tenant some of the relationship's roles."""
    _check_actor(actor, relationship.organization_id)
    relationship = _lock(relationship)
    _check_live(relationship)
    try:
        group_id = uuid.UUID(str(security_group_id))
    except ValueError:
        raise _refuse("security_group_id", "Enter the security group's object id (a GUID).") from None
    name = (security_group_name or "").strip()
    if not name:
        raise _refuse("security_group_name", "Enter the security group's name.", code="required")
    if len(name) > GdapAccessAssignment._meta.get_field("security_group_name").max_length:
        raise _refuse(
            "security_group_name", "The security group's name is too long (120 characters at most)."
        )
    roles = _assignment_roles(relationship, role_ids)
    if (
        relationship.access_assignments.filter(security_group_id=group_id)
        .exclude(status=AccessAssignmentStatus.DELETED)
        .exists()
    ):
        raise _refuse(
            "security_group_id",
            "This security group already has an access assignment on this relationship; "
            "change its roles instead.",
            code="unique",
        )
    now = timezone.now()
    assignment = GdapAccessAssignment.objects.create(
        organization_id=relationship.organization_id,
        relationship=relationship,
        security_group_id=group_id,
        security_group_name=name,
        status=AccessAssignmentStatus.ACTIVE,
        created_at=now,
        last_modified_at=now,
    )
    assignment.roles.set(roles)
    audit_record(
        actor=actor,
        action="gdap.assignment_created",
        organization_id=relationship.organization_id,
        target=assignment,
        changes={
            "relationship": relationship.relationship_id,
            "security_group_id": str(group_id),
            "roles": sorted(str(role.pk) for role in roles),
        },
    )
    return assignment


def _lock_assignment(assignment: GdapAccessAssignment) -> GdapAccessAssignment:
    assignment = GdapAccessAssignment.objects.select_for_update().get(pk=assignment.pk)
    assignment.relationship = _lock(assignment.relationship)
    return assignment


@transaction.atomic
def gdap_assignment_update(
    *, actor: Any, assignment: GdapAccessAssignment, role_ids: list[str]
) -> GdapAccessAssignment:
    _check_actor(actor, assignment.organization_id)
    assignment = _lock_assignment(assignment)
    if assignment.status == AccessAssignmentStatus.DELETED:
        raise _refuse("status", "This access assignment was deleted; create a new one.", code="deleted")
    _check_live(assignment.relationship)
    roles = _assignment_roles(assignment.relationship, role_ids)
    before = sorted(str(pk) for pk in assignment.roles.values_list("pk", flat=True))
    after = sorted(str(role.pk) for role in roles)
    if before == after:
        return assignment
    assignment.roles.set(roles)
    assignment.last_modified_at = timezone.now()
    assignment.save(update_fields=["last_modified_at"])
    audit_record(
        actor=actor,
        action="gdap.assignment_updated",
        organization_id=assignment.organization_id,
        target=assignment,
        changes={"roles": [before, after]},
    )
    return assignment


@transaction.atomic
def gdap_assignment_delete(*, actor: Any, assignment: GdapAccessAssignment) -> GdapAccessAssignment:
    _check_actor(actor, assignment.organization_id)
    assignment = _lock_assignment(assignment)
    if assignment.status == AccessAssignmentStatus.DELETED:
        raise _refuse("status", "This access assignment is already deleted.", code="deleted")
    before = assignment.status
    assignment.status = AccessAssignmentStatus.DELETED
    assignment.last_modified_at = timezone.now()
    assignment.save(update_fields=["status", "last_modified_at"])
    audit_record(
        actor=actor,
        action="gdap.assignment_deleted",
        organization_id=assignment.organization_id,
        target=assignment,
        changes={"status": [before, AccessAssignmentStatus.DELETED]},
    )
    return assignment


# --- The daily job --------------------------------------------------------------------------------


def _renewal_pending(relationship: GdapRelationship) -> bool:
    """A newer request or relationship with the same customer covers at least these roles."""
    roles = _role_ids(relationship)
    newer = (
        GdapRelationship.objects.filter(
            organization_id=relationship.organization_id,
            customer_id=relationship.customer_id,
            status__in=_RENEWAL_STATUSES,
            created_at__gte=relationship.created_at,
        )
        .exclude(pk=relationship.pk)
        .prefetch_related("roles")
    )
    return any(roles <= {str(role.pk) for role in other.roles.all()} for other in newer)


def _raise_if_changed(*, organization_id: int, dedupe_key: str, **fields: Any) -> bool:
    """`action_item_raise`, skipped when the item already says the same (so a rerun changes
    nothing); a dismissed item stays dismissed. True when something was written."""
    item = ActionItem.objects.filter(organization_id=organization_id, dedupe_key=dedupe_key).first()
    if item is not None and (
        item.status == ActionItemStatus.DISMISSED
        or (
            item.status != ActionItemStatus.RESOLVED
            and all(getattr(item, name) == value for name, value in fields.items())
        )
    ):
        return False
    action_item_raise(organization_id=organization_id, dedupe_key=dedupe_key, **fields)
    return True


def _warn_expiring(relationship: GdapRelationship, now: datetime) -> bool:
    left = relationship.end_at - now
    days = max(0, left.days + (1 if left.seconds or left.microseconds else 0))
    return _raise_if_changed(
        organization_id=relationship.organization_id,
        dedupe_key=_expiring_key(relationship),
        code=ActionItemCode.GDAP_EXPIRING,
        title=f"GDAP relationship “{relationship.display_name}” with {relationship.customer.name} "
        f"ends on {relationship.end_at:%Y-%m-%d}",
        severity=Severity.HIGH if left <= timedelta(days=WARNING_HIGH_DAYS) else Severity.MEDIUM,
        body=(
            f"It ends in {days} day{'s' if days != 1 else ''} and does not auto-extend. Turn on the "
            "auto-extension (not possible while it includes Global Administrator) or renew it, or "
            "your access to the customer's tenant stops."
        )
        if days <= WARNING_HIGH_DAYS
        else (
            "It does not auto-extend. Turn on the auto-extension (not possible while it includes "
            "Global Administrator) or renew it, or your access to the customer's tenant stops."
        ),
        due_at=relationship.end_at,
        target_url=reverse("security:gdap-detail", args=[relationship.pk]),
        audience_roles=GDAP_AUDIENCE,
        location_id=None,
    )


def _expire(relationship: GdapRelationship) -> None:
    if relationship.status == S.ACTIVE:
        gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRING)
    _delete_assignments(relationship)
    gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRED)


def _daily_relationship(
    relationship: GdapRelationship, now: datetime, warn_until: datetime
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with transaction.atomic():
        relationship = _lock(relationship)
        if relationship.status not in GDAP_LIVE_STATUSES:
            return counts
        roles = _role_ids(relationship)
        extends = relationship.auto_extends and not _has_global_admin(roles)
        if extends:
            if relationship.end_at <= now + LAST_DAY:
                before = relationship.end_at
                while relationship.end_at <= now + LAST_DAY:
                    relationship.end_at += relationship.auto_extend_duration
                _touch(
                    relationship,
                    {"end_at": [_iso(before), _iso(relationship.end_at)]},
                    actor=None,
                    action="gdap.auto_extended",
                )
                counts["extended"] = 1
            if relationship.status == S.EXPIRING:
                gdap_transition(actor=None, relationship=relationship, to_status=S.ACTIVE)
            counts["warnings_resolved"] = _resolve_expiring(relationship)
        elif relationship.end_at <= now:
            _expire(relationship)
            counts["expired"] = 1
            counts["warnings_resolved"] = _resolve_expiring(relationship)
        elif relationship.end_at <= warn_until:
            if relationship.status == S.ACTIVE:
                gdap_transition(actor=None, relationship=relationship, to_status=S.EXPIRING)
                counts["expiring"] = 1
            if _renewal_pending(relationship):
                counts["warnings_resolved"] = _resolve_expiring(relationship)
            else:
                counts["warnings_raised"] = int(_warn_expiring(relationship, now))
        elif relationship.status == S.EXPIRING:
            # The warning window shrank (setting changed): it is simply active again.
            gdap_transition(actor=None, relationship=relationship, to_status=S.ACTIVE)
            counts["warnings_resolved"] = _resolve_expiring(relationship)
    return counts


def _dap_daily(now: datetime) -> dict[str, int]:
    counts = {"dap_inactive_raised": 0, "dap_inactive_resolved": 0}
    quiet_since = now - timedelta(days=DAP_INACTIVE_DAYS)
    inactive_keys: set[tuple[int, str]] = set()
    for dap in DapRelationship.objects.filter(removed_at__isnull=True).select_related("customer"):
        last = dap.last_activity_at or dap.established_at
        if last > quiet_since:
            continue
        inactive_keys.add((dap.organization_id, _dap_key(dap)))
        counts["dap_inactive_raised"] += _raise_if_changed(
            organization_id=dap.organization_id,
            dedupe_key=_dap_key(dap),
            code=ActionItemCode.DAP_INACTIVE,
            title=f"Remove the inactive DAP relationship with {dap.customer.name}",
            severity=Severity.LOW,
            body=(
                f"No admin-on-behalf-of activity since {last:%Y-%m-%d}. DAP gives your Admin agents "
                "Global Administrator in the customer's tenant with no end date; remove it and use "
                "least-privileged GDAP roles instead. Removing it does not affect partner earned credit."
            ),
            due_at=None,
            target_url=reverse("security:dap-list"),
            audience_roles=GDAP_AUDIENCE,
            location_id=None,
        )
    for item in ActionItem.objects.filter(
        code=ActionItemCode.DAP_INACTIVE,
        dedupe_key__startswith=DAP_INACTIVE_KEY,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).only("organization_id", "dedupe_key"):
        if (item.organization_id, item.dedupe_key) not in inactive_keys:
            counts["dap_inactive_resolved"] += action_item_resolve(
                organization_id=item.organization_id, dedupe_key=item.dedupe_key
            )
    return counts


def gdap_daily(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly GDAP and DAP check (beat); running it twice changes nothing the second time.

    - requests waiting for approval more than 90 days expire;
    - live relationships on their last day auto-extend by 180 days when set to, else they expire
      at their end (access assignments deleted);
    - live relationships ending within SECURITY_GDAP_WARNING_DAYS that do not auto-extend become
      `expiring` and raise GDAP_EXPIRING (high at ≤ 7 days), unless a renewal covers them;
    - DAP links without activity for 90 days raise DAP_INACTIVE; removed or active ones resolve it.
    """
    now = now or timezone.now()
    warn_until = now + timedelta(days=settings.SECURITY_GDAP_WARNING_DAYS)
    counts = {
        "approvals_expired": 0,
        "extended": 0,
        "expiring": 0,
        "expired": 0,
        "warnings_raised": 0,
        "warnings_resolved": 0,
    }

    stale = GdapRelationship.objects.filter(
        status=S.APPROVAL_PENDING, locked_for_approval_at__lte=now - GDAP_APPROVAL_EXPIRY
    )
    for relationship in stale:
        with transaction.atomic():
            relationship = _lock(relationship)
            if relationship.status != S.APPROVAL_PENDING:
                continue
            gdap_transition(
                actor=None, relationship=relationship, to_status=S.EXPIRED, fields={"end_at": now}
            )
            counts["approvals_expired"] += 1

    due = GdapRelationship.objects.filter(status__in=GDAP_LIVE_STATUSES, end_at__lte=warn_until)
    due_keys: set[tuple[int, str]] = set()
    for relationship in due.order_by("end_at", "pk"):
        for name, value in _daily_relationship(relationship, now, warn_until).items():
            counts[name] += value
    # Expiring relationships whose window shrank (the setting changed) go back to active.
    for relationship in GdapRelationship.objects.filter(status=S.EXPIRING, end_at__gt=warn_until):
        for name, value in _daily_relationship(relationship, now, warn_until).items():
            counts[name] += value
    for relationship in GdapRelationship.objects.filter(status=S.EXPIRING).only(
        "organization_id", "relationship_id"
    ):
        due_keys.add((relationship.organization_id, _expiring_key(relationship)))
    # Items whose relationship stopped expiring some other way (a renewal, a change by hand).
    for item in ActionItem.objects.filter(
        code=ActionItemCode.GDAP_EXPIRING,
        dedupe_key__startswith=EXPIRING_KEY,
        status__in=[ActionItemStatus.OPEN, ActionItemStatus.SNOOZED],
    ).only("organization_id", "dedupe_key"):
        if (item.organization_id, item.dedupe_key) not in due_keys:
            counts["warnings_resolved"] += action_item_resolve(
                organization_id=item.organization_id, dedupe_key=item.dedupe_key
            )
    counts |= _dap_daily(now)
    return counts


# --- Legacy DAP -----------------------------------------------------------------------------------


@transaction.atomic
def dap_legacy_import(
    *,
    organization: Organization,
    customer: Customer,
    established_at: datetime,
    last_activity_at: datetime | None = None,
) -> DapRelationship:
    """Mirror a DAP link that already exists in the customer's tenant — the ONLY writer of DAP rows.

    Partner Center stopped creating DAP at the end of November 2023, so a link established on or
    after DAP_CREATION_ENDED is refused (the database check refuses it too). Importing the same
    link again refreshes its last activity.
    """
    if customer.organization_id != organization.pk:
        raise _refuse("customer", "This customer does not belong to your organization.")
    if timezone.is_naive(established_at):
        established_at = timezone.make_aware(established_at, UTC)
    if established_at >= DAP_CREATION_ENDED:
        raise _refuse(
            "established_at",
            f"DAP relationships can no longer be created (Partner Center stopped on "
            f"{DAP_CREATION_ENDED:%Y-%m-%d}); a link established on {established_at:%Y-%m-%d} cannot be "
            "DAP. Use GDAP.",
            code="dap_ended",
        )
    if last_activity_at is not None and last_activity_at < established_at:
        raise _refuse("last_activity_at", "The last activity cannot be before the link was established.")
    existing = DapRelationship.objects.select_for_update().filter(customer=customer).first()
    if existing is not None:
        if existing.removed_at is not None:
            raise _refuse(
                "customer",
                f"This customer's DAP relationship was removed on {existing.removed_at:%Y-%m-%d}; "
                "a removed DAP cannot come back. Use GDAP.",
                code="removed",
            )
        if last_activity_at and (
            existing.last_activity_at is None or last_activity_at > existing.last_activity_at
        ):
            existing.last_activity_at = last_activity_at
            existing.save(update_fields=["last_activity_at"])
        return existing
    dap = DapRelationship(
        organization=organization,
        customer=customer,
        established_at=established_at,
        last_activity_at=last_activity_at,
        detected_at=timezone.now(),
    )
    dap.save()
    audit_record(
        actor=None,
        action="dap.imported",
        organization_id=organization.pk,
        target=dap,
        changes={"customer": customer.pk, "established_at": _iso(established_at)},
    )
    return dap


@transaction.atomic
def dap_remove(*, actor: Any, dap: DapRelationship) -> DapRelationship:
    """Remove a legacy DAP link (the recommended step once GDAP covers the customer)."""
    _check_actor(actor, dap.organization_id)
    dap = DapRelationship.objects.select_for_update().get(pk=dap.pk)
    if dap.removed_at is not None:
        raise _refuse(
            "removed_at", f"This DAP relationship was already removed on {dap.removed_at:%Y-%m-%d}."
        )
    dap.removed_at = timezone.now()
    dap.removed_by = actor if getattr(actor, "pk", None) else None
    dap.save(update_fields=["removed_at", "removed_by"])
    audit_record(
        actor=actor,
        action="dap.removed",
        organization_id=dap.organization_id,
        target=dap,
        changes={"customer": dap.customer_id},
    )
    action_item_resolve(organization_id=dap.organization_id, dedupe_key=_dap_key(dap), actor=actor)
    return dap
