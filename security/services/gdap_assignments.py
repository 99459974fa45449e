"""GDAP access assignments (spec/security.md §3.2): a security group of the partner tenant gets some
of a live relationship's roles in the customer's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.audit import audit_record
from portal.locks import lock
from security.choices import GDAP_LIVE_STATUSES, AccessAssignmentStatus
from security.models import EntraRole, GdapAccessAssignment, GdapRelationship
from security.services.gdap_rules import entra_roles, refuse, role_ids_of

__all__ = ("gdap_assignment_create", "gdap_assignment_delete", "gdap_assignment_update")


def _assignment_roles(relationship: GdapRelationship, role_ids: Iterable[str]) -> list[EntraRole]:
    roles = entra_roles(role_ids)
    outside = sorted(role.display_name for role in roles if str(role.pk) not in role_ids_of(relationship))
    if outside:
        raise refuse(
            "role_ids",
            f"An access assignment may only use its relationship's roles; not in it: {', '.join(outside)}.",
            code="not_in_relationship",
        )
    return roles


def _check_live(relationship: GdapRelationship) -> None:
    if relationship.status not in GDAP_LIVE_STATUSES:
        raise refuse(
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
    relationship = lock(relationship, "customer")
    _check_live(relationship)
    try:
        group_id = uuid.UUID(str(security_group_id))
    except ValueError:
        raise refuse("security_group_id", "Enter the security group's object id (a GUID).") from None
    name = (security_group_name or "").strip()
    if not name:
        raise refuse("security_group_name", "Enter the security group's name.", code="required")
    if len(name) > GdapAccessAssignment._meta.get_field("security_group_name").max_length:
        raise refuse("security_group_name", "The security group's name is too long (120 characters at most).")
    roles = _assignment_roles(relationship, role_ids)
    if (
        relationship.access_assignments.filter(security_group_id=group_id)
        .exclude(status=AccessAssignmentStatus.DELETED)
        .exists()
    ):
        raise refuse(
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


def _locked(assignment: GdapAccessAssignment) -> GdapAccessAssignment:
    """The assignment and its relationship, locked relationship first (as every GDAP writer does)."""
    relationship = lock(assignment.relationship, "customer")
    assignment = lock(assignment)
    assignment.relationship = relationship
    return assignment


@transaction.atomic
def gdap_assignment_update(
    *, actor: Any, assignment: GdapAccessAssignment, role_ids: list[str]
) -> GdapAccessAssignment:
    assignment = _locked(assignment)
    if assignment.status == AccessAssignmentStatus.DELETED:
        raise refuse("status", "This access assignment was deleted; create a new one.", code="deleted")
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
    assignment = _locked(assignment)
    if assignment.status == AccessAssignmentStatus.DELETED:
        raise refuse("status", "This access assignment is already deleted.", code="deleted")
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
