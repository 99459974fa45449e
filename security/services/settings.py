"""The partner tenant's security settings: the security contact and the MFA policies (spec §1–2).

The security contact is one of the three mandatory requirements (spec §1.1), so a change here
re-evaluates the score's Action Center items at once instead of waiting for the nightly snapshot.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from portal.audit import apply_changes, audit_record
from portal.locks import lock
from security.models import SecuritySettings, UserMfaPolicy
from security.services.requirements import security_requirements_refresh

__all__ = (
    "EDITABLE_FIELDS",
    "security_settings_for",
    "security_settings_update",
    "user_mfa_policy_set",
)

#: The fields a partner may change, and how each is cleaned.
EDITABLE_FIELDS = (
    "security_contact_name",
    "security_contact_email",
    "security_contact_phone",
    "security_defaults_enabled",
    "conditional_access_requires_mfa",
    "conditional_access_policy_count",
)
_PHONE_CHARACTERS = set("0123456789+-() ./")


def security_settings_for(organization: Organization) -> SecuritySettings:
    """The organization's settings row, created with everything off the first time it is asked for."""
    settings_row, _ = SecuritySettings.objects.get_or_create(organization=organization)
    return settings_row


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: "This setting cannot be changed here." for name in unknown})
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "security_contact_name" in fields:
        name = str(fields["security_contact_name"] or "").strip()
        if len(name) > 150:
            errors["security_contact_name"] = "Use at most 150 characters."
        cleaned["security_contact_name"] = name
    if "security_contact_email" in fields:
        email = str(fields["security_contact_email"] or "").strip().lower()
        if not email:
            errors["security_contact_email"] = (
                "A security contact email is required: Microsoft sends security notices to it."
            )
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors["security_contact_email"] = f"{email!r} is not a valid email address."
        cleaned["security_contact_email"] = email
    if "security_contact_phone" in fields:
        phone = str(fields["security_contact_phone"] or "").strip()
        if len(phone) > 40 or not set(phone) <= _PHONE_CHARACTERS:
            errors["security_contact_phone"] = (
                "Use digits, spaces and + - ( ) only, at most 40 characters (e.g. +49 30 1234567)."
            )
        cleaned["security_contact_phone"] = phone
    for flag in ("security_defaults_enabled", "conditional_access_requires_mfa"):
        if flag in fields:
            if not isinstance(fields[flag], bool):
                errors[flag] = "Use true or false."
            cleaned[flag] = fields[flag]
    if "conditional_access_policy_count" in fields:
        count = fields["conditional_access_policy_count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            errors["conditional_access_policy_count"] = "Use a whole number of policies, 0 or more."
        cleaned["conditional_access_policy_count"] = count
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def security_settings_update(*, actor: Any, organization: Organization, **fields: Any) -> SecuritySettings:
    """Change the given settings; the audit row lists each field that changed as [before, after]."""
    cleaned = _clean(fields)
    settings_row = lock(security_settings_for(organization))
    changes = apply_changes(settings_row, cleaned)
    if not changes:
        return settings_row
    settings_row.updated_at = timezone.now()
    settings_row.updated_by = actor if getattr(actor, "pk", None) else None
    settings_row.save(update_fields=[*changes, "updated_at", "updated_by"])
    audit_record(
        actor=actor,
        action="security.settings_updated",
        organization_id=organization.pk,
        target=settings_row,
        changes=changes,
    )
    security_requirements_refresh(organization)
    return settings_row


@transaction.atomic
def user_mfa_policy_set(
    *, actor: Any, user: User, per_user_mfa_enabled: bool, third_party_mfa: bool
) -> UserMfaPolicy:
    """Record the per-user MFA settings of one person of the partner tenant."""
    if user.organization_id is None:
        raise ValidationError({"user": "Only people of a partner organization have MFA policies."})
    if user.is_service_account:
        raise ValidationError(
            {"user": "API clients sign in with client credentials; MFA policies apply to people only."}
        )
    policy, _ = UserMfaPolicy.objects.get_or_create(
        user=user, defaults={"organization_id": user.organization_id}
    )
    policy = lock(policy)
    wanted = {"per_user_mfa_enabled": bool(per_user_mfa_enabled), "third_party_mfa": bool(third_party_mfa)}
    changes = apply_changes(policy, wanted)
    if not changes:
        return policy
    policy.updated_at = timezone.now()
    policy.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        action="security.user_mfa_policy_set",
        organization_id=user.organization_id,
        target=policy,
        changes={"user": user.email, **changes},
    )
    return policy
