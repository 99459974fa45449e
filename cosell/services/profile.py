"""The capability profile (spec §6): the only writers of `CapabilityProfile`, `CaseStudy` (customer
references) and `Solution`, for the profile pages and the vendor's admin.

Every write checks the row (`full_clean`) and leaves an audit row with what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from cosell.models import CapabilityProfile, CaseStudy, Solution
from portal.audit import apply_changes, audit_record
from portal.locks import lock

__all__ = (
    "CASE_STUDY_FIELDS",
    "PROFILE_FIELDS",
    "SOLUTION_FIELDS",
    "capability_profile_delete",
    "capability_profile_save",
    "case_study_delete",
    "case_study_save",
    "solution_delete",
    "solution_save",
)

PROFILE_FIELDS = (
    "solution_areas",
    "industries",
    "products",
    "services",
    "countries_served",
    "languages",
    "designations",
    "specializations",
    "certifications",
    "deal_size_band",
)
CASE_STUDY_FIELDS = ("title", "customer_name", "industry", "products", "outcome_text", "url", "is_public")
SOLUTION_FIELDS = ("solution_id", "name", "solution_area", "co_sell_ready", "azure_ip_co_sell_eligible")

Row = TypeVar("Row", CaseStudy, Solution)


def _checked(values: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValidationError({name: ["Not a field you can set here."] for name in unknown})
    return dict(values)


#: The audit log's name of each model ("case_study.updated").
_ACTION = {CapabilityProfile: "capability_profile", CaseStudy: "case_study", Solution: "solution"}


def _save(
    model: type[Row],
    *,
    organization: Any,
    actor: Any,
    row: Row | None,
    values: Mapping[str, Any],
    fields: Sequence[str],
) -> Row:
    values = _checked(values, fields)
    if row is None:
        row = model(organization=organization, **values)
        changes = {name: [None, value] for name, value in values.items()}
        action = "created"
    else:
        if row.organization_id != organization.pk:
            raise ValidationError("This row belongs to another organization.")
        row = lock(row)
        changes = apply_changes(row, values)
        action = "updated"
        if not changes:
            return row
    row.full_clean(exclude=["organization"])
    row.save()
    audit_record(
        actor=actor,
        action=f"{_ACTION[model]}.{action}",
        organization_id=organization.pk,
        target=row,
        changes=changes,
    )
    return row


def _delete(row: models.Model, *, actor: Any) -> None:
    row = lock(row)
    audit_record(
        actor=actor,
        action=f"{_ACTION[type(row)]}.deleted",
        organization_id=row.organization_id,
        target=row,
        changes={"name": str(row)},
    )
    row.delete()


@transaction.atomic
def case_study_save(
    *, organization: Any, actor: Any, case_study: CaseStudy | None = None, values: Mapping[str, Any]
) -> CaseStudy:
    """A new customer reference of `organization` (`case_study` None) or a change to one."""
    return _save(
        CaseStudy,
        organization=organization,
        actor=actor,
        row=case_study,
        values=values,
        fields=CASE_STUDY_FIELDS,
    )


@transaction.atomic
def case_study_delete(*, case_study: CaseStudy, actor: Any) -> None:
    _delete(case_study, actor=actor)


@transaction.atomic
def solution_save(
    *, organization: Any, actor: Any, solution: Solution | None = None, values: Mapping[str, Any]
) -> Solution:
    """A new published solution of `organization` (`solution` None) or a change to one."""
    return _save(
        Solution, organization=organization, actor=actor, row=solution, values=values, fields=SOLUTION_FIELDS
    )


@transaction.atomic
def solution_delete(*, solution: Solution, actor: Any) -> None:
    _delete(solution, actor=actor)


@transaction.atomic
def capability_profile_save(
    *,
    organization: Any,
    actor: Any,
    values: Mapping[str, Any],
) -> CapabilityProfile:
    """The organization's profile: created on its first save, then changed."""
    values = _checked(values, PROFILE_FIELDS)
    profile, created = CapabilityProfile.objects.get_or_create(organization=organization)
    profile = lock(profile)
    changes = apply_changes(profile, values)
    if changes or created:
        profile.updated_at = timezone.now()
        profile.full_clean(exclude=["organization"], validate_constraints=False)
        profile.save()
        audit_record(
            actor=actor,
            action=f"{_ACTION[CapabilityProfile]}.{'created' if created else 'updated'}",
            organization_id=organization.pk,
            target=profile,
            changes=changes,
        )
    return profile


@transaction.atomic
def capability_profile_delete(*, profile: CapabilityProfile, actor: Any) -> None:
    """Remove an organization's profile (the vendor's admin): sellers' matching no longer finds it."""
    _delete(profile, actor=actor)
