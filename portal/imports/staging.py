"""The staged file: an UNLOGGED table per import job, loaded by COPY, checked and written set-based.

Each row of the file becomes one row here: its line, the layout's columns as normalised text
(the value as written where the cell is wrong), unknown columns the layout keeps and its problems
(`errors`, NULL when valid). Rules across rows run here in SQL, and a layout's loader writes the
valid rows from here into the real tables (`Staging.upsert`), which notes the keys it created or
updated in a narrow companion table (`import_written_<job>`). A row's outcome is read from both
when it is needed — created, updated, unchanged, rejected, not imported — so loading never rewrites
the staged rows; a loader with its own SQL may instead set the row's `outcome` column. The result
file is a COPY of this table through the one file writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from django.db import connection
from psycopg import sql as pgsql
from pyarrow import csv as pa_csv

from portal.files import cell_sql
from portal.imports.layout import CheckedChunk, Layout
from portal.locks import advisory_lock
from portal.uploads import RowError

CREATED, UPDATED, UNCHANGED, REJECTED, NOT_IMPORTED = (
    "created",
    "updated",
    "unchanged",
    "rejected",
    "not imported",
)


@dataclass(frozen=True)
class SqlValue:
    """A loaded column's value as SQL over the staged row `s` (e.g. a foreign key from a cell)."""

    sql: str


@dataclass
class Staging:
    layout: Layout
    job_id: int
    organization_id: int | None
    extra_columns: list[str] = field(default_factory=list)  # unknown headers kept, in order

    @property
    def table(self) -> str:
        return f"import_staging_{self.job_id}"

    @property
    def identifier(self) -> pgsql.Identifier:
        return pgsql.Identifier(self.table)

    @property
    def written(self) -> pgsql.Identifier:
        return pgsql.Identifier(f"import_written_{self.job_id}")

    def staged_columns(self) -> list[str]:
        return [column.staged_name for column in self.layout.columns] + [
            f"extra_{position}" for position in range(len(self.extra_columns))
        ]

    def key_columns(self) -> list[str]:
        return [self.layout.column(name).staged_name for name in self.layout.key]

    # --- Building ---------------------------------------------------------------------------------

    def create(self) -> None:
        """Fresh tables (a retried job starts again from its file)."""
        self.drop()
        columns = pgsql.SQL(", ").join(
            pgsql.SQL("{} text").format(pgsql.Identifier(name)) for name in self.staged_columns()
        )
        keys = pgsql.SQL("").join(
            pgsql.SQL("{} text, ").format(pgsql.Identifier(name)) for name in self.key_columns()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("CREATE UNLOGGED TABLE {} (line integer NOT NULL, {}, errors text, outcome text)")
                .format(self.identifier, columns)
                .as_string(cursor.cursor)
            )
            cursor.execute(
                pgsql.SQL("CREATE UNLOGGED TABLE {} ({}updated boolean NOT NULL DEFAULT false)")
                .format(self.written, keys)
                .as_string(cursor.cursor)
            )

    def copy_chunk(self, chunk: CheckedChunk) -> None:
        """The chunk into the table by COPY, written as CSV by Arrow's C++ writer."""
        frame = chunk.values.copy()
        frame.insert(0, "line", frame.index.astype("int64"))
        frame["errors"] = chunk.error_text
        table = pa.Table.from_pandas(
            frame.astype({name: "str" for name in frame.columns[1:]}), preserve_index=False
        )
        buffer = pa.BufferOutputStream()
        pa_csv.write_csv(table, buffer, write_options=pa_csv.WriteOptions(include_header=False))
        names = pgsql.SQL(", ").join(
            pgsql.Identifier(name) for name in ["line", *self.staged_columns(), "errors"]
        )
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(self.identifier, names)
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(buffer.getvalue().to_pybytes())

    def analyze(self) -> None:
        """Planner statistics for the rules and the load that read the table next."""
        with connection.cursor() as cursor:
            cursor.execute(pgsql.SQL("ANALYZE {}").format(self.identifier).as_string(cursor.cursor))

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for table in (self.identifier, self.written):
                cursor.execute(pgsql.SQL("DROP TABLE IF EXISTS {}").format(table).as_string(cursor.cursor))

    # --- Rules across rows ------------------------------------------------------------------------

    def repeated_keys(self, limit: int) -> tuple[list[RowError], int]:
        """Rows whose key repeats an earlier row's: each marked, the first `limit` returned."""
        if not self.layout.key:
            return [], 0
        key_columns = [self.layout.column(name) for name in self.layout.key]
        key = pgsql.SQL(", ").join(pgsql.Identifier(c.staged_name) for c in key_columns)
        not_null = pgsql.SQL(" AND ").join(
            pgsql.SQL("{} IS NOT NULL").format(pgsql.Identifier(c.staged_name)) for c in key_columns
        )
        names = " + ".join(c.name for c in key_columns)
        any_repeat = pgsql.SQL("SELECT 1 FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1").format(
            self.identifier, not_null, key
        )
        with connection.cursor() as cursor:
            cursor.execute(any_repeat.as_string(cursor.cursor))
            if cursor.fetchone() is None:
                return [], 0
        statement = pgsql.SQL(
            """
            WITH ranked AS (
                SELECT line, min(line) OVER (PARTITION BY {key}) AS first_line,
                       concat_ws(' + ', {key}) AS value
                FROM {table} WHERE {not_null}
            ), repeated AS (
                UPDATE {table} s
                SET errors = concat_ws('; ', s.errors, %(label)s || ': repeats line ' || r.first_line)
                FROM ranked r WHERE s.line = r.line AND r.line <> r.first_line
                RETURNING s.line, r.first_line, r.value
            )
            SELECT line, first_line, value, count(*) OVER () FROM repeated ORDER BY line LIMIT %(limit)s
            """
        ).format(key=key, table=self.identifier, not_null=not_null)
        with connection.cursor() as cursor:
            cursor.execute(statement.as_string(cursor.cursor), {"label": names, "limit": limit})
            rows = cursor.fetchall()
        errors = [
            RowError(line, names, f"repeats line {first}", value=value) for line, first, value, _ in rows
        ]
        return errors, rows[0][3] if rows else 0

    def missing_references(self, limit: int) -> tuple[list[RowError], int]:
        """Rows breaking the layout's references (a cell naming a row that does not exist) and its
        SQL checks: each row marked, the first `limit` returned."""
        rules = [
            (reference.column, pgsql.SQL("s.{0} NOT IN ({1})"), reference.sql, reference.message)
            for reference in self.layout.references
        ] + [
            (check.column, pgsql.SQL("({1})"), check.bad_when, check.message) for check in self.layout.checks
        ]
        errors: list[RowError] = []
        total = 0
        for name, condition, sql, message in rules:
            column = self.layout.column(name)
            bad_when = condition.format(
                pgsql.Identifier(column.staged_name), pgsql.SQL(sql.replace("{staging}", self.table))
            )
            statement = pgsql.SQL(
                """
                WITH broken AS (
                    UPDATE {table} s SET errors = concat_ws('; ', s.errors, %(label)s)
                    WHERE s.{column} IS NOT NULL AND {bad_when}
                    RETURNING s.line, s.{column} AS value
                )
                SELECT line, value, count(*) OVER () FROM broken ORDER BY line LIMIT %(limit)s
                """
            ).format(table=self.identifier, column=pgsql.Identifier(column.staged_name), bad_when=bad_when)
            params = {
                "organization": self.organization_id,
                "label": f"{column.name}: {message}",
                "limit": limit,
            }
            with connection.cursor() as cursor:
                cursor.execute(statement.as_string(cursor.cursor), params)
                rows = cursor.fetchall()
            errors.extend(RowError(line, column.name, message, value=value) for line, value, _ in rows)
            total += rows[0][2] if rows else 0
        return errors, total

    def mark(self, errors: Sequence[RowError]) -> None:
        """Problems found outside SQL (an assessor's) added to their rows, in one statement."""
        if not errors:
            return
        by_line: dict[int, list[str]] = {}
        for error in errors:
            by_line.setdefault(error.row, []).append(f"{error.column}: {error.message}")
        statement = pgsql.SQL(
            "UPDATE {} s SET errors = concat_ws('; ', s.errors, v.message) "
            "FROM unnest(%s::integer[], %s::text[]) AS v(line, message) WHERE s.line = v.line"
        ).format(self.identifier)
        with connection.cursor() as cursor:
            cursor.execute(
                statement.as_string(cursor.cursor),
                [list(by_line), ["; ".join(messages) for messages in by_line.values()]],
            )

    def valid_rows(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The rows without a problem so far, in file order, each with its `line` and the layout's
        columns (staged names) as typed values. For assessors and loaders that work in Python:
        keep those to files of a few hundred thousand rows."""
        columns = [self.layout.column(name) for name in names] if names else list(self.layout.columns)
        selected = pgsql.SQL(", ").join(
            [pgsql.SQL("line")]
            + [
                pgsql.SQL("{0}::{1} AS {0}").format(pgsql.Identifier(c.staged_name), pgsql.SQL(c.sql_type))
                for c in columns
            ]
        )
        statement = pgsql.SQL(
            "SELECT {} FROM {} WHERE errors IS NULL AND outcome IS NULL ORDER BY line"
        ).format(selected, self.identifier)
        with connection.cursor() as cursor:
            cursor.execute(statement.as_string(cursor.cursor))
            names = [description.name for description in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def set_outcome(self, outcome: str, lines: Sequence[int] | None = None) -> None:
        """A loader with its own SQL says what became of its valid rows (all, or those `lines`)."""
        only = pgsql.SQL(" AND line = ANY(%s::integer[])") if lines is not None else pgsql.SQL("")
        statement = pgsql.SQL("UPDATE {} SET outcome = %s WHERE errors IS NULL AND outcome IS NULL{}").format(
            self.identifier, only
        )
        params = [outcome, list(lines)] if lines is not None else [outcome]
        with connection.cursor() as cursor:
            cursor.execute(statement.as_string(cursor.cursor), params)

    # --- Loading ----------------------------------------------------------------------------------

    def upsert(
        self,
        *,
        table: str,
        key: Sequence[str],
        columns: Mapping[str, str | SqlValue],
        insert_only: Mapping[str, str] | None = None,
        fallbacks: Mapping[str, str] | None = None,
        scope: str | None = "organization_id",
        scope_from: str | None = None,
        returning_created: bool = False,
    ) -> list[int]:
        """Write the valid rows into `table`: update the stored rows they change, insert the others.

        `columns` maps the table's columns to staged columns (cast to the layout's types) or to a
        `SqlValue` over the staged row `s` (a foreign key looked up from a cell); `key` is
        the table's unique key (besides `scope`, the organization: the importing one, or the one
        the SQL `scope_from` finds for the staged row `s`); its staged columns must be the
        layout's key; `insert_only` gives SQL for columns set only on insert (an id, a creation
        time); `fallbacks` gives, for optional columns, the SQL a new row gets when its cell is
        empty (an empty cell keeps a stored row's value). A row equal to the stored one is not
        written at all ("unchanged"). Three set-based
        statements under a lock on the table and organization: note the keys already stored, update
        those that differ, insert the rest (a plain INSERT: nothing else writes these keys
        meanwhile). Returns the ids of the rows created when `returning_created`.
        """
        by_staged = {staged: name for name, staged in columns.items() if isinstance(staged, str)}
        # The layout's key: the table's key columns, and the column `scope_from` reads, if any.
        if not key or [by_staged[staged] for staged in self.key_columns() if staged in by_staged] != list(
            key
        ):
            raise ValueError(f"upsert key {tuple(key)} must be the layout's key {self.layout.key}")
        types = {column.staged_name: column.sql_type for column in self.layout.columns}

        fallbacks = fallbacks or {}

        def value(name: str, *, stored: bool = False) -> pgsql.Composable:
            staged = columns[name]
            if isinstance(staged, SqlValue):
                return pgsql.SQL(staged.sql)
            given = pgsql.SQL("s.{}::{}").format(
                pgsql.Identifier(staged), pgsql.SQL(types.get(staged, "text"))
            )
            if name not in fallbacks:
                return given
            otherwise = (
                pgsql.SQL("t.{}").format(pgsql.Identifier(name)) if stored else pgsql.SQL(fallbacks[name])
            )
            return pgsql.SQL("coalesce({}, {})").format(given, otherwise)

        target = pgsql.Identifier(table)
        # The organization a row belongs to: the importing one, or (a vendor's file spanning
        # partners) SQL over the staged row naming it (`scope_from`).
        organization = pgsql.SQL(scope_from) if scope_from else pgsql.Literal(self.organization_id)
        scoped = (
            pgsql.SQL("t.{} = {} AND ").format(pgsql.Identifier(scope), organization)
            if scope
            else pgsql.SQL("")
        )
        same_key = pgsql.SQL(" AND ").join(
            pgsql.SQL("t.{} = {}").format(pgsql.Identifier(name), value(name)) for name in key
        )
        valid = pgsql.SQL("s.errors IS NULL AND s.outcome IS NULL")
        noted_keys = pgsql.SQL(", ").join(pgsql.Identifier(staged) for staged in self.key_columns())
        stored = pgsql.SQL(
            "INSERT INTO {written} ({noted}) SELECT {staged_keys} FROM {staging} s "
            "WHERE {valid} AND EXISTS (SELECT 1 FROM {target} t WHERE {scoped}{same_key})"
        ).format(
            written=self.written,
            noted=noted_keys,
            staged_keys=pgsql.SQL(", ").join(
                pgsql.SQL("s.{}").format(pgsql.Identifier(k)) for k in self.key_columns()
            ),
            staging=self.identifier,
            valid=valid,
            target=target,
            scoped=scoped,
            same_key=same_key,
        )
        changed_columns = [name for name in columns if name not in key]
        update = None
        if changed_columns:
            update = pgsql.SQL(
                """
                WITH changed AS (
                    UPDATE {target} t SET {assignments} FROM {staging} s
                    WHERE {scoped}{same_key} AND {valid} AND ({stored}) IS DISTINCT FROM ({given})
                    RETURNING {returned}
                )
                UPDATE {written} w SET updated = true FROM changed c WHERE {match}
                """
            ).format(
                target=target,
                assignments=pgsql.SQL(", ").join(
                    pgsql.SQL("{} = {}").format(pgsql.Identifier(name), value(name, stored=True))
                    for name in changed_columns
                ),
                staging=self.identifier,
                scoped=scoped,
                same_key=same_key,
                valid=valid,
                stored=pgsql.SQL(", ").join(
                    pgsql.SQL("t.{}").format(pgsql.Identifier(n)) for n in changed_columns
                ),
                given=pgsql.SQL(", ").join(value(name, stored=True) for name in changed_columns),
                returned=pgsql.SQL(", ").join(
                    pgsql.SQL("s.{0} AS {0}").format(pgsql.Identifier(k)) for k in self.key_columns()
                ),
                written=self.written,
                match=pgsql.SQL(" AND ").join(
                    pgsql.SQL("w.{0} = c.{0}").format(pgsql.Identifier(k)) for k in self.key_columns()
                ),
            )
        inserted = [*([scope] if scope else []), *columns, *(insert_only or {})]
        insert = pgsql.SQL(
            "INSERT INTO {target} ({names}) SELECT {values} FROM {staging} s WHERE {valid} "
            "AND NOT EXISTS (SELECT 1 FROM {written} w WHERE {match}){returning}"
        ).format(
            target=target,
            names=pgsql.SQL(", ").join(pgsql.Identifier(name) for name in inserted),
            values=pgsql.SQL(", ").join(
                [
                    *([organization] if scope else []),
                    *(value(name) for name in columns),
                    *(pgsql.SQL(expression) for expression in (insert_only or {}).values()),
                ]
            ),
            staging=self.identifier,
            valid=valid,
            written=self.written,
            match=pgsql.SQL(" AND ").join(
                pgsql.SQL("w.{0} = s.{0}").format(pgsql.Identifier(k)) for k in self.key_columns()
            ),
            returning=pgsql.SQL(" RETURNING id") if returning_created else pgsql.SQL(""),
        )
        advisory_lock("import", table, self.organization_id)
        with connection.cursor() as cursor:
            cursor.execute(stored.as_string(cursor.cursor))
            if update is not None:
                cursor.execute(update.as_string(cursor.cursor))
            cursor.execute(insert.as_string(cursor.cursor))
            return [pk for (pk,) in cursor.fetchall()] if returning_created else []

    # --- Outcomes ---------------------------------------------------------------------------------

    def outcome_sql(self, *, loaded: bool) -> tuple[pgsql.Composable, pgsql.Composable]:
        """Each row's outcome as an SQL expression, and the join it needs: a valid row whose key was
        not stored before was created; one that was, updated if it differed, else unchanged."""
        keys = self.key_columns()
        if not keys or not loaded:
            join = pgsql.SQL("LEFT JOIN (SELECT NULL::boolean AS updated) w ON false")
        else:
            join = pgsql.SQL("LEFT JOIN {} w ON {}").format(
                self.written,
                pgsql.SQL(" AND ").join(pgsql.SQL("w.{0} = s.{0}").format(pgsql.Identifier(k)) for k in keys),
            )
        valid = (
            pgsql.SQL("CASE WHEN w.updated THEN {} WHEN w.updated IS NOT NULL THEN {} ELSE {} END").format(
                pgsql.Literal(UPDATED),
                pgsql.Literal(UNCHANGED),
                pgsql.Literal(CREATED if keys else UNCHANGED),
            )
            if loaded
            else pgsql.Literal(NOT_IMPORTED)
        )
        expression = pgsql.SQL(
            "coalesce(s.outcome, CASE WHEN s.errors IS NOT NULL THEN {} ELSE {} END)"
        ).format(pgsql.Literal(REJECTED), valid)
        return expression, join

    def outcome_counts(self) -> dict[str, int]:
        """How many rows were created, updated, unchanged and rejected, without joining the rows."""
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL(
                    "SELECT count(*), count(*) FILTER (WHERE errors IS NOT NULL), "
                    "count(*) FILTER (WHERE errors IS NULL AND outcome IS NULL) FROM {}"
                )
                .format(self.identifier)
                .as_string(cursor.cursor)
            )
            rows, rejected, plain = cursor.fetchone()
            cursor.execute(
                pgsql.SQL("SELECT outcome, count(*) FROM {} WHERE outcome IS NOT NULL GROUP BY 1")
                .format(self.identifier)
                .as_string(cursor.cursor)
            )
            counts = dict(cursor.fetchall())
            cursor.execute(
                pgsql.SQL("SELECT count(*), count(*) FILTER (WHERE updated) FROM {}")
                .format(self.written)
                .as_string(cursor.cursor)
            )
            stored, updated = cursor.fetchone()
        counts[REJECTED] = counts.get(REJECTED, 0) + rejected
        counts[UPDATED] = counts.get(UPDATED, 0) + updated
        counts[UNCHANGED] = counts.get(UNCHANGED, 0) + stored - updated
        if self.key_columns():
            counts[CREATED] = counts.get(CREATED, 0) + plain - stored
        else:
            counts[UNCHANGED] += plain - stored
        return counts

    def result_select(self, header: Iterable[tuple[str, str]], *, loaded: bool) -> tuple[str, list]:
        """The result file's SELECT: the file's columns as staged, then its outcome and problems."""
        expression, join = self.outcome_sql(loaded=loaded)
        columns = [pgsql.SQL("s.line AS {}").format(pgsql.Identifier("Line"))]
        # Every cell neutralised as the one file writer does (a cell starting with = stays text).
        columns += [
            pgsql.SQL(cell_sql("s.{}") + " AS {}").format(pgsql.Identifier(staged), pgsql.Identifier(title))
            for staged, title in header
        ]
        columns += [
            pgsql.SQL("{} AS {}").format(expression, pgsql.Identifier("Outcome")),
            pgsql.SQL(cell_sql("s.errors") + " AS {}").format(pgsql.Identifier("Errors")),
        ]
        statement = pgsql.SQL("SELECT {} FROM {} s {} ORDER BY s.line").format(
            pgsql.SQL(", ").join(columns), self.identifier, join
        )
        with connection.cursor() as cursor:
            return statement.as_string(cursor.cursor), []
