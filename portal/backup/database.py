"""The database side: connection parameters, row counts, migration state, emptying a database."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from portal.backup.base import LIBPQ_OPTIONS, USER_SCHEMA_FILTER, BackupError


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database to back up or restore into: libpq parameters plus the password."""

    params: dict[str, str]
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any]) -> Database:
        """From a Django DATABASES entry (or ``connections[alias].settings_dict``)."""
        engine = settings_dict.get("ENGINE", "")
        if "postgresql" not in engine:
            raise BackupError(f"only PostgreSQL databases can be backed up (ENGINE is {engine!r})")
        params = {
            "dbname": str(settings_dict.get("NAME") or ""),
            "host": str(settings_dict.get("HOST") or ""),
            "port": str(settings_dict.get("PORT") or ""),
            "user": str(settings_dict.get("USER") or ""),
        }
        for key, value in (settings_dict.get("OPTIONS") or {}).items():
            if key in LIBPQ_OPTIONS and isinstance(value, str | int):
                params[key] = str(value)
        if not params["dbname"]:
            raise BackupError("the database has no NAME")
        return cls({k: v for k, v in params.items() if v}, str(settings_dict.get("PASSWORD") or ""))

    @classmethod
    def from_url(cls, url: str) -> Database:
        """From a DATABASE_URL-style URL (dj-database-url, as settings.py reads DATABASE_URL)."""
        import dj_database_url

        return cls.from_settings(dj_database_url.parse(url))

    @property
    def name(self) -> str:
        return self.params["dbname"]

    def where(self) -> str:
        """`"portal" on 127.0.0.1:5432`, for messages (never the password)."""
        host = self.params.get("host") or "localhost"
        return f'"{self.name}" on {host}:{self.params.get("port") or 5432}'

    def conninfo(self) -> str:
        """A libpq connection string without the password (it goes in PGPASSWORD)."""
        return psycopg.conninfo.make_conninfo(**self.params)

    def env(self) -> dict[str, str]:
        """Environment for pg_dump / pg_restore: this process's, plus the password."""
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        extra = {"password": self.password} if self.password else {}
        return psycopg.connect(**self.params, **extra, **kwargs)

    def same_as(self, settings_dict: dict[str, Any]) -> bool:
        """True if `settings_dict` points at this database (host, port and name)."""
        other = Database.from_settings(settings_dict)
        return (
            other.name == self.name
            and (other.params.get("host") or "localhost") == (self.params.get("host") or "localhost")
            and str(other.params.get("port") or 5432) == str(self.params.get("port") or 5432)
        )

    def django_settings(self, base: dict[str, Any]) -> dict[str, Any]:
        """A copy of the Django settings dict `base` that points at this database (no pool)."""
        options = {k: v for k, v in self.params.items() if k in LIBPQ_OPTIONS}
        return {
            **base,
            "NAME": self.name,
            "HOST": self.params.get("host", ""),
            "PORT": self.params.get("port", ""),
            "USER": self.params.get("user", ""),
            "PASSWORD": self.password,
            "OPTIONS": options,
            "CONN_MAX_AGE": 0,
        }


def server_version(conn: psycopg.Connection) -> tuple[int, str]:
    """(major, full version string) of the server, e.g. (15, "15.20 (Debian 15.20-0+deb12u1)")."""
    number = int(conn.execute("SHOW server_version_num").fetchone()[0])
    text = conn.execute("SHOW server_version").fetchone()[0]
    return number // 10000, text


def table_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row count of every ordinary table outside PostgreSQL's own schemas.

    Tables that belong to an extension are left out (pg_dump does not dump them). Tables in
    ``public`` are keyed by name, others by ``schema.name``. One query, so that all counts come
    from the caller's snapshot.
    """
    tables = conn.execute(
        f"""
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND {USER_SCHEMA_FILTER}
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1, 2
        """
    ).fetchall()
    if not tables:
        return {}
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}::int, count(*) FROM ONLY {}").format(
            sql.Literal(index), sql.Identifier(schema, table)
        )
        for index, (schema, table) in enumerate(tables)
    )
    counts = dict(conn.execute(query).fetchall())
    return {
        table if schema == "public" else f"{schema}.{table}": int(counts[index])
        for index, (schema, table) in enumerate(tables)
    }


def applied_migrations(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(app, name) of every applied Django migration, in the order they were applied."""
    if conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
        return []
    return [(app, name) for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY id")]


def migration_state(applied: list[tuple[str, str]]) -> dict[str, Any]:
    """The latest applied migration per app (by order of application), and how many there are."""
    latest: dict[str, str] = {}
    for app, name in applied:
        latest[app] = name
    return {"latest": dict(sorted(latest.items())), "applied": len(applied)}


def database_contents(conn: psycopg.Connection) -> list[str]:
    """What a database holds besides PostgreSQL's own objects; empty for a fresh database."""
    relations, functions = conn.execute(
        f"""
        SELECT
          (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {USER_SCHEMA_FILTER}),
          (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE {USER_SCHEMA_FILTER})
        """
    ).fetchone()
    schemas = [
        row[0]
        for row in conn.execute(
            f"SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMA_FILTER} AND n.nspname <> 'public' "
            "ORDER BY 1"
        )
    ]
    extensions = [
        row[0]
        for row in conn.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")
    ]
    found = []
    if relations:
        found.append(f"{relations} tables, views or sequences")
    if functions:
        found.append(f"{functions} functions")
    if schemas:
        found.append("schemas " + ", ".join(schemas))
    if extensions:
        found.append("extensions " + ", ".join(extensions))
    return found


def reset_schemas(conn: psycopg.Connection) -> None:
    """Drop every schema but PostgreSQL's own (and all they hold) and recreate an empty ``public``."""
    with conn.transaction():
        schemas = [
            row[0] for row in conn.execute(f"SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMA_FILTER}")
        ]
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        for (extension,) in conn.execute(
            "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"
        ).fetchall():
            conn.execute(sql.SQL("DROP EXTENSION IF EXISTS {} CASCADE").format(sql.Identifier(extension)))
        conn.execute("CREATE SCHEMA public")
        conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")


@contextlib.contextmanager
def default_connection_to(database: Database) -> Iterator[None]:
    """Point Django's "default" connection at `database` for the duration (unless it already does)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    current = connections["default"]
    if database.same_as(current.settings_dict):
        yield
        return
    replacement = current.__class__(database.django_settings(current.settings_dict), "default")
    # Content type ids are per database: don't let the other database's cached ones leak in or out.
    ContentType.objects.clear_cache()
    connections["default"] = replacement
    try:
        yield
    finally:
        replacement.close()
        connections["default"] = current
        ContentType.objects.clear_cache()
