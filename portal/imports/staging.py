"""The staged file: an UNLOGGED table per import job, loaded by COPY, checked and written set-based.

Each row of the file becomes one row here: its line, the layout's columns as normalised text
(the value as written where the cell is wrong), unknown columns the layout keeps, its problems
(`errors`, NULL when valid) and, once loaded, its `outcome`. Rules across rows run here in SQL, and
a layout's loader writes the valid rows from here into the real tables (`Staging.upsert`). The
result file is a COPY of this table through the one file writer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import connection
from psycopg import sql as pgsql

from portal.files import cell_sql
from portal.imports.layout import CheckedChunk, Layout
from portal.uploads import RowError

CREATED, UPDATED, UNCHANGED, REJECTED, NOT_IMPORTED = (
    "created",
    "updated",
    "unchanged",
    "rejected",
    "not imported",
)


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

    def staged_columns(self) -> list[str]:
        return [column.staged_name for column in self.layout.columns] + [
            f"extra_{position}" for position in range(len(self.extra_columns))
        ]

    # --- Building ---------------------------------------------------------------------------------

    def create(self) -> None:
        """A fresh table (a retried job starts again from its file)."""
        columns = pgsql.SQL(", ").join(
            pgsql.SQL("{} text").format(pgsql.Identifier(name)) for name in self.staged_columns()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("DROP TABLE IF EXISTS {}").format(self.identifier).as_string(cursor.cursor)
            )
            cursor.execute(
                pgsql.SQL(
                    "CREATE UNLOGGED TABLE {} (line integer NOT NULL, {}, errors text, outcome text, "
                    "target_id bigint)"
                )
                .format(self.identifier, columns)
                .as_string(cursor.cursor)
            )

    def copy_chunk(self, chunk: CheckedChunk) -> None:
        frame = chunk.values.copy()
        frame.insert(0, "line", frame.index)
        frame["errors"] = chunk.error_text
        buffer = io.StringIO()
        frame.to_csv(buffer, header=False, index=False, na_rep="")
        names = pgsql.SQL(", ").join(
            pgsql.Identifier(name) for name in ["line", *self.staged_columns(), "errors"]
        )
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(self.identifier, names)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(statement) as copy:
                copy.write(buffer.getvalue())

    def index_lines(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("CREATE INDEX ON {} (line)").format(self.identifier).as_string(cursor.cursor)
            )
            cursor.execute(pgsql.SQL("ANALYZE {}").format(self.identifier).as_string(cursor.cursor))

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("DROP TABLE IF EXISTS {}").format(self.identifier).as_string(cursor.cursor)
            )

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
        """Cells naming rows that do not exist: each row marked, the first `limit` returned."""
        errors: list[RowError] = []
        total = 0
        for reference in self.layout.references:
            column = self.layout.column(reference.column)
            statement = pgsql.SQL(
                """
                WITH missing AS (
                    UPDATE {table} s SET errors = concat_ws('; ', s.errors, %(label)s)
                    WHERE s.{column} IS NOT NULL AND s.{column} NOT IN ({allowed})
                    RETURNING s.line, s.{column} AS value
                )
                SELECT line, value, count(*) OVER () FROM missing ORDER BY line LIMIT %(limit)s
                """
            ).format(
                table=self.identifier,
                column=pgsql.Identifier(column.staged_name),
                allowed=pgsql.SQL(reference.sql),
            )
            params = {
                "organization": self.organization_id,
                "label": f"{column.name}: {reference.message}",
                "limit": limit,
            }
            with connection.cursor() as cursor:
                cursor.execute(statement.as_string(cursor.cursor), params)
                rows = cursor.fetchall()
            errors.extend(
                RowError(line, column.name, reference.message, value=value) for line, value, _ in rows
            )
            total += rows[0][2] if rows else 0
        return errors, total

    # --- Loading ----------------------------------------------------------------------------------

    def upsert(
        self,
        *,
        table: str,
        key: Sequence[str],
        columns: Mapping[str, str],
        insert_only: Mapping[str, str] | None = None,
        scope: str | None = "organization_id",
    ) -> list[int]:
        """Insert or update the valid rows into `table`, marking each row's outcome; returns the ids
        of the rows created.

        `columns` maps the table's columns to staged columns (cast to the layout's types); `key` is
        the table's unique key (besides `scope`, the importing organization); `insert_only` gives
        SQL for columns set only on insert (an id, a creation time). A row equal to the stored one
        is not written at all ("unchanged").
        """
        layout_types = {column.staged_name: column.sql_type for column in self.layout.columns}
        target = pgsql.Identifier(table)
        written = [*([scope] if scope else []), *columns, *(insert_only or {})]
        values = [
            *([pgsql.Literal(self.organization_id)] if scope else []),
            *(
                pgsql.SQL("s.{}::{}").format(
                    pgsql.Identifier(staged), pgsql.SQL(layout_types.get(staged, "text"))
                )
                for staged in columns.values()
            ),
            *(pgsql.SQL(expression) for expression in (insert_only or {}).values()),
        ]
        conflict = [*([scope] if scope else []), *key]
        updated = [name for name in columns if name not in key]
        set_clause = pgsql.SQL(", ").join(
            pgsql.SQL("{0} = EXCLUDED.{0}").format(pgsql.Identifier(name)) for name in updated
        )
        changed = pgsql.SQL("({}) IS DISTINCT FROM ({})").format(
            pgsql.SQL(", ").join(pgsql.SQL("t.{}").format(pgsql.Identifier(n)) for n in updated),
            pgsql.SQL(", ").join(pgsql.SQL("EXCLUDED.{}").format(pgsql.Identifier(n)) for n in updated),
        )
        on_conflict = (
            pgsql.SQL("DO UPDATE SET {} WHERE {}").format(set_clause, changed)
            if updated
            else pgsql.SQL("DO NOTHING")
        )
        match = pgsql.SQL(" AND ").join(
            pgsql.SQL("w.{} = s.{}::{}").format(
                pgsql.Identifier(name),
                pgsql.Identifier(columns[name]),
                pgsql.SQL(layout_types.get(columns[name], "text")),
            )
            for name in key
        )
        statement = pgsql.SQL(
            """
            WITH written AS (
                INSERT INTO {target} AS t ({names})
                SELECT {values} FROM {staging} s WHERE s.errors IS NULL
                ON CONFLICT ({conflict}) {on_conflict}
                RETURNING t.id, {returned}, (t.xmax = 0) AS created
            )
            UPDATE {staging} s
            SET outcome = CASE WHEN w.created THEN {created} ELSE {updated} END, target_id = w.id
            FROM written w WHERE s.errors IS NULL AND {match}
            RETURNING w.id, w.created
            """
        ).format(
            target=target,
            names=pgsql.SQL(", ").join(pgsql.Identifier(name) for name in written),
            values=pgsql.SQL(", ").join(values),
            staging=self.identifier,
            conflict=pgsql.SQL(", ").join(pgsql.Identifier(name) for name in conflict),
            on_conflict=on_conflict,
            returned=pgsql.SQL(", ").join(pgsql.SQL("t.{}").format(pgsql.Identifier(name)) for name in key),
            created=pgsql.Literal(CREATED),
            updated=pgsql.Literal(UPDATED),
            match=match,
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.as_string(cursor.cursor))
            rows = cursor.fetchall()
        return [pk for pk, created in rows if created]

    def mark_remaining(self, outcome: str, *, valid: bool) -> None:
        condition = "errors IS NULL" if valid else "errors IS NOT NULL"
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("UPDATE {} SET outcome = %s WHERE outcome IS NULL AND " + condition)
                .format(self.identifier)
                .as_string(cursor.cursor),
                [outcome],
            )

    def outcome_counts(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                pgsql.SQL("SELECT coalesce(outcome, ''), count(*) FROM {} GROUP BY 1")
                .format(self.identifier)
                .as_string(cursor.cursor)
            )
            return dict(cursor.fetchall())

    def result_select(self, header: Iterable[tuple[str, str]]) -> tuple[str, list]:
        """The result file's SELECT: the file's columns as staged, then its outcome and problems."""
        columns = [pgsql.SQL("line AS {}").format(pgsql.Identifier("Line"))]
        # Every cell neutralised as the one file writer does (a cell starting with = stays text).
        columns += [
            pgsql.SQL(cell_sql("{}") + " AS {}").format(pgsql.Identifier(staged), pgsql.Identifier(title))
            for staged, title in header
        ]
        columns += [
            pgsql.SQL("outcome AS {}").format(pgsql.Identifier("Outcome")),
            pgsql.SQL(cell_sql("errors") + " AS {}").format(pgsql.Identifier("Errors")),
        ]
        statement = pgsql.SQL("SELECT {} FROM {} ORDER BY line").format(
            pgsql.SQL(", ").join(columns), self.identifier
        )
        with connection.cursor() as cursor:
            return statement.as_string(cursor.cursor), []
