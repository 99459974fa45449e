"""Customer-tenant files the partner brings in (spec §2.2), through the one import pipeline
(portal.imports): customers' MFA figures (the Partner Center "Customer MFA statistics" export) and
customers' Azure subscriptions with their spending budgets.

Each layout declares its columns once; what a column cannot say is a vectorised `Rule` (counts that
must add up, budgets) or a check in SQL on the staged rows (the customer a row names, a
subscription already recorded for another customer). The loaders write set-based, in the import's
one transaction. Re-importing the same file changes nothing: MFA figures are keyed on the customer
(one row per customer), a subscription on its customer and ID, and a row equal to the stored one is
left alone, its checked time included.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import connection
from psycopg import sql as pgsql

from accounts.models import Customer
from portal.audit import audit_record
from portal.imports import DECIMAL, INTEGER, UUID, Column, Importer, Layout, Rule, SqlCheck, register
from portal.imports.staging import CREATED, UNCHANGED, UPDATED, Staging
from portal.iso import CURRENCIES
from portal.jobs import JobRun
from security.models import CustomerAzureSubscription, CustomerMfaStat

__all__ = ("AZURE_SUBSCRIPTIONS", "AZURE_SUBSCRIPTIONS_IMPORTER", "CUSTOMER_MFA", "CUSTOMER_MFA_IMPORTER")

_CUSTOMERS = Customer._meta.db_table
_SUBSCRIPTIONS = CustomerAzureSubscription._meta.db_table
#: A count of people or policies: a PositiveIntegerField.
_COUNT_MAX = 2_147_483_647
_YES = ("yes", "y", "true", "1", "on", "enabled")
_NO = ("no", "n", "false", "0", "off", "disabled")


# --- Checks in SQL on the staged rows ----------------------------------------------------------------


def _uuid(staged: str, row: str = "s") -> str:
    """SQL: a staged cell as a uuid, NULL when it is not one. A row with a problem is staged as
    written (braces, capitals, spaces), so the cell is never cast blindly."""
    cell = f"btrim({row}.{staged}, '{{}} ')"
    return (
        f"CASE WHEN {cell} ~* '^[0-9a-f]{{8}}(-?[0-9a-f]{{4}}){{3}}-?[0-9a-f]{{12}}$' THEN {cell}::uuid END"
    )


def _own_tenant(column: str, staged: str) -> SqlCheck:
    """The tenant ID must be one of the importing organization's customers'."""
    tenant = _uuid(staged)
    return SqlCheck(
        column,
        f"{tenant} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {_CUSTOMERS} c "
        f"WHERE c.organization_id = %(organization)s AND c.tenant_id = {tenant})",
        "is not the tenant ID of one of your customers; add the customer first or fix the ID",
    )


def _analyze(staging: Staging) -> None:
    """Planner statistics for the staged rows before the loader joins them (a fresh table has none,
    and a plan guessing a handful of rows nests loops over thousands)."""
    _execute(pgsql.SQL("ANALYZE {}").format(staging.identifier))


def _execute(statement: pgsql.Composable, params: dict[str, Any] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), params)
        return cursor.fetchall() if cursor.description else []


# --- Customer MFA figures ----------------------------------------------------------------------------


def _number(series: pd.Series) -> pd.Series:
    return series.astype("int64").astype(str)


def _admins_with_mfa_message(rows: pd.DataFrame) -> pd.Series:
    return (
        _number(rows["admins_with_mfa"])
        + " admins with MFA is more than the "
        + _number(rows["admins_total"])
        + " admins in the tenant."
    )


def _admins_message(rows: pd.DataFrame) -> pd.Series:
    return (
        _number(rows["admins_total"])
        + " admins is more than the "
        + _number(rows["users_total"])
        + " users in the tenant."
    )


def _non_admins_message(rows: pd.DataFrame) -> pd.Series:
    return (
        _number(rows["non_admins_with_mfa"])
        + " non-admins with MFA is more than the "
        + _number(rows["users_total"] - rows["admins_total"])
        + " non-admin users ("
        + _number(rows["users_total"])
        + " users − "
        + _number(rows["admins_total"])
        + " admins)."
    )


def _count(name: str, **options: Any) -> Column:
    return Column(name, kind=INTEGER, min_value=0, max_value=_COUNT_MAX, **options)


def _by_name(row: str = "s") -> str:
    """SQL: the row names its customer by name (its tenant ID cell is empty)."""
    return f"nullif(btrim({row}.tenant_id), '') IS NULL"


def _name(row: str = "s") -> str:
    return f"lower(btrim({row}.customer_name))"


#: The organization's customers' names as a row names them (each set is hashed once per check).
_NAMES = f"SELECT lower(btrim(c.name)) FROM {_CUSTOMERS} c WHERE c.organization_id = %(organization)s"
_SHARED_NAMES = f"{_NAMES} GROUP BY 1 HAVING count(*) > 1"
#: Every staged row with the customer it names (by tenant ID, or by a name only one customer has),
#: whether a row before it names the same customer, and whether one of those names it by name. One
#: pass over the file, hashed: the checks below read it once, not once per row.
_SAME_CUSTOMER = f"""
    SELECT line, by_name,
           line <> min(line) OVER same AS repeated,
           coalesce(bool_or(by_name) OVER (same ORDER BY line ROWS BETWEEN UNBOUNDED PRECEDING
                                            AND 1 PRECEDING), false) AS after_a_name
      FROM (
        SELECT o.line, c.id AS customer_id, false AS by_name
          FROM {{staging}} o JOIN {_CUSTOMERS} c
            ON c.organization_id = %(organization)s AND c.tenant_id = {_uuid("tenant_id", "o")}
        UNION ALL
        SELECT o.line, c.id, true
          FROM {{staging}} o JOIN {_CUSTOMERS} c
            ON c.organization_id = %(organization)s AND lower(btrim(c.name)) = {_name("o")}
         WHERE {_by_name("o")} AND {_name("o")} NOT IN ({_SHARED_NAMES})
      ) named
    WINDOW same AS (PARTITION BY customer_id)
"""

#: The Partner Center "Customer MFA statistics" export (spec §2.2): one row per customer tenant,
#: named by its tenant ID or, when that is empty, by its exact name.
CUSTOMER_MFA = Layout(
    name="security.customer_mfa",
    title="Customer MFA statistics",
    columns=(
        Column("Customer", blank=True, max_length=200, field="customer_name"),
        Column("Customer tenant ID", kind=UUID, blank=True, field="tenant_id"),
        _count("Admins with MFA enabled", field="admins_with_mfa"),
        _count("Admins", field="admins_total"),
        _count("Non-admins with MFA enabled", field="non_admins_with_mfa"),
        _count("Total users", field="users_total"),
        Column(
            "Security defaults",
            required=False,
            blank=True,
            pattern="(?i)" + "|".join(_YES + _NO),
            pattern_help="is not yes or no (Enabled/Disabled also work)",
            lower=True,
            field="security_defaults",
        ),
        _count("Conditional access policies", required=False, blank=True, field="ca_policies_count"),
    ),
    key=("Customer tenant ID",),
    rules=(
        Rule(
            "Customer",
            "Give the customer tenant ID or the customer's name.",
            lambda rows: rows["tenant_id"].isna() & rows["customer_name"].isna(),
        ),
        Rule(
            "Admins with MFA enabled",
            _admins_with_mfa_message,
            lambda rows: rows["admins_with_mfa"] > rows["admins_total"],
        ),
        Rule("Admins", _admins_message, lambda rows: rows["admins_total"] > rows["users_total"]),
        Rule(
            "Non-admins with MFA enabled",
            _non_admins_message,
            lambda rows: (
                (rows["admins_total"] <= rows["users_total"])
                & (rows["non_admins_with_mfa"] > rows["users_total"] - rows["admins_total"])
            ),
        ),
    ),
    checks=(
        _own_tenant("Customer tenant ID", "tenant_id"),
        SqlCheck(
            "Customer",
            f"{_by_name()} AND {_name()} NOT IN ({_NAMES})",
            "is not the name of one of your customers",
        ),
        SqlCheck(
            "Customer",
            f"{_by_name()} AND {_name()} IN ({_SHARED_NAMES})",
            "is the name of several of your customers; give the tenant ID instead",
        ),
        # A tenant ID repeated is the layout's key; a customer also named by name is found here.
        SqlCheck(
            "Customer",
            f"{_by_name()} AND s.line IN (SELECT line FROM ({_SAME_CUSTOMER}) r WHERE r.repeated)",
            "names the same customer as an earlier row",
        ),
        SqlCheck(
            "Customer tenant ID",
            f"s.line IN (SELECT line FROM ({_SAME_CUSTOMER}) r WHERE NOT r.by_name AND r.after_a_name)",
            "is the tenant ID of a customer an earlier row names",
        ),
    ),
)

#: Each valid staged row with the customer it names: by tenant ID, or by name when that is empty.
_MFA_CUSTOMERS = f"""
    SELECT s.line, c.id AS customer_id, c.name AS customer, s.tenant_id IS NULL AS by_name
      FROM {{staging}} s JOIN {_CUSTOMERS} c ON c.tenant_id = s.tenant_id::uuid
     WHERE s.errors IS NULL AND s.tenant_id IS NOT NULL AND c.organization_id = %(organization)s
    UNION ALL
    SELECT s.line, c.id, c.name, true
      FROM {{staging}} s JOIN {_CUSTOMERS} c ON lower(btrim(c.name)) = lower(s.customer_name)
     WHERE s.errors IS NULL AND s.tenant_id IS NULL AND c.organization_id = %(organization)s
"""
_MFA_FIGURES = (
    "admins_with_mfa",
    "admins_total",
    "non_admins_with_mfa",
    "users_total",
    "security_defaults_on",
    "ca_policies_count",
)


def _mfa_load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """The figures of each customer named, inserted or replaced in one statement (a row equal to the
    stored figures is not written); audited as one import."""
    organization_id = job.organization_id
    _analyze(staging)
    figures = pgsql.SQL(", ").join(pgsql.Identifier(name) for name in _MFA_FIGURES)
    statement = pgsql.SQL(
        """
        WITH named AS ({customers}), figures AS (
            SELECT n.line, n.customer_id, s.admins_with_mfa::bigint AS admins_with_mfa,
                   s.admins_total::bigint AS admins_total,
                   s.non_admins_with_mfa::bigint AS non_admins_with_mfa,
                   s.users_total::bigint AS users_total,
                   coalesce(s.security_defaults IN ({yes}), false) AS security_defaults_on,
                   coalesce(s.ca_policies_count::bigint, 0) AS ca_policies_count
              FROM named n JOIN {staging} s ON s.line = n.line
             WHERE s.errors IS NULL
        ), written AS (
            INSERT INTO {table} AS t (organization_id, customer_id, {figures}, checked_at)
            SELECT %(organization)s, customer_id, {figures}, now() FROM figures
            ON CONFLICT (customer_id) DO UPDATE SET {set_figures}, checked_at = EXCLUDED.checked_at
             WHERE ({stored}) IS DISTINCT FROM ({excluded})
            RETURNING t.customer_id, (t.xmax = 0) AS created
        )
        UPDATE {staging} s
           SET outcome = CASE WHEN w.created THEN {created} WHEN w.created IS NOT NULL THEN {updated}
                              ELSE {unchanged} END
          FROM figures f LEFT JOIN written w ON w.customer_id = f.customer_id
         WHERE s.line = f.line
        RETURNING s.outcome
        """
    ).format(
        customers=pgsql.SQL(_MFA_CUSTOMERS).format(staging=staging.identifier),
        staging=staging.identifier,
        table=pgsql.Identifier(CustomerMfaStat._meta.db_table),
        yes=pgsql.SQL(", ").join(pgsql.Literal(word) for word in _YES),
        figures=figures,
        set_figures=pgsql.SQL(", ").join(
            pgsql.SQL("{0} = EXCLUDED.{0}").format(pgsql.Identifier(name)) for name in _MFA_FIGURES
        ),
        stored=pgsql.SQL(", ").join(pgsql.SQL("t.{}").format(pgsql.Identifier(n)) for n in _MFA_FIGURES),
        excluded=pgsql.SQL(", ").join(
            pgsql.SQL("EXCLUDED.{}").format(pgsql.Identifier(n)) for n in _MFA_FIGURES
        ),
        created=pgsql.Literal(CREATED),
        updated=pgsql.Literal(UPDATED),
        unchanged=pgsql.Literal(UNCHANGED),
    )
    outcomes = [outcome for (outcome,) in _execute(statement, {"organization": organization_id})]
    audit_record(
        actor=job.created_by,
        action="security.customer_mfa_imported",
        organization_id=organization_id,
        target=job,
        changes={
            "file_name": job.parameters.get("file_name", ""),
            "customers": len(outcomes),
            "created": outcomes.count(CREATED),
            "updated": outcomes.count(UPDATED),
        },
    )
    return {}


CUSTOMER_MFA_IMPORTER = register(Importer(layout=CUSTOMER_MFA, load=_mfa_load))


# --- Azure subscriptions and budgets -----------------------------------------------------------------

#: A budget is an AmountField: 18 digits, 6 of them decimals.
_BUDGET_LIMIT = 10**12
_BUDGET_PLACES = 6


def _amounts(rows: pd.DataFrame, name: str) -> pd.Series:
    """An optional DECIMAL column as numbers (NaN where empty, wrong or not in the file)."""
    return pd.to_numeric(rows[name], errors="coerce")


def _too_many_places(amounts: pd.Series, places: int) -> pd.Series:
    """Amounts with more decimal places than `places` (a float carries ~15 significant digits: the
    tolerance keeps 1.10 from looking like 1.1000000000000001)."""
    scaled = amounts * 10**places
    return (scaled - scaled.round()).abs() > 1e-6 + scaled.abs() * 1e-15


AZURE_SUBSCRIPTIONS = Layout(
    name="security.azure_subscriptions",
    title="Customers' Azure subscriptions",
    columns=(
        Column("Customer tenant ID", kind=UUID, field="tenant_id"),
        Column("Subscription ID", kind=UUID, field="subscription_id"),
        Column("Subscription name", max_length=200, field="display_name"),
        Column("Budget", kind=DECIMAL, required=False, blank=True, field="budget"),
        Column("Currency", required=False, blank=True, upper=True, field="currency"),
    ),
    key=("Subscription ID",),
    rules=(
        Rule(
            "Budget",
            "a budget must be more than 0 (leave it empty for none)",
            lambda rows: _amounts(rows, "budget") <= 0,
        ),
        Rule(
            "Budget",
            "has too many digits",
            lambda rows: (
                (_amounts(rows, "budget") >= _BUDGET_LIMIT)
                | _too_many_places(_amounts(rows, "budget"), _BUDGET_PLACES)
            ),
        ),
        Rule(
            "Currency",
            "is empty; a budget needs its currency (e.g. EUR)",
            lambda rows: _amounts(rows, "budget").notna() & rows["currency"].isna(),
        ),
        Rule(
            "Currency",
            "is not an ISO 4217 currency code",
            lambda rows: rows["currency"].notna() & ~rows["currency"].isin(CURRENCIES),
        ),
    ),
    checks=(
        _own_tenant("Customer tenant ID", "tenant_id"),
        SqlCheck(
            "Subscription ID",
            f"""{_uuid("subscription_id")} IN (
                    SELECT subscription_id FROM {_SUBSCRIPTIONS} WHERE organization_id = %(organization)s)
                AND ({_uuid("subscription_id")}, {_uuid("tenant_id")}) NOT IN (
                    SELECT a.subscription_id, c.tenant_id
                      FROM {_SUBSCRIPTIONS} a JOIN {_CUSTOMERS} c ON c.id = a.customer_id
                     WHERE a.organization_id = %(organization)s)""",
            "is already recorded for another customer",
        ),
    ),
)

_AZURE_VALUES = ("display_name", "budget_amount", "budget_currency")


def _azure_load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """Each subscription inserted or updated (name and budget) in one statement; a row equal to the
    stored subscription is not written. Audited as one import."""
    _analyze(staging)
    statement = pgsql.SQL(
        """
        WITH rows AS (
            SELECT s.line, c.id AS customer_id, s.subscription_id::uuid AS subscription_id, s.display_name,
                   s.budget::numeric AS budget_amount,
                   CASE WHEN s.budget IS NULL THEN '' ELSE s.currency END AS budget_currency
              FROM {staging} s JOIN {customers} c ON c.tenant_id = s.tenant_id::uuid
             WHERE s.errors IS NULL AND c.organization_id = %(organization)s
        ), written AS (
            INSERT INTO {table} AS t
                   (organization_id, customer_id, subscription_id, {values}, checked_at)
            SELECT %(organization)s, customer_id, subscription_id, {values}, now() FROM rows
            ON CONFLICT (customer_id, subscription_id) DO UPDATE SET {set_values},
                   checked_at = EXCLUDED.checked_at
             WHERE ({stored}) IS DISTINCT FROM ({excluded})
            RETURNING t.customer_id, t.subscription_id, (t.xmax = 0) AS created
        )
        UPDATE {staging} s
           SET outcome = CASE WHEN w.created THEN {created} WHEN w.created IS NOT NULL THEN {updated}
                              ELSE {unchanged} END
          FROM rows r LEFT JOIN written w
               ON w.customer_id = r.customer_id AND w.subscription_id = r.subscription_id
         WHERE s.line = r.line
        RETURNING s.outcome, r.budget_amount IS NOT NULL
        """
    ).format(
        staging=staging.identifier,
        customers=pgsql.Identifier(_CUSTOMERS),
        table=pgsql.Identifier(_SUBSCRIPTIONS),
        values=pgsql.SQL(", ").join(pgsql.Identifier(name) for name in _AZURE_VALUES),
        set_values=pgsql.SQL(", ").join(
            pgsql.SQL("{0} = EXCLUDED.{0}").format(pgsql.Identifier(name)) for name in _AZURE_VALUES
        ),
        stored=pgsql.SQL(", ").join(pgsql.SQL("t.{}").format(pgsql.Identifier(n)) for n in _AZURE_VALUES),
        excluded=pgsql.SQL(", ").join(
            pgsql.SQL("EXCLUDED.{}").format(pgsql.Identifier(n)) for n in _AZURE_VALUES
        ),
        created=pgsql.Literal(CREATED),
        updated=pgsql.Literal(UPDATED),
        unchanged=pgsql.Literal(UNCHANGED),
    )
    written = _execute(statement, {"organization": job.organization_id})
    audit_record(
        actor=job.created_by,
        action="security.azure_subscriptions_imported",
        organization_id=job.organization_id,
        target=job,
        changes={
            "file_name": job.parameters.get("file_name", ""),
            "subscriptions": len(written),
            "with_budget": sum(budget for _, budget in written),
        },
    )
    return {}


AZURE_SUBSCRIPTIONS_IMPORTER = register(Importer(layout=AZURE_SUBSCRIPTIONS, load=_azure_load))
