"""How Membership data gets into the portal: files the vendor uploads in the admin, one per
organization, through the one import pipeline (portal.imports).

A layout per file: its columns are read as the model field they fill says (type, length, choices,
range: `_column`), checks across a row's cells are vectorised `Rule`s, the PartnerID and
certification code cells must name a row that exists (`Reference`, in SQL), and the cells that
identify a row are the layout's key (a repeat inside the file is a problem) and the table's unique
key, so a corrected report updates its rows and the same file imported twice changes nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import connection, models
from django.utils import timezone
from django.utils.text import capfirst
from psycopg import sql as pgsql

from membership.models import (
    Certification,
    MarketplaceBilledSale,
    MarketplaceLicense,
    PersonCertification,
    SurfaceAssessment,
    VmImageUsage,
)
from portal.audit import audit_record
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    DECIMAL,
    INTEGER,
    TEXT,
    UUID,
    Column,
    Importer,
    Layout,
    Reference,
    Rule,
    Staging,
    register,
)
from portal.imports.staging import CREATED, UNCHANGED, UPDATED
from portal.jobs import JobRun

__all__ = (
    "BILLED_SALES",
    "IMPORTERS",
    "LICENSE_REPORT",
    "LOCATION_HEADER",
    "PERSON_CERTIFICATIONS",
    "SURFACE_ASSESSMENTS",
    "VM_IMAGE_REPORT",
)

LOCATION_HEADER = "Partner location (PartnerID)"
COUNTRY = {
    "pattern": r"[A-Za-z]{2}",
    "pattern_help": "is not a two-letter country code (ISO 3166-1, e.g. US)",
    "upper": True,
}
#: An address as people write it (what Django's EmailValidator accepts, less quoted and IP forms).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = {
    "pattern": rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}",
    "pattern_help": "is not an email address",
    "lower": True,
}
#: A month: `YYYY-MM`, or its first day as a date (a spreadsheet's date cell).
MONTH_FORMATS = ("%Y-%m", "%Y-%m-%d")
MONTH_HELP = "is not a month (YYYY-MM, or the month's first day)"


# --- Columns read as their model field says -----------------------------------------------------------


def _range(model_field: models.Field) -> dict[str, int]:
    """The smallest and largest whole number the field (its validators and database column) takes."""
    low, high = [], []
    for validator in model_field.validators:
        code = getattr(validator, "code", "")
        if code == "min_value":
            low.append(validator.limit_value)
        elif code == "max_value":
            high.append(validator.limit_value)
    return {"min_value": max(low, default=None), "max_value": min(high, default=None)}


def _column(model: type[models.Model], name: str, header: str | None = None, **options: Any) -> Column:
    """The column filling `model.name`: its header the field's verbose name unless given, its kind,
    length, choices and range the field's. Nullable fields are optional columns."""
    model_field = model._meta.get_field(name)
    spec: dict[str, Any] = {"kind": TEXT}
    if model_field.choices:
        spec = {"kind": CHOICE, "choices": tuple(str(value) for value, _ in model_field.choices)}
    elif isinstance(model_field, models.EmailField):
        spec = {**EMAIL, "max_length": model_field.max_length}
    elif isinstance(model_field, models.CharField):
        spec = {"max_length": model_field.max_length}
    elif isinstance(model_field, models.DateField):
        spec = {"kind": DATE}
    elif isinstance(model_field, models.BooleanField):
        spec = {"kind": BOOLEAN}
    elif isinstance(model_field, models.DecimalField):
        spec = {"kind": DECIMAL, "min_value": 0}  # see _decimal_rules for digits and places
    elif isinstance(model_field, models.IntegerField):
        spec = {"kind": INTEGER, **_range(model_field)}
    elif isinstance(model_field, models.UUIDField):
        spec = {"kind": UUID}
    if model_field.null:
        spec.update(required=False, blank=True)
    header = header or capfirst(str(model_field.verbose_name))
    return Column(header, **{**spec, **options, "field": name})


def _decimal_rules(model: type[models.Model], columns: tuple[Column, ...]) -> tuple[Rule, ...]:
    """A decimal cell fits its field: no more decimal places than it keeps, no more digits."""
    rules = []
    for column in columns:
        if column.kind != DECIMAL:
            continue
        model_field = model._meta.get_field(column.staged_name)
        places, limit = (
            model_field.decimal_places,
            10 ** (model_field.max_digits - model_field.decimal_places),
        )
        rules += [
            Rule(
                column.name,
                f"has more than {places} decimal places",
                lambda rows, n=column.staged_name, p=places: rows[n].notna() & (rows[n].round(p) != rows[n]),
            ),
            Rule(
                column.name, f"is {limit:,} or more", lambda rows, n=column.staged_name, m=limit: rows[n] >= m
            ),
        ]
    return tuple(rules)


def _month_rule(staged: str) -> Rule:
    """A month given as a date must be the month's first day."""
    return Rule(staged, MONTH_HELP, lambda rows: rows[staged].notna() & (rows[staged].dt.day != 1))


def _day(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%d")


def _whole(values: pd.Series) -> pd.Series:
    return values.astype("int64").astype(str)


def _layout(
    code: str,
    title: str,
    model: type[models.Model],
    columns: tuple[Column, ...],
    key: tuple[str, ...],
    rules: tuple[Rule, ...] = (),
    references: tuple[Reference, ...] = (),
) -> Layout:
    return Layout(
        name=f"membership.{code}",
        title=title,
        columns=columns,
        key=key,
        rules=rules + _decimal_rules(model, columns),
        references=references,
    )


# A row with a problem is staged as written, an empty cell as '' (not NULL): '' is let through here,
# the empty cell is reported (or allowed) by its column.
_LOCATION = Reference(
    "location",
    "SELECT partner_id FROM accounts_partnerlocation WHERE organization_id = %(organization)s "
    "UNION ALL SELECT ''",
    "is not the PartnerID of a location of this organization",
)

# --- The files -----------------------------------------------------------------------------------------

LICENSE_REPORT = _layout(
    "license_report",
    "Marketplace license report",
    MarketplaceLicense,
    (
        _column(MarketplaceLicense, "date"),
        _column(MarketplaceLicense, "offer_name"),
        # Partner Center keeps offer and plan IDs in lower case.
        _column(MarketplaceLicense, "offer_id", lower=True),
        _column(MarketplaceLicense, "plan_name"),
        _column(MarketplaceLicense, "plan_id", lower=True),
        _column(MarketplaceLicense, "customer_name"),
        _column(MarketplaceLicense, "customer_tenant_id"),
        _column(MarketplaceLicense, "country", **COUNTRY),
        _column(MarketplaceLicense, "licenses_purchased"),
        _column(MarketplaceLicense, "licenses_assigned"),
        _column(MarketplaceLicense, "license_status"),
        _column(MarketplaceLicense, "subscription_id"),
        _column(MarketplaceLicense, "term_start"),
        _column(MarketplaceLicense, "term_end"),
    ),
    key=("date", "subscription_id", "plan_id"),
    rules=(
        Rule(
            "term_end",
            lambda rows: "is before the term start " + _day(rows["term_start"]),
            lambda rows: rows["term_end"] < rows["term_start"],
        ),
        Rule(
            "licenses_assigned",
            lambda rows: "is more than the " + _whole(rows["licenses_purchased"]) + " licenses purchased",
            lambda rows: rows["licenses_assigned"] > rows["licenses_purchased"],
        ),
    ),
)

VM_IMAGE_REPORT = _layout(
    "vm_image_report",
    "VM image version report",
    VmImageUsage,
    (
        _column(VmImageUsage, "month", formats=MONTH_FORMATS),
        _column(VmImageUsage, "offer_name"),
        _column(VmImageUsage, "plan_sku", lower=True),
        _column(VmImageUsage, "image_version"),
        _column(VmImageUsage, "os_type"),
        _column(VmImageUsage, "customer_count"),
        _column(VmImageUsage, "deployments"),
        _column(VmImageUsage, "active_vms"),
        _column(VmImageUsage, "normalized_usage_hours"),
        _column(VmImageUsage, "raw_usage_hours"),
        _column(VmImageUsage, "country", **COUNTRY),
        _column(VmImageUsage, "is_latest_version"),
    ),
    key=("month", "offer_name", "plan_sku", "image_version", "country"),
    rules=(_month_rule("month"),),
)

SURFACE_ASSESSMENTS = _layout(
    "surface_assessments",
    "Surface assessment completions",
    SurfaceAssessment,
    (
        _column(SurfaceAssessment, "learner_name"),
        _column(SurfaceAssessment, "email"),
        _column(SurfaceAssessment, "location", LOCATION_HEADER, max_length=20),
        _column(SurfaceAssessment, "country", **COUNTRY),
        _column(SurfaceAssessment, "assessment_name"),
        _column(SurfaceAssessment, "completed_on"),
        _column(SurfaceAssessment, "score"),
        _column(SurfaceAssessment, "status"),
    ),
    key=("completed_on", "email", "assessment_name"),
    references=(_LOCATION,),
)

PERSON_CERTIFICATIONS = _layout(
    "person_certifications",
    "Person certifications",
    PersonCertification,
    (
        _column(PersonCertification, "learner_name"),
        _column(PersonCertification, "email"),
        _column(PersonCertification, "certification", "Certification code", max_length=20, upper=True),
        _column(PersonCertification, "earned_on"),
        _column(PersonCertification, "expires_on"),
        _column(PersonCertification, "location", LOCATION_HEADER, max_length=20),
    ),
    key=("earned_on", "email", "certification"),
    rules=(
        Rule(
            "earned_on",
            "is in the future",
            lambda rows: rows["earned_on"] > pd.Timestamp(timezone.localdate()),
        ),
        Rule(
            "expires_on",
            lambda rows: "is not after the day it was earned (" + _day(rows["earned_on"]) + ")",
            lambda rows: rows["expires_on"] <= rows["earned_on"],
        ),
    ),
    references=(
        _LOCATION,
        Reference(
            "certification",
            f"SELECT upper(code) FROM {Certification._meta.db_table} UNION ALL SELECT ''",
            "is not a certification code of the catalogue (e.g. MS-700)",
        ),
    ),
)

BILLED_SALES = _layout(
    "billed_sales",
    "Marketplace billed sales",
    MarketplaceBilledSale,
    (
        _column(MarketplaceBilledSale, "billed_on", "Month", formats=MONTH_FORMATS),
        _column(MarketplaceBilledSale, "offer_id", "Offer ID", lower=True),
        _column(MarketplaceBilledSale, "offer_name", "Offer name"),
        _column(MarketplaceBilledSale, "amount_usd", "Amount (USD)"),
    ),
    key=("billed_on", "offer_id"),
    rules=(_month_rule("billed_on"),),
)


# --- Writing the valid rows ----------------------------------------------------------------------------


def _upsert_resolved(
    staging: Staging, *, model: type[models.Model], key: tuple[str, ...], values: dict[str, str], joins: str
) -> None:
    """`Staging.upsert` for a table with foreign keys found from a cell (a location by its PartnerID,
    a certification by its code): `values` maps each column to SQL over the staged row `s` and the
    `joins`. A row equal to the stored one is not written; every valid row gets its outcome."""
    table = model._meta.db_table
    names = list(values)
    changed = [name for name in names if name not in key]
    ident = pgsql.Identifier

    def listed(
        template: str, columns: list[str] | tuple[str, ...], separator: str = ", "
    ) -> pgsql.Composable:
        return pgsql.SQL(separator).join(pgsql.SQL(template).format(ident(name)) for name in columns)

    statement = pgsql.SQL(
        """
        WITH source AS MATERIALIZED (
            SELECT s.line, {selected} FROM {staging} s {joins} WHERE s.errors IS NULL
        ), written AS (
            INSERT INTO {table} AS t (organization_id, {names})
            SELECT {organization}, {names} FROM source
            ON CONFLICT (organization_id, {key}) DO UPDATE SET {assign}
            WHERE ({stored}) IS DISTINCT FROM ({incoming})
            RETURNING t.id, {returned}, (t.xmax = 0) AS created
        )
        UPDATE {staging} s
        SET outcome = CASE WHEN w.created THEN {created} ELSE {updated} END
        FROM source r JOIN written w ON {match}
        WHERE s.line = r.line
        """
    ).format(
        selected=pgsql.SQL(", ").join(
            pgsql.SQL("{} AS {}").format(pgsql.SQL(expression), ident(name))
            for name, expression in values.items()
        ),
        staging=staging.identifier,
        joins=pgsql.SQL(joins),
        table=ident(table),
        names=listed("{}", names),
        organization=pgsql.Literal(staging.organization_id),
        key=listed("{}", key),
        assign=listed("{0} = EXCLUDED.{0}", changed),
        stored=listed("t.{}", changed),
        incoming=listed("EXCLUDED.{}", changed),
        returned=listed("t.{}", key),
        created=pgsql.Literal(CREATED),
        updated=pgsql.Literal(UPDATED),
        match=listed("w.{0} = r.{0}", key, " AND "),
    )
    unchanged = pgsql.SQL("UPDATE {} SET outcome = {} WHERE errors IS NULL AND outcome IS NULL").format(
        staging.identifier, pgsql.Literal(UNCHANGED)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))
        cursor.execute(unchanged.as_string(cursor.cursor))


def _cast(layout: Layout, name: str) -> str:
    column = layout.column(name)
    return f's."{column.staged_name}"::{column.sql_type}'


def _staged(layout: Layout, model: type[models.Model]) -> dict[str, str]:
    """Each column the layout fills, from its staged cell."""
    return {model._meta.get_field(c.staged_name).column: c.staged_name for c in layout.columns}


def _write(layout: Layout, model: type[models.Model]):
    def write(staging: Staging) -> None:
        staging.upsert(table=model._meta.db_table, key=layout.key, columns=_staged(layout, model))

    return write


def _surface_write(staging: Staging) -> None:
    layout = SURFACE_ASSESSMENTS
    values = {
        name: _cast(layout, name) for name in _staged(layout, SurfaceAssessment) if name != "location_id"
    }
    _upsert_resolved(
        staging,
        model=SurfaceAssessment,
        key=("completed_on", "email", "assessment_name"),
        values={**values, "location_id": "l.id"},
        joins="JOIN accounts_partnerlocation l ON l.partner_id = s.location "
        f"AND l.organization_id = {int(staging.organization_id)}",
    )


def _certifications_write(staging: Staging) -> None:
    layout = PERSON_CERTIFICATIONS
    _upsert_resolved(
        staging,
        model=PersonCertification,
        key=("email", "certification_id", "earned_on"),
        values={
            "learner_name": _cast(layout, "learner_name"),
            "email": _cast(layout, "email"),
            "certification_id": "c.id",
            "earned_on": _cast(layout, "earned_on"),
            "expires_on": _cast(layout, "expires_on"),
            "location_id": "l.id",
        },
        joins=f"JOIN {Certification._meta.db_table} c ON upper(c.code) = s.certification "
        "LEFT JOIN accounts_partnerlocation l ON l.partner_id = s.location "
        f"AND l.organization_id = {int(staging.organization_id)}",
    )


def _loader(code: str, write):
    def load(staging: Staging, job: JobRun) -> dict[str, Any]:
        write(staging)
        counts = staging.outcome_counts()
        audit_record(
            actor=job.created_by,
            action=f"membership.{code}.imported",
            organization_id=job.organization_id,
            target=job,
            changes={
                "file_name": job.parameters.get("file_name", ""),
                "created": counts.get(CREATED, 0),
                "updated": counts.get(UPDATED, 0),
            },
        )
        return None

    return load


#: The importers by code (`license_report`, …), registered with the pipeline.
IMPORTERS: dict[str, Importer] = {
    layout.name.removeprefix("membership."): register(
        Importer(layout=layout, load=_loader(layout.name.removeprefix("membership."), write))
    )
    for layout, write in (
        (LICENSE_REPORT, _write(LICENSE_REPORT, MarketplaceLicense)),
        (VM_IMAGE_REPORT, _write(VM_IMAGE_REPORT, VmImageUsage)),
        (SURFACE_ASSESSMENTS, _surface_write),
        (PERSON_CERTIFICATIONS, _certifications_write),
        (BILLED_SALES, _write(BILLED_SALES, MarketplaceBilledSale)),
    )
}
