"""Customer list import: the file through the import pipeline (the layout is accounts.imports)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.imports import CUSTOMER_IMPORTER
from accounts.models import Organization
from portal.audit import audit_record
from portal.imports import import_start
from portal.jobs import JobRun


@transaction.atomic
def customers_import_start(
    *, actor: Any, organization: Organization, upload, valid_rows_only: bool = False
) -> JobRun:
    """Check the file's header now and queue its import; UploadRejected when it cannot be imported."""
    job = import_start(
        CUSTOMER_IMPORTER,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )
    audit_record(
        actor=actor,
        action="customer.import_started",
        organization_id=organization.pk,
        target=job,
        changes={"file_name": job.parameters["file_name"], "valid_rows_only": valid_rows_only},
    )
    return job
