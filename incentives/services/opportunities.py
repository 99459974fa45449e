"""Vendor-seller (MSX) opportunities shared with a partner: one through the API, or a CSV/XLSX file.

Both paths check a row the same way (`incentives.opportunity_import.opportunity_row_check`). A file
is validated in full before anything is written: any bad row rejects it with every row's problems
(portal.uploads), and the rows of a good file are written together. An MSX opportunity ID already
shared with the organization is updated (value, stage, seller, close date); one shared with another
partner organization is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from incentives.models import Opportunity
from incentives.opportunity_import import REQUIRED_COLUMNS, customers_by_tenant, opportunity_row_check
from portal.audit import audit_record
from portal.locks import lock_many
from portal.uploads import RowError, read_table, validate_rows

__all__ = ("OpportunityImport", "opportunities_import", "opportunity_upsert")

_UPDATED_FIELDS = ("name", "customer", "solution_area", "estimated_value_usd", "stage", "seller_name")


@dataclass
class OpportunityImport:
    created: int = 0
    updated: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated


def _write(organization: Organization, rows: list[dict[str, Any]]) -> tuple[OpportunityImport, list]:
    report, written = OpportunityImport(), []
    now = timezone.now()
    shared = Opportunity.objects.filter(
        organization=organization, msx_opportunity_id__in=[row["msx_opportunity_id"] for row in rows]
    )
    existing = {opportunity.msx_opportunity_id: opportunity for opportunity in lock_many(shared)}
    for row in rows:
        opportunity = existing.get(row["msx_opportunity_id"])
        if opportunity is None:
            opportunity = Opportunity(organization=organization, imported_at=now, **row)
            opportunity.full_clean()
            opportunity.save()
            report.created += 1
        else:
            for name, value in row.items():
                setattr(opportunity, name, value)
            opportunity.imported_at = now
            opportunity.full_clean()
            opportunity.save(update_fields=[*_UPDATED_FIELDS, "seller_email", "close_date", "imported_at"])
            report.updated += 1
        written.append(opportunity)
    return report, written


@transaction.atomic
def opportunity_upsert(*, organization: Organization, data: dict[str, Any], actor: Any) -> Opportunity:
    """Share one opportunity with `organization` (or update it); raises ValidationError per field."""
    customers = customers_by_tenant(organization)
    cleaned, errors = opportunity_row_check(
        {k: "" if v is None else str(v) for k, v in data.items()},
        organization=organization,
        customers=customers,
    )
    if errors:
        by_field: dict[str, list[str]] = {}
        for row_error in errors:
            by_field.setdefault(row_error.column or "non_field_errors", []).append(row_error.message)
        raise ValidationError(by_field)
    report, (opportunity,) = _write(organization, [cleaned])
    audit_record(
        actor=actor,
        action="incentives.opportunity_created" if report.created else "incentives.opportunity_updated",
        organization_id=organization.pk,
        target=opportunity,
        changes={"msx_opportunity_id": opportunity.msx_opportunity_id, "stage": opportunity.stage},
    )
    return opportunity


def opportunities_import(*, organization: Organization, file: UploadedFile, actor: Any) -> OpportunityImport:
    """Import a CSV/XLSX of opportunities for `organization`: all rows or none (UploadRejected)."""
    frame = read_table(file, required_columns=REQUIRED_COLUMNS)
    customers = customers_by_tenant(organization)
    seen: dict[str, int] = {}

    def check(row_number: int, row: dict[str, str]):
        cleaned, errors = opportunity_row_check(
            row, organization=organization, customers=customers, row_number=row_number
        )
        msx_id = str(row.get("msxOpportunityId") or "").strip().upper()
        if msx_id:
            if msx_id in seen:
                errors.append(
                    RowError(row_number, "msxOpportunityId", f"{msx_id} is also on row {seen[msx_id]}")
                )
                cleaned = None
            else:
                seen[msx_id] = row_number
        return cleaned, errors

    rows = validate_rows(frame, check)
    with transaction.atomic():
        report, _ = _write(organization, rows)
        audit_record(
            actor=actor,
            action="incentives.opportunities_imported",
            organization_id=organization.pk,
            target=None,
            changes={
                "file_name": getattr(file, "name", "") or "upload",
                "created": report.created,
                "updated": report.updated,
            },
        )
    return report
