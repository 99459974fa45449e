"""Starting the import of a Membership data file (membership.imports) for an organization.

The file's type, size and header are checked now; its rows are checked and written by the
import job (portal.imports): all of them or none unless the valid rows only are asked for, a row
matching a stored row of the organization on the file's key updating it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Organization
from membership.imports import IMPORTERS
from portal.imports import Importer, import_start
from portal.jobs import JobRun

__all__ = ("membership_import_start",)


@transaction.atomic
def membership_import_start(
    importer: Importer | str,
    *,
    organization: Organization,
    upload,
    actor: Any,
    valid_rows_only: bool = False,
) -> JobRun:
    """Queue the import of `upload` for `organization`; UploadRejected (no job) when the file cannot
    be imported at all (not a table, too large, a required column missing)."""
    importer = IMPORTERS[importer] if isinstance(importer, str) else importer
    return import_start(
        importer,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )
