"""Writing a checked Membership data file (membership.imports) for an organization.

A good file is written in one transaction: a row whose identifying cells match a stored row of the
organization updates it (so a corrected report can be loaded again), the others are inserted.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction

from accounts.models import Organization
from membership.imports import IMPORTS, ImportResult, ImportSpec, file_rows_clean, row_key, stored_key
from portal.audit import audit_record
from portal.locks import lock, lock_many

__all__ = ("file_import",)

_BATCH = 1000


def _rows_write(spec: ImportSpec, organization: Organization, rows: list[dict[str, Any]]) -> ImportResult:
    model = spec.model
    first = spec.key[0]
    stored = lock_many(
        model.objects.filter(organization=organization, **{f"{first}__in": {row[first] for row in rows}})
    )
    existing: dict[tuple, models.Model] = {}
    for obj in stored:
        existing.setdefault(stored_key(spec, obj), obj)
    fields = [col.field for col in spec.columns if col.field not in spec.key]
    to_create, to_update = [], []
    for row in rows:
        obj = existing.get(row_key(spec, row))
        if obj is None:
            obj = model(organization=organization)
            to_create.append(obj)
            names = row.keys()
        else:
            to_update.append(obj)
            names = fields
        for name in names:
            _assign(obj, name, row[name])
    model.objects.bulk_create(to_create, batch_size=_BATCH)
    if to_update and fields:
        model.objects.bulk_update(to_update, fields, batch_size=_BATCH)
    return ImportResult(spec=spec, organization=organization, created=len(to_create), updated=len(to_update))


def _assign(obj: models.Model, name: str, value: Any) -> None:
    """Set a field; a relation given as its primary key is set through its `_id` attribute."""
    model_field = obj._meta.get_field(name)
    if model_field.is_relation and value is not None and not isinstance(value, models.Model):
        setattr(obj, model_field.attname, value)
    else:
        setattr(obj, name, value)


def file_import(
    spec: ImportSpec | str, *, organization: Organization, file: UploadedFile, actor: Any
) -> ImportResult:
    """Check the whole file, then write its rows for `organization` in one transaction.

    Any bad row raises `portal.uploads.UploadRejected` listing every problem, and nothing is
    written. A row matching a stored row on the spec's key updates it; the others are inserted.
    """
    spec = IMPORTS[spec] if isinstance(spec, str) else spec
    rows = file_rows_clean(spec, organization=organization, file=file)
    with transaction.atomic():
        # One import of an organization's rows at a time: two would both insert the same new rows.
        lock(organization)
        result = _rows_write(spec, organization, rows)
        audit_record(
            actor=actor,
            action=f"membership.{spec.code}.imported",
            organization_id=organization.pk,
            changes={
                "file_name": getattr(file, "name", "") or "upload",
                "created": result.created,
                "updated": result.updated,
            },
        )
    return result
