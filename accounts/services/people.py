"""Organizations, users, roles, invitations and the ownership transfer."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, Severity
from accounts.models import Invitation, Organization, RoleAssignment, User
from accounts.services.action_center import action_item_raise, action_item_resolve
from portal.audit import audit_record
from portal.capabilities import Capability, can, is_vendor_staff
from portal.notifications import email_queue
from portal.roles import Role

INVITATION_DAYS = 14
COMPLIANCE_ADMIN_KEY = "compliance-admin-missing"


def roles_validate(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({"roles": f"Unknown role(s): {', '.join(unknown)}."})
    return sorted(set(roles))


#: Roles that only the Owner or a Global admin grants or removes.
TOP_ADMIN_ROLES = frozenset({Role.GLOBAL_ADMIN, Role.ACCOUNT_ADMIN})
OWNER_ROLES_MESSAGE = "The Owner's roles change only through the ownership transfer."


def roles_grant_check(*, actor: User, user: User | None, before: set[str], after: set[str]) -> None:
    """The one role-grant rule (README, Security):

    - nobody changes their own roles;
    - Global admin and Account admin are granted or removed only by the Owner or a Global admin,
      and so is Compliance admin (capability `compliance.assign_admin`);
    - a User management admin therefore grants only the roles below those;
    - the Owner's roles change only through the ownership transfer (vendor staff included).
    """
    changed = before ^ after
    if Role.OWNER in changed or Role.OWNER in before:
        raise ValidationError({"roles": OWNER_ROLES_MESSAGE})
    if user is not None and user.pk == actor.pk:
        raise ValidationError({"roles": "You can't change your own roles; ask another admin."})
    if is_vendor_staff(actor):
        return
    if changed & TOP_ADMIN_ROLES and not actor.role_codes & {Role.OWNER, Role.GLOBAL_ADMIN}:
        raise ValidationError(
            {"roles": "Only the Owner or a Global admin grants or removes Global admin and Account admin."}
        )
    if Role.COMPLIANCE_ADMIN in changed and not can(actor, Capability.COMPLIANCE_ADMIN_ASSIGN):
        raise ValidationError(
            {"roles": "Only the Owner or a Global admin assigns the Compliance admin role."}
        )


def compliance_admin_check(*, organization_id: int) -> None:
    """Raise or close the Action Center prompt for a missing Compliance admin (spec §3.2)."""
    has_one = RoleAssignment.objects.filter(
        organization_id=organization_id, role=Role.COMPLIANCE_ADMIN, user__is_active=True
    ).exists()
    if has_one:
        action_item_resolve(organization_id=organization_id, dedupe_key=COMPLIANCE_ADMIN_KEY)
        return
    action_item_raise(
        organization_id=organization_id,
        code=ActionItemCode.COMPLIANCE_ADMIN_MISSING,
        dedupe_key=COMPLIANCE_ADMIN_KEY,
        severity=Severity.MEDIUM,
        title="Assign a Compliance admin",
        body="Every partner needs a Compliance admin: the contact the vendor engages for "
        "verification, legal profile and compliance training. Only a Global admin can assign it.",
        target_url=reverse("accounts:user-list"),
        audience_roles=[Role.GLOBAL_ADMIN, Role.OWNER],
    )


def roles_set(*, user: User, roles: list[str]) -> None:
    RoleAssignment.objects.filter(user=user, location__isnull=True).exclude(role__in=roles).delete()
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(organization_id=user.organization_id, user=user, role=r) for r in roles],
        ignore_conflicts=True,
    )
    for cached in ("role_codes", "role_locations", "capabilities"):
        user.__dict__.pop(cached, None)


@transaction.atomic
def organization_create(
    *, actor: Any, legal_name: str, partner_global_id: str, country: str, **profile: Any
) -> Organization:
    organization = Organization(
        legal_name=legal_name, partner_global_id=partner_global_id, country=country, **profile
    )
    organization.full_clean()
    organization.save()
    audit_record(
        actor=actor, action="organization.created", organization_id=organization.pk, target=organization
    )
    compliance_admin_check(organization_id=organization.pk)
    return organization


@transaction.atomic
def user_create(
    *,
    actor: Any,
    organization: Organization | None,
    email: str,
    password: str | None,
    display_name: str = "",
    roles: list[str] | None = None,
) -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": "A user with this email address already exists."})
    user = User(email=email, display_name=display_name, organization=organization)
    if password is not None:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    roles = roles_validate(roles or [])
    if roles and organization is None:
        raise ValidationError({"roles": "Only members of a partner organization hold roles."})
    if organization is not None:
        roles_set(user=user, roles=roles)
        compliance_admin_check(organization_id=organization.pk)
    audit_record(
        actor=actor,
        action="user.created",
        organization_id=organization.pk if organization else None,
        target=user,
        changes={"roles": roles},
    )
    return user


@transaction.atomic
def user_roles_change(*, actor: User, user: User, roles: list[str]) -> User:
    roles = roles_validate(roles)
    if user.organization_id is None or (
        user.organization_id != actor.organization_id and not is_vendor_staff(actor)
    ):
        raise ValidationError({"user": "Roles can be changed only for users of your organization."})
    if user.is_service_account:
        raise ValidationError({"user": "API clients' roles are set on the API client."})
    before = set(user.role_codes)
    roles_grant_check(actor=actor, user=user, before=before, after=set(roles))
    roles_set(user=user, roles=roles)
    audit_record(
        actor=actor,
        action="user.roles_changed",
        organization_id=user.organization_id,
        target=user,
        changes={"roles": [sorted(before), roles]},
    )
    compliance_admin_check(organization_id=user.organization_id)
    return user


@transaction.atomic
def ownership_transfer(*, actor: User, new_owner: User) -> User:
    """Hand the Owner role to another active person of the organization; the old Owner keeps
    their other roles. The only way the Owner's roles change (audited)."""
    organization_id = new_owner.organization_id
    if organization_id is None or (not is_vendor_staff(actor) and organization_id != actor.organization_id):
        raise ValidationError({"user": "Ownership goes only to a person of your organization."})
    owners = list(
        RoleAssignment.objects.select_for_update()
        .filter(organization_id=organization_id, role=Role.OWNER)
        .select_related("user")
    )
    if not is_vendor_staff(actor) and not any(owner.user_id == actor.pk for owner in owners):
        raise PermissionDenied("Only the Owner transfers ownership.")
    if new_owner.is_service_account or not new_owner.is_active:
        raise ValidationError({"user": "Ownership goes only to an active person, not an API client."})
    if any(owner.user_id == new_owner.pk for owner in owners):
        raise ValidationError({"user": f"{new_owner} is already the Owner."})
    RoleAssignment.objects.filter(pk__in=[owner.pk for owner in owners]).delete()
    RoleAssignment.objects.create(organization_id=organization_id, user=new_owner, role=Role.OWNER)
    for person in (new_owner, *(owner.user for owner in owners)):
        for cached in ("role_codes", "role_locations", "capabilities"):
            person.__dict__.pop(cached, None)
    audit_record(
        actor=actor,
        action="organization.ownership_transferred",
        organization_id=organization_id,
        target=new_owner,
        changes={"owner": [[owner.user.email for owner in owners], new_owner.email]},
    )
    return new_owner


@transaction.atomic
def user_set_active(*, actor: User, user: User, is_active: bool) -> User:
    if user == actor and not is_active:
        raise ValidationError({"is_active": "You cannot deactivate yourself."})
    before = user.is_active
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.activated" if is_active else "user.deactivated",
        organization_id=user.organization_id,
        target=user,
        changes={"is_active": [before, is_active]},
    )
    compliance_admin_check(organization_id=user.organization_id)
    return user


@transaction.atomic
def user_invite(
    *, actor: User, organization: Organization, email: str, roles: list[str], display_name: str = ""
) -> Invitation:
    roles = roles_validate(roles)
    roles_grant_check(actor=actor, user=None, before=set(), after=set(roles))
    return _invitation_create(
        actor=actor, organization=organization, email=email, roles=roles, display_name=display_name
    )


@transaction.atomic
def owner_invite(
    *, actor: User, organization: Organization, email: str, display_name: str = "", global_admin: bool = True
) -> Invitation:
    """The vendor invites the first Owner of an organization it created (the admin's *Invite owner*),
    as Owner and, unless `global_admin` is off, Global admin (as Partner Center's first account).

    The one grant of the Owner role besides the ownership transfer: only by vendor staff, and only
    while the organization has no Owner and no open Owner invitation.
    """
    if not is_vendor_staff(actor):
        raise PermissionDenied("Only vendor staff invite an organization's Owner.")
    Organization.objects.select_for_update().get(pk=organization.pk)  # one Owner invitation at a time
    if RoleAssignment.objects.filter(organization=organization, role=Role.OWNER).exists():
        raise ValidationError({"email": f"{organization} already has an Owner. {OWNER_ROLES_MESSAGE}"})
    open_owner = Invitation.objects.filter(
        organization=organization,
        roles__contains=[Role.OWNER],
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    if open_owner is not None:
        raise ValidationError(
            {"email": f"{open_owner.email} already has an open invitation to become the Owner."}
        )
    roles = [Role.OWNER, Role.GLOBAL_ADMIN] if global_admin else [Role.OWNER]
    return _invitation_create(
        actor=actor, organization=organization, email=email, roles=roles, display_name=display_name
    )


def _invitation_create(
    *, actor: User, organization: Organization, email: str, roles: list[str], display_name: str
) -> Invitation:
    """The one writer of invitations (audited, e-mailed); callers have checked the roles."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": "This person already has an account."})
    if Invitation.objects.filter(organization=organization, email=email, accepted_at__isnull=True).exists():
        raise ValidationError({"email": "This person already has an open invitation."})
    invitation = Invitation(
        organization=organization,
        email=email,
        display_name=display_name,
        roles=roles,
        token=secrets.token_urlsafe(32),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    audit_record(
        actor=actor,
        action="user.invited",
        organization_id=organization.pk,
        target=invitation,
        changes={"email": email, "roles": roles},
    )
    email_queue(
        key=f"invitation:{invitation.pk}",
        to=email,
        title="You're invited to the Partner Portal",
        body=f"{actor} invited you to join {organization.legal_name}. "
        f"Accept within {INVITATION_DAYS} days: choose your password, then set up your second factor.",
        url=reverse("accounts:invitation-accept", args=[invitation.token]),
        organization_id=organization.pk,
        organization_name=organization.legal_name,
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, display_name: str = "") -> User:
    try:
        invitation = Invitation.objects.select_for_update().get(token=token)
    except Invitation.DoesNotExist as exc:
        raise ValidationError({"token": "This invitation link is not valid."}) from exc
    if invitation.accepted_at is not None:
        raise ValidationError({"token": "This invitation was already used."})
    if invitation.expires_at < timezone.now():
        raise ValidationError({"token": "This invitation has expired; ask for a new one."})
    user = user_create(
        actor=invitation.invited_by,
        organization=invitation.organization,
        email=invitation.email,
        password=password,
        display_name=display_name or invitation.display_name,
        roles=invitation.roles,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user
