"""How Membership data gets into the portal: CSV or XLSX files the vendor uploads in the admin.

One importer reads every kind of file; an `ImportSpec` per file says which columns it has, which
model field each fills and how a cell is read (by default from the model field: its type, length,
choices and validators), which cells identify a row, and any check across a row's cells.

A file is checked in full before anything is written (`portal.uploads`): any bad row rejects the
whole file, with every problem listed by spreadsheet row number and column. This module reads and
checks; `membership.services.imports.file_import` writes a good file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import Organization, PartnerLocation
from earnings import periods
from membership.models import (
    Certification,
    MarketplaceBilledSale,
    MarketplaceLicense,
    PersonCertification,
    SurfaceAssessment,
    VmImageUsage,
)
from portal.uploads import RowError, read_table, validate_rows

__all__ = (
    "BILLED_SALES",
    "IMPORTS",
    "LICENSE_REPORT",
    "PERSON_CERTIFICATIONS",
    "SURFACE_ASSESSMENTS",
    "VM_IMAGE_REPORT",
    "Column",
    "ImportContext",
    "ImportResult",
    "ImportSpec",
    "file_rows_clean",
    "row_key",
    "stored_key",
)

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
# XLSX date cells arrive as "2026-10-01 00:00:00".
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(:00)?$")


@dataclass
class ImportContext:
    """What cells are checked against: the organization's locations, the certification catalogue."""

    organization: Organization
    today: date
    locations: dict[str, int] = field(default_factory=dict)
    certifications: dict[str, Certification] = field(default_factory=dict)

    @classmethod
    def load(cls, organization: Organization) -> ImportContext:
        return cls(
            organization=organization,
            today=timezone.localdate(),
            locations=dict(
                PartnerLocation.objects.filter(organization=organization).values_list("partner_id", "id")
            ),
            certifications={c.code.upper(): c for c in Certification.objects.all()},
        )


#: Reads one non-empty cell; raises ValueError with the message the person reads.
Parser = Callable[[str, ImportContext], Any]


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    parse: Parser
    #: The column may be left out of the file and its cells left empty (stored as `empty`).
    optional: bool = False
    empty: Any = None


@dataclass(frozen=True)
class ImportSpec:
    code: str
    title: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    #: Fields that identify a row of the organization; the first must not be text.
    key: tuple[str, ...]
    #: Checks across a row's cleaned values: (field, message) for each problem.
    check_row: Callable[[dict[str, Any], ImportContext], list[tuple[str, str]]] | None = None

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @property
    def required_headers(self) -> list[str]:
        return [column.header for column in self.columns if not column.optional]

    def header_of(self, field_name: str) -> str:
        return next(column.header for column in self.columns if column.field == field_name)


@dataclass
class ImportResult:
    spec: ImportSpec
    organization: Organization
    created: int = 0
    updated: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated

    def __str__(self) -> str:
        return (
            f"{self.spec.title}: {self.rows} rows imported for {self.organization} "
            f"({self.created} new, {self.updated} updated)."
        )


# --- Cell parsers ------------------------------------------------------------------------------------


def parse_date(value: str, context: ImportContext | None = None) -> date:
    match = _MIDNIGHT.match(value)
    try:
        return date.fromisoformat(match.group(1) if match else value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_month(value: str, context: ImportContext | None = None) -> date:
    """`YYYY-MM`, or the first day of the month as a date."""
    if re.fullmatch(r"\d{4}-\d{2}", value):
        try:
            return periods.parse_month(value)
        except ValueError:
            pass
    else:
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None and day.day == 1:
            return day
    raise ValueError(f"{value!r} is not a month (YYYY-MM, or the month's first day)")


def _country(value: str, context: ImportContext) -> str:
    code = value.upper()
    if not _COUNTRY.match(code):
        raise ValueError(f"{value!r} is not a two-letter country code (ISO 3166-1, e.g. US)")
    return code


def _email(value: str, context: ImportContext) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not an email address") from None
    return value.lower()


def _location(value: str, context: ImportContext) -> int:
    try:
        return context.locations[value]
    except KeyError:
        raise ValueError(f"{value!r} is not the PartnerID of a location of {context.organization}") from None


def _certification(value: str, context: ImportContext) -> Certification:
    try:
        return context.certifications[value.upper()]
    except KeyError:
        raise ValueError(f"{value!r} is not a certification code of the catalogue (e.g. MS-700)") from None


def _text(max_length: int) -> Parser:
    def parse(value: str, context: ImportContext) -> str:
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return parse


def _choice(choices: list[tuple[Any, Any]]) -> Parser:
    by_text = {}
    for stored, label in choices:
        by_text[str(stored).lower()] = stored
        by_text[str(label).lower()] = stored
    allowed = ", ".join(str(stored) for stored, _ in choices)

    def parse(value: str, context: ImportContext) -> Any:
        try:
            return by_text[value.lower()]
        except KeyError:
            raise ValueError(f"{value!r} is not one of {allowed}") from None

    return parse


def _whole_number(value: str, context: ImportContext) -> int:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    if number < 0:
        raise ValueError(f"{value} must not be negative")
    return int(number)


def _decimal(max_digits: int, decimal_places: int) -> Parser:
    limit = Decimal(10) ** (max_digits - decimal_places)

    def parse(value: str, context: ImportContext) -> Decimal:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        if -number.as_tuple().exponent > decimal_places:
            raise ValueError(f"{value} has more than {decimal_places} decimal places")
        if abs(number) >= limit:
            raise ValueError(f"{value} is too large")
        if number < 0:
            raise ValueError(f"{value} must not be negative")
        return number

    return parse


def _uuid(value: str, context: ImportContext) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a GUID") from None


def _boolean(value: str, context: ImportContext) -> bool:
    text = value.lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (or true/false, 1/0)")


def _parser_for(model_field: models.Field) -> Parser:
    """The cell parser a model field implies; the field's own validators run after it."""
    if model_field.choices:
        parse = _choice(list(model_field.choices))
    elif isinstance(model_field, models.EmailField):
        parse = _email
    elif isinstance(model_field, models.CharField):
        parse = _text(model_field.max_length)
    elif isinstance(model_field, models.DateField):
        parse = parse_date
    elif isinstance(model_field, models.BooleanField):
        parse = _boolean
    elif isinstance(model_field, models.DecimalField):
        parse = _decimal(model_field.max_digits, model_field.decimal_places)
    elif isinstance(model_field, models.IntegerField):
        parse = _whole_number
    elif isinstance(model_field, models.UUIDField):
        parse = _uuid
    else:  # pragma: no cover - a spec naming a field of another type is a programming error
        raise TypeError(f"No cell parser for {model_field!r}")

    def parse_and_validate(value: str, context: ImportContext) -> Any:
        cleaned = parse(value, context)
        try:
            model_field.run_validators(cleaned)
        except ValidationError as exc:
            raise ValueError(f"{value}: {' '.join(exc.messages)}") from None
        return cleaned

    return parse_and_validate


def column(
    model: type[models.Model],
    field_name: str,
    *,
    header: str | None = None,
    parse: Parser | None = None,
    optional: bool = False,
) -> Column:
    """A column filling `model.field_name`: header and parser from the model field unless given."""
    model_field = model._meta.get_field(field_name)
    return Column(
        header=header or capfirst(str(model_field.verbose_name)),
        field=field_name,
        parse=parse or _parser_for(model_field),
        optional=optional,
        empty="" if isinstance(model_field, models.CharField) and not model_field.null else None,
    )


# --- The files ---------------------------------------------------------------------------------------

LOCATION_HEADER = "Partner location (PartnerID)"


def _license_check(row: dict[str, Any], context: ImportContext) -> list[tuple[str, str]]:
    problems = []
    if row["term_end"] < row["term_start"]:
        problems.append(("term_end", f"{row['term_end']} is before the term start {row['term_start']}"))
    if row["licenses_assigned"] > row["licenses_purchased"]:
        problems.append(
            (
                "licenses_assigned",
                f"{row['licenses_assigned']} assigned is more than the "
                f"{row['licenses_purchased']} licenses purchased",
            )
        )
    return problems


def _certification_check(row: dict[str, Any], context: ImportContext) -> list[tuple[str, str]]:
    problems = []
    if row["earned_on"] > context.today:
        problems.append(("earned_on", f"{row['earned_on']} is in the future"))
    if row["expires_on"] is not None and row["expires_on"] <= row["earned_on"]:
        problems.append(("expires_on", f"{row['expires_on']} is not after the day it was earned"))
    return problems


LICENSE_REPORT = ImportSpec(
    code="license_report",
    title="Marketplace license report",
    model=MarketplaceLicense,
    columns=(
        column(MarketplaceLicense, "date"),
        column(MarketplaceLicense, "offer_name"),
        column(MarketplaceLicense, "offer_id"),
        column(MarketplaceLicense, "plan_name"),
        column(MarketplaceLicense, "plan_id"),
        column(MarketplaceLicense, "customer_name"),
        column(MarketplaceLicense, "customer_tenant_id"),
        column(MarketplaceLicense, "country", parse=_country),
        column(MarketplaceLicense, "licenses_purchased"),
        column(MarketplaceLicense, "licenses_assigned"),
        column(MarketplaceLicense, "license_status"),
        column(MarketplaceLicense, "subscription_id"),
        column(MarketplaceLicense, "term_start"),
        column(MarketplaceLicense, "term_end"),
    ),
    key=("date", "subscription_id", "plan_id"),
    check_row=_license_check,
)

VM_IMAGE_REPORT = ImportSpec(
    code="vm_image_report",
    title="VM image version report",
    model=VmImageUsage,
    columns=(
        column(VmImageUsage, "month", parse=parse_month),
        column(VmImageUsage, "offer_name"),
        column(VmImageUsage, "plan_sku"),
        column(VmImageUsage, "image_version"),
        column(VmImageUsage, "os_type"),
        column(VmImageUsage, "customer_count"),
        column(VmImageUsage, "deployments"),
        column(VmImageUsage, "active_vms"),
        column(VmImageUsage, "normalized_usage_hours"),
        column(VmImageUsage, "raw_usage_hours"),
        column(VmImageUsage, "country", parse=_country),
        column(VmImageUsage, "is_latest_version"),
    ),
    key=("month", "offer_name", "plan_sku", "image_version", "country"),
)

SURFACE_ASSESSMENTS = ImportSpec(
    code="surface_assessments",
    title="Surface assessment completions",
    model=SurfaceAssessment,
    columns=(
        column(SurfaceAssessment, "learner_name"),
        column(SurfaceAssessment, "email"),
        column(SurfaceAssessment, "location", header=LOCATION_HEADER, parse=_location),
        column(SurfaceAssessment, "country", parse=_country),
        column(SurfaceAssessment, "assessment_name"),
        column(SurfaceAssessment, "completed_on"),
        column(SurfaceAssessment, "score"),
        column(SurfaceAssessment, "status"),
    ),
    key=("completed_on", "email", "assessment_name"),
)

PERSON_CERTIFICATIONS = ImportSpec(
    code="person_certifications",
    title="Person certifications",
    model=PersonCertification,
    columns=(
        column(PersonCertification, "learner_name"),
        column(PersonCertification, "email"),
        column(PersonCertification, "certification", header="Certification code", parse=_certification),
        column(PersonCertification, "earned_on"),
        column(PersonCertification, "expires_on", optional=True),
        column(PersonCertification, "location", header=LOCATION_HEADER, parse=_location, optional=True),
    ),
    key=("earned_on", "email", "certification"),
    check_row=_certification_check,
)

BILLED_SALES = ImportSpec(
    code="billed_sales",
    title="Marketplace billed sales",
    model=MarketplaceBilledSale,
    columns=(
        column(MarketplaceBilledSale, "billed_on", header="Month", parse=parse_month),
        column(MarketplaceBilledSale, "offer_id", header="Offer ID"),
        column(MarketplaceBilledSale, "offer_name", header="Offer name"),
        column(MarketplaceBilledSale, "amount_usd", header="Amount (USD)"),
    ),
    key=("billed_on", "offer_id"),
)

IMPORTS: dict[str, ImportSpec] = {
    spec.code: spec
    for spec in (LICENSE_REPORT, VM_IMAGE_REPORT, SURFACE_ASSESSMENTS, PERSON_CERTIFICATIONS, BILLED_SALES)
}


# --- The importer ------------------------------------------------------------------------------------


def _key_part(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    return value.lower() if isinstance(value, str) else value


def row_key(spec: ImportSpec, values: Mapping[str, Any]) -> tuple:
    """The cells of a cleaned row that identify it (`spec.key`), compared case-insensitively."""
    return tuple(_key_part(values[name]) for name in spec.key)


def stored_key(spec: ImportSpec, obj: models.Model) -> tuple:
    """`row_key` of a stored row."""
    return tuple(_key_part(getattr(obj, obj._meta.get_field(name).attname)) for name in spec.key)


def file_rows_clean(
    spec: ImportSpec, *, organization: Organization, file: UploadedFile
) -> list[dict[str, Any]]:
    """Every row of the file checked; the cleaned rows, or UploadRejected naming each bad cell.

    Writes nothing.
    """
    frame = read_table(file, required_columns=spec.required_headers)
    context = ImportContext.load(organization)
    first_row: dict[tuple, int] = {}

    def check(number: int, row: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
        errors: list[RowError] = []
        cleaned: dict[str, Any] = {}
        for col in spec.columns:
            text = row.get(col.header, "")
            if not text:
                if col.optional:
                    cleaned[col.field] = col.empty
                else:
                    errors.append(RowError(number, col.header, "is empty"))
                continue
            try:
                cleaned[col.field] = col.parse(text, context)
            except ValueError as exc:
                errors.append(RowError(number, col.header, str(exc)))
        if errors:
            return cleaned, errors
        if spec.check_row is not None:
            for field_name, message in spec.check_row(cleaned, context):
                errors.append(RowError(number, spec.header_of(field_name), message))
        key = row_key(spec, cleaned)
        if key in first_row:
            where = ", ".join(spec.header_of(name) for name in spec.key)
            errors.append(RowError(number, None, f"repeats row {first_row[key]} (same {where})"))
        else:
            first_row[key] = number
        return cleaned, errors

    return validate_rows(frame, check)
