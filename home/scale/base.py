"""The machinery every scale builder shares: the plan (what a scale means in rows), the large
partner's identity, set-based `INSERT … SELECT` written from the models, and the resumable run.

A run is a `JobRun` (kind `accounts.seed_scale`) of the large organization whose chunks commit
exactly once (`portal.jobs.job_run_chunks`): each chunk's rows and its `JobChunk` marker are one
transaction, so a run killed midway resumes with the first chunk it had not committed, and a run
over a finished build only reads the chunk keys.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

__all__ = (
    "BASE_COUNTS",
    "MAX_SCALE",
    "MIN_SCALE",
    "Plan",
    "execute",
    "insert_select",
    "plan_for",
    "table",
)

#: The large partner at scale 1: a big CSP partner of Partner Center.
BASE_COUNTS: dict[str, int] = {
    "users": 2_000,
    "customers": 20_000,
    "legacy_subscriptions": 200_000,
    "nce_subscriptions": 200_000,
    "earnings": 5_000_000,
    "referrals": 200_000,
    "claims": 50_000,
    "gdap_relationships": 20_000,
}
#: The organization's key is derived from the scale (see `Plan.code`), which bounds it.
MIN_SCALE, MAX_SCALE = 0.0001, 9.9999
#: Months of history: transactions, earnings, referrals, claims and audit spread over them.
MONTHS = 24


@dataclass(frozen=True)
class Plan:
    """What one scale builds: the organization's identity and every target count.

    The counts are the base counts times the scale (at least one); the supporting rows
    (transactions, opportunities, migrations, audit events, …) follow from them.
    """

    scale: float
    today: date
    users: int
    customers: int
    legacy_subscriptions: int
    nce_subscriptions: int
    earnings: int
    referrals: int
    claims: int
    gdap_relationships: int

    @property
    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in BASE_COUNTS}

    @property
    def code(self) -> int:
        """1 … 99999: 10000 at scale 1. Every key of the build (partner IDs, e-mail domains,
        earning and transaction ids, subscription UUIDs) contains it, so several scales can
        live in one database without meeting."""
        return round(self.scale * 10_000)

    @property
    def partner_global_id(self) -> str:
        return f"90{self.code:05d}"

    def location_partner_id(self, index: int) -> str:
        return f"9{index + 1}{self.code:05d}"

    @property
    def legal_name(self) -> str:
        name = "Wide World Cloud Partners SE"
        return name if self.code == 10_000 else f"{name} (scale {self.scale:g})"

    @property
    def domain(self) -> str:
        return "wideworld-cloud.example" if self.code == 10_000 else f"wideworld-cloud-{self.code}.example"

    @property
    def prefix(self) -> str:
        """Of the build's own business keys (earningId, transactionId, claimId, …)."""
        return f"S{self.code}"

    def uuid_sql(self, kind: str, number: str) -> str:
        """SQL of a stable UUID for row `number` (an SQL expression) of `kind`."""
        return f"md5('{self.prefix}:{kind}:' || ({number})::text)::uuid"

    # --- Derived sizes -----------------------------------------------------------------------

    @property
    def transactions(self) -> int:
        """Two earnings rows per transaction (two levers), see home.scale.earnings."""
        return math.ceil(self.earnings / 2)

    @property
    def ineligible_transactions(self) -> int:
        return max(1, self.transactions // 10)

    @property
    def opportunities(self) -> int:
        return max(1, self.customers // 2)

    @property
    def migrations(self) -> int:
        """One legacy → new commerce migration per customer (its first legacy subscription)."""
        return min(self.customers, self.legacy_subscriptions)

    @property
    def audit_events(self) -> int:
        return self.users * 50


def plan_for(scale: float, *, today: date | None = None) -> Plan:
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"--scale must lie between {MIN_SCALE} and {MAX_SCALE}")
    counts = {name: max(1, round(base * scale)) for name, base in BASE_COUNTS.items()}
    return Plan(scale=scale, today=today or timezone.localdate(), **counts)


# --- Set-based inserts ----------------------------------------------------------------------------


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _default_sql(model: type[models.Model], field_: models.Field, params: dict[str, Any]) -> str | None:
    """SQL of a field's default, or None when the column may stay NULL."""
    db_type = field_.db_type(connection)
    if getattr(field_, "auto_now", False) or getattr(field_, "auto_now_add", False):
        return "now()"
    default = field_.default
    if default is NOT_PROVIDED:
        if field_.null:
            return None
        if field_.empty_strings_allowed and field_.blank:
            return "''"
        raise ImproperlyConfigured(f"{model.__name__}.{field_.name} has no default: give it a value")
    if callable(default):
        if default is timezone.now:
            return "now()"
        if default is uuid.uuid4:
            return "gen_random_uuid()"
        if default in (list, dict):
            value = default()
            if isinstance(field_, models.JSONField):
                return f"'{'[]' if value == [] else '{}'}'::jsonb"
            return f"'{{}}'::{db_type}"
        if getattr(default, "__name__", "") == "_graph_id":
            return "gen_random_uuid()::text"
        raise ImproperlyConfigured(f"{model.__name__}.{field_.name}: a callable default needs a value")
    if default is None:
        return "NULL"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, int | float | Decimal):
        return str(default)
    name = f"_default_{model._meta.db_table}_{field_.column}"
    params[name] = default
    return f"%({name})s::{db_type}"


def insert_sql(
    model: type[models.Model],
    values: dict[str, str],
    source: str,
    params: dict[str, Any] | None = None,
    *,
    conflict: str = "",
    returning: str = "",
) -> tuple[str, dict[str, Any]]:
    """The statement `insert_select` runs, and its parameters (for use inside a larger one)."""
    params = dict(params or {})
    columns, expressions = [], []
    known = set()
    for field_ in model._meta.concrete_fields:
        for key in (field_.name, field_.attname):
            if key in values:
                columns.append(connection.ops.quote_name(field_.column))
                expressions.append(values[key])
                known.add(key)
                break
        else:
            if field_.primary_key:
                continue
            sql = _default_sql(model, field_, params)
            if sql is not None:
                columns.append(connection.ops.quote_name(field_.column))
                expressions.append(sql)
    unknown = set(values) - known
    if unknown:
        raise ImproperlyConfigured(f"{model.__name__} has no fields {sorted(unknown)}")
    source = source.strip()
    prefix = ""
    if source.upper().startswith("WITH "):
        prefix, source = _split_with(source)
    statement = (
        f"{prefix} INSERT INTO {table(model)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} {source} {conflict} {returning}"
    )
    return statement, params


def insert_select(
    model: type[models.Model],
    values: dict[str, str],
    source: str,
    params: dict[str, Any] | None = None,
    *,
    conflict: str = "",
    returning: str = "",
) -> int:
    """`INSERT INTO <model> (every column) SELECT <values or defaults> <source>`; rows written.

    `values` maps field names to SQL expressions over `source` (a FROM … clause, which may start
    with `WITH …` CTEs: they are put before the INSERT). A column left out takes the field's
    default (constants, `timezone.now` → now(), `uuid4` → gen_random_uuid(), `list`/`dict` →
    empty) or NULL when the field is nullable; a required column with neither is an error, so
    every row is valid for the model.
    """
    statement, params = insert_sql(model, values, source, params, conflict=conflict, returning=returning)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _split_with(source: str) -> tuple[str, str]:
    """Split `WITH … <body>` into the CTE list and the body that follows the last CTE."""
    depth = 0
    last_close = -1
    for index, char in enumerate(source):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                last_close = index
                rest = source[index + 1 :].lstrip()
                if not rest.startswith(","):
                    break
    return source[: last_close + 1], source[last_close + 1 :]


def execute(sql: str, params: dict[str, Any] | list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch(sql: str, params: dict[str, Any] | list[Any] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- Chunks ----------------------------------------------------------------------------------------

Work = Callable[[], int | None]


@dataclass
class Chunk:
    key: str
    size: int
    work: Work


class Context:
    """The large organization and what the builders look up in it, read once per run."""

    def __init__(self, plan: Plan, organization) -> None:
        self.plan = plan
        self.organization = organization

    @property
    def org(self) -> int:
        return self.organization.pk

    @cached_property
    def owner(self):
        from accounts.models import User  # noqa: PLC0415

        return User.objects.get(email=f"owner@{self.plan.domain}")

    @cached_property
    def locations(self) -> list:
        """The organization's partner locations, headquarters first (`LOCATIONS` order)."""
        from accounts.models import PartnerLocation  # noqa: PLC0415

        return list(PartnerLocation.objects.filter(organization=self.organization).order_by("partner_id"))

    @cached_property
    def staff(self):
        """The vendor's admin of the demo data (reviewer of claims), when it exists."""
        from accounts.demo import STAFF_EMAIL  # noqa: PLC0415
        from accounts.models import User  # noqa: PLC0415

        return User.objects.filter(email=STAFF_EMAIL).first()

    def people_sql(self) -> str:
        """A CTE body numbering the organization's people (service accounts excluded) from 0."""
        return (
            "SELECT id, email, display_name, row_number() OVER (ORDER BY id) - 1 AS idx "
            f"FROM accounts_user WHERE organization_id = {int(self.org)} AND NOT is_service_account"
        )

    def customers_sql(self) -> str:
        """A CTE body numbering the organization's customers from 0, with their location."""
        return (
            "SELECT id, name, domain, tenant_id, country, segment, location_id, employee_count, "
            "created_at, row_number() OVER (ORDER BY id) - 1 AS idx "
            f"FROM accounts_customer WHERE organization_id = {int(self.org)}"
        )


# --- History ---------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    """jsonb as Python: Django's connection hands it over as text (JSONField decodes it)."""
    return json.loads(value) if isinstance(value, str) else value


class _Editor:
    """What `portal.history_import.history_import` reads of a schema editor: its connection."""

    connection = connection


def history_append(model: type[models.Model], sql: str, params: dict[str, Any] | None = None) -> int:
    """Status events of `model` rows, appended to their organization's history chain.

    `sql` selects (organization_id, object id, at, actor id or NULL, from_status, to_status, note),
    optionally followed by the event's data (jsonb) and who acted when no person did ("microsoft").
    The events are appended oldest first, each with its own time and actor, by
    `portal.history_import.history_import`: under the writer lock, after the chain's head, hashed
    by `portal.chain` (`history_record_many` takes one time and actor per call, which for two
    years of history would mean a call per event). An actor id names a person of the
    organization; NULL is the system (or the vendor).
    """
    from django.apps import apps  # noqa: PLC0415

    from accounts.models import User  # noqa: PLC0415
    from portal.history_import import Imported, history_import  # noqa: PLC0415

    rows = sorted(fetch(sql, params), key=lambda row: (row[2], row[1], row[5]))
    if not rows:
        return 0
    emails = dict(User.objects.filter(pk__in={row[3] for row in rows if row[3]}).values_list("pk", "email"))
    subject = (model._meta.app_label, model._meta.model_name)
    events = (
        Imported(
            organization_id=row[0],
            subject=(*subject, row[1]),
            at=row[2],
            to_status=row[5],
            from_status=row[4] or "",
            note=row[6] or "",
            actor_id=row[3] if row[3] in emails else None,
            actor_label=emails.get(row[3]) or (row[8] if len(row) > 8 and row[8] else "system"),
            data=_json(row[7]) if len(row) > 7 and row[7] else {},
        )
        for row in rows
    )
    return history_import(apps, _Editor, events)


def analyze(*models_: type[models.Model]) -> None:
    """Planner statistics for tables just filled (all tables when none is named), so the queries a
    later chunk runs over them (scoring, summaries, joins) don't plan as if they were empty. Rows
    the current transaction wrote count: ANALYZE sees them."""
    with connection.cursor() as cursor:
        if not models_:
            cursor.execute("ANALYZE")
        for model in models_:
            cursor.execute(f"ANALYZE {table(model)}")
