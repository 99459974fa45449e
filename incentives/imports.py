"""The vendor-seller (MSX) opportunity file, through the one import pipeline (portal.imports): its
layout and how its valid rows are written.

The columns are the documented shape of an opportunity (`incentives.opportunity_import.FIELDS`,
which the API shares). What a column cannot say is a vectorised `Rule` (the estimated value) or a
check in SQL on the staged rows (the customer a row names, an opportunity shared with another
partner organization). Re-importing the same file changes nothing: an opportunity is keyed on its
MSX opportunity ID, and a row equal to the stored opportunity is left alone, its import time
included.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import connection
from psycopg import sql as pgsql

from accounts.models import Customer
from earnings.choices import SolutionArea
from incentives.choices import OpportunityStage
from incentives.models import Opportunity
from incentives.opportunity_import import COLUMNS, MAX_VALUE_USD
from portal.audit import audit_record
from portal.imports import CHOICE, DATE, DECIMAL, UUID, Column, Importer, Layout, Rule, SqlCheck, register
from portal.imports.staging import CREATED, UNCHANGED, UPDATED, Staging
from portal.jobs import JobRun

__all__ = ("OPPORTUNITIES", "OPPORTUNITY_IMPORTER")

_CUSTOMERS = Customer._meta.db_table
_OPPORTUNITIES = Opportunity._meta.db_table
#: An e-mail address as people write one: a dot-atom local part and a domain with a dot.
_EMAIL = (
    r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}"
)


def _uuid(staged: str) -> str:
    """SQL: the staged cell as a uuid, NULL when it is not one. A row with a problem is staged as
    written (braces, capitals, spaces), so the cell is never cast blindly."""
    cell = f"btrim(s.{staged}, '{{}} ')"
    return (
        f"CASE WHEN {cell} ~* '^[0-9a-f]{{8}}(-?[0-9a-f]{{4}}){{3}}-?[0-9a-f]{{12}}$' THEN {cell}::uuid END"
    )


def _values(rows: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(rows["estimated_value_usd"], errors="coerce")


def _more_than_cents(amounts: pd.Series) -> pd.Series:
    """Amounts with more than two decimal places (a float carries ~15 significant digits: the
    tolerance keeps 0.29 from looking like 0.28999999999999998)."""
    cents = amounts * 100
    return (cents - cents.round()).abs() > 1e-6 + cents.abs() * 1e-15


OPPORTUNITIES = Layout(
    name="incentives.opportunities",
    title="Seller opportunities",
    columns=(
        Column(
            "msxOpportunityId",
            pattern=r"\d-[A-Za-z0-9]{4,17}",
            pattern_help="is not an MSX opportunity ID (e.g. 7-3KXYZ12AB)",
            upper=True,
            field="msx_opportunity_id",
        ),
        Column("name", max_length=200, field="name"),
        Column("customerTenantId", kind=UUID, field="customer_tenant_id"),
        Column("solutionArea", kind=CHOICE, choices=tuple(SolutionArea.values), field="solution_area"),
        Column("estimatedValueUSD", kind=DECIMAL, field="estimated_value_usd"),
        Column("sellerName", max_length=150, field="seller_name"),
        Column(
            "stage",
            kind=CHOICE,
            choices=tuple(OpportunityStage.values),
            required=False,
            blank=True,
            field="stage",
        ),
        Column(
            "sellerEmail",
            required=False,
            blank=True,
            max_length=254,
            pattern=_EMAIL,
            pattern_help="is not an e-mail address",
            field="seller_email",
        ),
        Column(
            "closeDate",
            kind=DATE,
            required=False,
            blank=True,
            formats=("%Y-%m-%d", "%m/%d/%Y", "ISO8601"),
            field="close_date",
        ),
    ),
    key=("msxOpportunityId",),
    rules=(
        Rule(
            "estimatedValueUSD",
            f"must be a positive amount below {MAX_VALUE_USD:,} USD",
            lambda rows: (_values(rows) <= 0) | (_values(rows) >= float(MAX_VALUE_USD)),
        ),
        Rule(
            "estimatedValueUSD",
            "has more than two decimal places",
            lambda rows: (_values(rows) > 0) & _more_than_cents(_values(rows)),
        ),
    ),
    checks=(
        SqlCheck(
            "customerTenantId",
            f"{_uuid('customer_tenant_id')} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {_CUSTOMERS} c "
            f"WHERE c.organization_id = %(organization)s AND c.tenant_id = {_uuid('customer_tenant_id')})",
            "is not the tenant ID of a customer of the organization",
        ),
        SqlCheck(
            "msxOpportunityId",
            f"EXISTS (SELECT 1 FROM {_OPPORTUNITIES} o "
            "WHERE o.msx_opportunity_id = upper(btrim(s.msx_opportunity_id)) "
            "AND o.organization_id <> %(organization)s)",
            "is shared with another partner organization",
        ),
    ),
)
assert [column.name for column in OPPORTUNITIES.columns] == COLUMNS, "the documented shape"

#: The columns an import writes (the key, msx_opportunity_id, aside); a changed one updates the row.
_VALUES = (
    "name",
    "customer_id",
    "solution_area",
    "estimated_value_usd",
    "stage",
    "seller_name",
    "seller_email",
    "close_date",
)


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """Each opportunity inserted or updated in one statement, for the importing organization only (an
    ID shared with another organization is never touched); audited as one import."""
    with connection.cursor() as cursor:
        # Planner statistics for the staged rows (a fresh table has none; a plan guessing a handful
        # of rows nests loops over thousands).
        cursor.execute(pgsql.SQL("ANALYZE {}").format(staging.identifier).as_string(cursor.cursor))
    statement = pgsql.SQL(
        """
        WITH rows AS (
            SELECT s.line, s.msx_opportunity_id, s.name, c.id AS customer_id, s.solution_area,
                   s.estimated_value_usd::numeric AS estimated_value_usd,
                   coalesce(s.stage, {default_stage}) AS stage, s.seller_name,
                   coalesce(s.seller_email, '') AS seller_email, s.close_date::date AS close_date
              FROM {staging} s JOIN {customers} c ON c.tenant_id = s.customer_tenant_id::uuid
             WHERE s.errors IS NULL AND c.organization_id = %(organization)s
        ), written AS (
            INSERT INTO {table} AS t (organization_id, msx_opportunity_id, {values}, imported_at)
            SELECT %(organization)s, msx_opportunity_id, {values}, now() FROM rows
            ON CONFLICT (msx_opportunity_id) DO UPDATE SET {set_values}, imported_at = EXCLUDED.imported_at
             WHERE t.organization_id = EXCLUDED.organization_id AND ({stored}) IS DISTINCT FROM ({excluded})
            RETURNING t.msx_opportunity_id, (t.xmax = 0) AS created
        )
        UPDATE {staging} s
           SET outcome = CASE WHEN w.created THEN {created} WHEN w.created IS NOT NULL THEN {updated}
                              ELSE {unchanged} END
          FROM rows r LEFT JOIN written w ON w.msx_opportunity_id = r.msx_opportunity_id
         WHERE s.line = r.line
        RETURNING s.outcome
        """
    ).format(
        staging=staging.identifier,
        customers=pgsql.Identifier(_CUSTOMERS),
        table=pgsql.Identifier(_OPPORTUNITIES),
        default_stage=pgsql.Literal(OpportunityStage.QUALIFY.value),
        values=pgsql.SQL(", ").join(pgsql.Identifier(name) for name in _VALUES),
        set_values=pgsql.SQL(", ").join(
            pgsql.SQL("{0} = EXCLUDED.{0}").format(pgsql.Identifier(name)) for name in _VALUES
        ),
        stored=pgsql.SQL(", ").join(pgsql.SQL("t.{}").format(pgsql.Identifier(n)) for n in _VALUES),
        excluded=pgsql.SQL(", ").join(pgsql.SQL("EXCLUDED.{}").format(pgsql.Identifier(n)) for n in _VALUES),
        created=pgsql.Literal(CREATED),
        updated=pgsql.Literal(UPDATED),
        unchanged=pgsql.Literal(UNCHANGED),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), {"organization": job.organization_id})
        outcomes = [outcome for (outcome,) in cursor.fetchall()]
    audit_record(
        actor=job.created_by,
        action="incentives.opportunities_imported",
        organization_id=job.organization_id,
        target=job,
        changes={
            "file_name": job.parameters.get("file_name", ""),
            "created": outcomes.count(CREATED),
            "updated": outcomes.count(UPDATED),
        },
    )
    return {}


OPPORTUNITY_IMPORTER = register(Importer(layout=OPPORTUNITIES, load=_load))
