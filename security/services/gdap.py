"""GDAP relationships (spec/security.md §3.1, §3.3): the default grant for new customers, requests
and their changes, the customer's approval, Global Administrator removal, renewal and termination.

The shared rules (Graph's field rules, the status table, the history) are `gdap_rules`; access
assignments, the nightly job and legacy DAP have their own modules beside this one.

"Expiring" is the last stretch of "active" (the partner still holds the roles), so what Graph
allows while active is allowed while expiring too; turning the auto-extension on moves an
expiring relationship back to active.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer, Organization
from portal.audit import audit_record, audit_record_each
from portal.history import Entry, history_record_many
from portal.locks import lock
from security.choices import (
    GDAP_AUTO_EXTEND_DAYS,
    GDAP_AUTO_EXTEND_NONE,
    GDAP_DISPLAY_NAME_MAX,
    GDAP_LIVE_STATUSES,
    GDAP_MAX_DURATION,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.models import EntraRole, GdapRelationship
from security.services.gdap_rules import (
    RENEWABLE_STATUSES,
    assignments_delete,
    auto_extend_checked,
    display_name_checked,
    duration_checked,
    entra_roles,
    expiring_warning_resolve,
    gdap_transition,
    iso_value,
    record_change,
    refuse,
    role_ids_of,
    touch,
    tracked_values,
)

__all__ = (
    "gdap_auto_extend_set",
    "gdap_customer_approve",
    "gdap_default_grant",
    "gdap_global_admin_remove",
    "gdap_lock_for_approval",
    "gdap_relationship_create",
    "gdap_relationship_update",
    "gdap_renew",
    "gdap_terminate",
)

S = GdapStatus
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
            Entry.of(
                relationship, to_status=relationship.status, note="Created", data=tracked_values(relationship)
            )
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
    if customer.organization_id != organization.pk:
        raise refuse("customer", "This customer does not belong to your organization.")
    name = display_name_checked(organization.pk, display_name)
    duration_checked(duration)
    roles = entra_roles(role_ids)
    auto_extend_checked(auto_extend_duration, [str(role.pk) for role in roles])
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
    record_change(relationship, actor=actor, from_status="", changed=())
    relationship.roles.set(roles)
    audit_record(
        actor=actor,
        action="gdap.created",
        organization_id=organization.pk,
        target=relationship,
        changes={
            "customer": customer.pk,
            "display_name": name,
            "duration": iso_value(duration),
            "auto_extend_duration": iso_value(auto_extend_duration),
            "roles": sorted(str(role.pk) for role in roles),
        },
    )
    return relationship


def _while_created(relationship: GdapRelationship, field: str, label: str) -> None:
    if relationship.status != S.CREATED:
        raise refuse(
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
        raise refuse(
            "auto_extend_duration",
            f"The auto-extension can only be changed while the relationship is created or active; "
            f"it is {relationship.status}.",
            code="locked",
        )
    auto_extend_checked(auto_extend_duration, role_ids)
    change = [iso_value(relationship.auto_extend_duration), iso_value(auto_extend_duration)]
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
    relationship = lock(relationship, "customer")
    changes: dict[str, list[Any]] = {}
    current_roles = role_ids_of(relationship)
    new_roles: list[EntraRole] | None = None

    if display_name is not None and display_name.strip() != relationship.display_name:
        _while_created(relationship, "display_name", "display name")
        name = display_name_checked(relationship.organization_id, display_name, exclude_pk=relationship.pk)
        changes["display_name"] = [relationship.display_name, name]
        relationship.display_name = name
    if duration is not None and duration != relationship.duration:
        _while_created(relationship, "duration", "duration")
        duration_checked(duration)
        changes["duration"] = [iso_value(relationship.duration), iso_value(duration)]
        relationship.duration = duration
    if role_ids is not None:
        roles = entra_roles(role_ids)
        wanted = {str(role.pk) for role in roles}
        if wanted != current_roles:
            _while_created(relationship, "role_ids", "roles")
            changes["roles"] = [sorted(current_roles), sorted(wanted)]
            new_roles, current_roles = roles, wanted
    if auto_extend_duration is not None:
        changes |= _set_auto_extend(relationship, auto_extend_duration, role_ids=current_roles)
    elif new_roles is not None:
        # New roles must still allow the auto-extension already set.
        auto_extend_checked(relationship.auto_extend_duration, current_roles)
    if not changes:
        return relationship

    touch(relationship, changes, actor=actor, action="gdap.updated")
    if new_roles is not None:
        relationship.roles.set(new_roles)
    if relationship.status == S.EXPIRING and relationship.auto_extends:
        gdap_transition(actor=actor, relationship=relationship, to_status=S.ACTIVE)
        expiring_warning_resolve(relationship, actor)
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
    relationship = lock(relationship, "customer")
    if relationship.status != S.CREATED:
        raise refuse(
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
    relationship = lock(relationship, "customer")
    if relationship.status != S.APPROVAL_PENDING:
        message = {
            S.CREATED: "This request has not been sent for approval yet.",
            S.EXPIRED: "This request expired: requests not approved within 90 days end. "
            "Ask your partner for a new one.",
        }.get(
            relationship.status,
            f"This request was already answered; the relationship is {relationship.status}.",
        )
        raise refuse("status", message, code="transition")
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
    relationship = lock(relationship, "customer")
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise refuse(
            "status",
            f"Global Administrator can only be removed while the relationship is active; "
            f"it is {relationship.status}.",
            code="transition",
        )
    roles = role_ids_of(relationship)
    if GLOBAL_ADMINISTRATOR_ROLE_ID not in roles:
        raise refuse("role_ids", "This relationship does not include Global Administrator.", code="absent")
    if roles == {GLOBAL_ADMINISTRATOR_ROLE_ID}:
        raise refuse(
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
    touch(
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
    raise refuse("display_name", "No free display name is left for a renewal; create the request by hand.")


@transaction.atomic
def gdap_renew(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """A new `created` request with the same customer, roles, duration and auto-extension.

    The expiring warning of the old relationship is resolved: the renewal covers it.
    """
    relationship = lock(relationship, "customer")
    if relationship.status not in RENEWABLE_STATUSES:
        raise refuse(
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
        role_ids=sorted(role_ids_of(relationship)),
        auto_extend_duration=relationship.auto_extend_duration,
    )
    audit_record(
        actor=actor,
        action="gdap.renewed",
        organization_id=relationship.organization_id,
        target=relationship,
        changes={"renewal": renewal.relationship_id},
    )
    expiring_warning_resolve(relationship, actor)
    return renewal


@transaction.atomic
def gdap_terminate(*, actor: Any, relationship: GdapRelationship) -> GdapRelationship:
    """active/expiring → terminationRequested → terminating → terminated; assignments deleted."""
    relationship = lock(relationship, "customer")
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise refuse(
            "status",
            f"Only an active or expiring relationship can be terminated; this one is {relationship.status}.",
            code="transition",
        )
    gdap_transition(actor=actor, relationship=relationship, to_status=S.TERMINATION_REQUESTED)
    gdap_transition(actor=actor, relationship=relationship, to_status=S.TERMINATING)
    assignments_delete(relationship)
    gdap_transition(
        actor=actor, relationship=relationship, to_status=S.TERMINATED, fields={"end_at": timezone.now()}
    )
    expiring_warning_resolve(relationship, actor)
    return relationship
