"""Delegated administration as pages and API read it: GDAP relationships with their roles,
access assignments and history, the customer's approval link, and legacy DAP links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from accounts.models import Customer, User
from portal.tenancy import get_visible_or_404
from security.choices import (
    GDAP_LIVE_STATUSES,
    GLOBAL_ADMINISTRATOR_ROLE_ID,
    AccessAssignmentStatus,
    GdapStatus,
)
from security.models import DapRelationship, EntraRole, GdapAccessAssignment, GdapRelationship
from security.selectors.history import gdap_events

__all__ = (
    "GdapHistoryRow",
    "GdapSummary",
    "customers_matching",
    "dap_relationships",
    "gdap_approval_path",
    "gdap_approval_token",
    "gdap_assignments_shown",
    "gdap_history",
    "gdap_relationship",
    "gdap_relationship_from_token",
    "gdap_relationships",
    "gdap_summary",
)

INVITATION_SALT = "security.gdap.invitation"
STATUS_LABELS = dict(GdapStatus.choices)


def _roles_by_name() -> Prefetch:
    return Prefetch("roles", queryset=EntraRole.objects.order_by("display_name"))


# --- Relationships --------------------------------------------------------------------------------


def gdap_relationships(user: User, *, with_roles: bool = False) -> QuerySet[GdapRelationship]:
    """The relationships a user may see, newest first, with their customer, how many roles each
    grants (`role_count`) and whether one is Global Administrator (`grants_global_admin`); the
    roles themselves too `with_roles` (the API's accessDetails)."""
    grants = GdapRelationship.roles.through.objects.filter(gdaprelationship_id=OuterRef("pk"))
    role_count = grants.order_by().values("gdaprelationship_id").annotate(n=Count("*")).values("n")
    queryset = (
        GdapRelationship.objects.visible_to(user)
        .select_related("customer")
        .annotate(
            role_count=Coalesce(Subquery(role_count), 0),
            grants_global_admin=Exists(grants.filter(entrarole_id=GLOBAL_ADMINISTRATOR_ROLE_ID)),
        )
        .order_by("-created_at", "-id")
    )
    return queryset.prefetch_related(_roles_by_name()) if with_roles else queryset


def gdap_relationship(user: User, pk: int) -> GdapRelationship:
    """One relationship of the user's organization (with its customer, creator and roles), else 404."""
    queryset = GdapRelationship.objects.select_related("customer", "created_by").prefetch_related(
        _roles_by_name()
    )
    return get_visible_or_404(queryset, user, pk=pk)


@dataclass(frozen=True)
class GdapSummary:
    live: int
    expiring: int
    pending: int
    dap: int


def gdap_summary(user: User) -> GdapSummary:
    """The tiles above the list: live, expiring and waiting relationships, DAP links left.

    One count per status (each an index-only scan of (organization, status)) rather than one
    pass over every relationship.
    """
    relationships = GdapRelationship.objects.visible_to(user)
    return GdapSummary(
        live=relationships.filter(status__in=GDAP_LIVE_STATUSES).count(),
        expiring=relationships.filter(status=GdapStatus.EXPIRING).count(),
        pending=relationships.filter(status=GdapStatus.APPROVAL_PENDING).count(),
        dap=DapRelationship.objects.visible_to(user).filter(removed_at__isnull=True).count(),
    )


def gdap_assignments_shown(relationship: GdapRelationship) -> list[GdapAccessAssignment]:
    """The relationship's access assignments that still give access, by group name."""
    return list(
        relationship.access_assignments.exclude(status=AccessAssignmentStatus.DELETED)
        .prefetch_related(_roles_by_name())
        .order_by("security_group_name", "id")
    )


@dataclass(frozen=True)
class GdapHistoryRow:
    when: datetime
    who: str
    status: str
    previous_status: str
    end_at: datetime | None
    auto_extend_days: int | None
    note: str


def _days(duration: timedelta | None) -> int | None:
    return duration.days if duration is not None else None


def gdap_history(relationship: GdapRelationship) -> list[GdapHistoryRow]:
    """Status, end date and auto-extend changes in words, newest first."""
    return [
        GdapHistoryRow(
            when=event.at,
            who=event.who,
            status=STATUS_LABELS.get(event.to_status, event.to_status),
            previous_status=STATUS_LABELS.get(event.from_status, event.from_status),
            end_at=event.end_at,
            auto_extend_days=_days(event.auto_extend_duration),
            note=event.note,
        )
        for event in reversed(gdap_events(relationship))
    ]


# --- The customer's approval link -----------------------------------------------------------------


def gdap_approval_token(relationship: GdapRelationship) -> str:
    """The signed token of the invitation link the customer's admin opens."""
    return signing.dumps({"relationship": relationship.relationship_id}, salt=INVITATION_SALT)


def gdap_approval_path(relationship: GdapRelationship) -> str:
    return reverse("security:gdap-invitation", args=[gdap_approval_token(relationship)])


def gdap_relationship_from_token(token: str) -> GdapRelationship | None:
    """The relationship a link was made for; None for a tampered or unknown link."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        return None
    relationship_id = payload.get("relationship") if isinstance(payload, dict) else None
    return (
        GdapRelationship.objects.select_related("customer", "organization")
        .prefetch_related(_roles_by_name())
        .filter(relationship_id=relationship_id)
        .first()
    )


# --- Customers to request access to ---------------------------------------------------------------


def customers_matching(user: User, text: str, *, limit: int) -> list[Customer]:
    """Customers a user may see named by `text`: its tenant ID or primary domain exactly, else its
    name exactly (case aside), else names containing it; at most `limit`, by name."""
    text = (text or "").strip()
    if not text:
        return []
    customers = Customer.objects.visible_to(user).order_by("name", "id")
    try:
        return list(customers.filter(tenant_id=uuid.UUID(text))[:limit])
    except ValueError:
        pass
    for exact in (Q(domain__iexact=text), Q(name__iexact=text)):
        found = list(customers.filter(exact)[:limit])
        if found:
            return found
    return list(customers.filter(name__icontains=text)[:limit])


# --- Legacy DAP -----------------------------------------------------------------------------------


def dap_relationships(user: User) -> QuerySet[DapRelationship]:
    """The DAP links a user may see, by customer name, with who removed them and whether the
    customer already has a live GDAP relationship (`has_live_gdap`)."""
    live_gdap = GdapRelationship.objects.filter(customer=OuterRef("customer"), status__in=GDAP_LIVE_STATUSES)
    return (
        DapRelationship.objects.visible_to(user)
        .select_related("customer", "removed_by")
        .annotate(has_live_gdap=Exists(live_gdap))
        .order_by("customer__name", "id")
    )
