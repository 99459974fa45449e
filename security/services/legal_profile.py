"""The legal business profile (spec/accounts.md §1): the organization's legal fields, whose change
restarts the verified checks that depend on them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Organization
from portal.audit import apply_changes, audit_record
from portal.locks import lock
from security.choices import LEGAL_FIELDS, LEGAL_FIELDS_REVERIFY, CheckStatus
from security.models import VerificationCheck
from security.selectors.compliance import checks_restarted_by
from security.services.compliance import check_move

__all__ = ("legal_profile_update",)


def _clean_value(field: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.strip()
        return value.upper() if field == "country" else value
    return value


@transaction.atomic
def legal_profile_update(
    *, actor: Any, organization: Organization, **fields: Any
) -> tuple[Organization, list[VerificationCheck]]:
    """Change the legal business profile; returns the organization and the checks restarted.

    A new legal name, address or primary contact restarts the affected verified checks of every
    enrollment (verified → pending); checks in other statuses are left as they are.
    """
    unknown = sorted(set(fields) - set(LEGAL_FIELDS))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError("This is not a field of the legal business profile.", code="unknown")
                for name in unknown
            }
        )
    organization = lock(organization)
    changes = apply_changes(organization, {name: _clean_value(name, value) for name, value in fields.items()})
    if not changes:
        return organization, []
    organization.full_clean()
    organization.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="security.legal_profile.updated",
        organization_id=organization.pk,
        target=organization,
        changes=changes,
    )
    restarted = []
    for check in checks_restarted_by(organization, changes):
        labels = sorted(
            {name.replace("_", " ") for name in changes if check.kind in LEGAL_FIELDS_REVERIFY.get(name, ())}
        )
        restarted.append(
            check_move(
                lock(check, "enrollment"),
                to_status=CheckStatus.PENDING,
                actor=actor,
                reason=f"The legal profile changed ({', '.join(labels)}): verification restarted.",
            )
        )
    return organization, restarted
