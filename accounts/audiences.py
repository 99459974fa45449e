"""Who an event concerns, as a User queryset for `portal.notifications.notify`: the people of an
organization whose roles give a capability, or named people (an assignee, a claim's owner) — always
people, never API clients' service accounts, and only the organization's own."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User
from portal.capabilities import ROLE_CAPABILITIES, capabilities_of_roles


def people(organization_id: int) -> QuerySet[User]:
    """The organization's active people."""
    return User.objects.filter(organization_id=organization_id, is_active=True, is_service_account=False)


def people_who_can(organization_id: int, *capabilities: str) -> QuerySet[User]:
    """The organization's people whose roles give any of `capabilities`."""
    if set(capabilities) & capabilities_of_roles(frozenset()):
        return people(organization_id)  # everyone has it
    roles = [role for role, granted in ROLE_CAPABILITIES.items() if granted & set(capabilities)]
    return people(organization_id).filter(
        pk__in=User.objects.filter(role_assignments__role__in=roles).values("pk")
    )


def people_named(organization_id: int, ids: Iterable[int | None]) -> QuerySet[User]:
    """These people (an assignee, an owner), if they are the organization's."""
    return people(organization_id).filter(pk__in=[pk for pk in ids if pk is not None])
