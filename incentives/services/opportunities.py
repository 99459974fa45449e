"""Vendor-seller (MSX) opportunities shared with a partner: one through the API, or a file.

The API checks one opportunity (`incentives.opportunity_import.opportunity_row_check`); a file goes
through the one import pipeline (portal.imports, layout and loader in `incentives.imports`), which
checks every row before anything is written: any bad row rejects the file with every row's problems
unless the valid rows only are asked for. Either way an MSX opportunity ID already shared with the
organization is updated (value, stage, seller, close date); one shared with another partner
organization is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from incentives.imports import OPPORTUNITY_IMPORTER
from incentives.models import Opportunity
from incentives.opportunity_import import customers_by_tenant, opportunity_row_check
from portal.audit import audit_record
from portal.imports import import_start
from portal.jobs import JobRun
from portal.locks import lock_many

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


@transaction.atomic
def opportunities_import(
    *, organization: Organization, file: UploadedFile, actor: Any, valid_rows_only: bool = False
) -> JobRun:
    """Check an opportunity file's type and header now and queue its import for `organization`
    (CSV, TSV, XLSX or a ZIP of one); UploadRejected when it cannot be imported at all.

    The job checks every row (incentives.imports): a file with any problem writes nothing unless
    `valid_rows_only`; the opportunities written are audited as one import."""
    return import_start(
        OPPORTUNITY_IMPORTER,
        file,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )
