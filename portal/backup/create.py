"""`manage.py backup`: one archive, written atomically, from one database snapshot."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from portal.backup.base import (
    ARCHIVE_FORMAT,
    ARCHIVE_NAME_RE,
    DATABASE_PART,
    FILES_PART,
    MANIFEST,
    MANIFEST_SUM,
    BackupError,
    sha256_file,
)
from portal.backup.database import (
    Database,
    applied_migrations,
    migration_state,
    server_version,
    table_row_counts,
)
from portal.backup.files import add_bytes, add_file, write_files_tar
from portal.backup.pgtools import find_pg_tool, is_embedded, run_tool


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    removed: list[Path]


def create_backup(
    database: Database,
    out_dir: Path,
    *,
    pg_bin: str | Path | None = None,
    keep: int | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> BackupResult:
    """Write one archive of `database` and the stored files into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    started = datetime.now(UTC).replace(microsecond=0)
    target = out_dir / f"portal-{started:%Y%m%dT%H%M%SZ}.tar"
    if target.exists():
        raise BackupError(f"{target} already exists; wait a second and run the backup again")
    embedded = is_embedded(database)
    with tempfile.TemporaryDirectory(prefix=".portal-backup-", dir=out_dir) as work_dir:
        work = Path(work_dir)
        dump = work / DATABASE_PART
        try:
            conn = database.connect(autocommit=False)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to {database.where()}: {exc}") from exc
        with conn:
            # One REPEATABLE READ snapshot for the row counts, the migration state and pg_dump.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            major, version = server_version(conn)
            tool = find_pg_tool(
                "pg_dump",
                major,
                server_version_text=version,
                embedded=embedded,
                pg_bin=pg_bin,
                env=database.env(),
            )
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            counts = table_row_counts(conn)
            migrations = migration_state(applied_migrations(conn))
            log(f"Dumping {database.where()} (PostgreSQL {version}) with {tool.path} ({tool.version})")
            run_tool(
                tool,
                [
                    "--format=custom",
                    f"--file={dump}",
                    f"--snapshot={snapshot}",
                    "--no-password",
                    "--lock-wait-timeout=120s",
                    f"--dbname={database.conninfo()}",
                ],
                database.env(),
                "pg_dump",
            )
            conn.rollback()
        log("Archiving stored files")
        files = write_files_tar(work / FILES_PART)
        manifest = {
            "format": ARCHIVE_FORMAT,
            "created_at": started.isoformat().replace("+00:00", "Z"),
            "database": {
                "name": database.name,
                "server_version": version,
                "server_major": major,
                "embedded": embedded,
            },
            "pg_dump": {"version": tool.version, "major": tool.major},
            "migrations": migrations,
            "tables": counts,
            "rows": sum(counts.values()),
            "files": files,
            "parts": {
                part: {"sha256": sha256_file(work / part), "bytes": (work / part).stat().st_size}
                for part in (DATABASE_PART, FILES_PART)
            },
        }
        manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode()
        digest = hashlib.sha256(manifest_bytes).hexdigest()
        partial = work / (target.name + ".partial")
        mtime = started.timestamp()
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            add_bytes(tar, MANIFEST, manifest_bytes, mtime)
            add_bytes(tar, MANIFEST_SUM, f"{digest}  {MANIFEST}\n".encode(), mtime)
            add_file(tar, DATABASE_PART, dump, mtime)
            add_file(tar, FILES_PART, work / FILES_PART, mtime)
        partial.chmod(0o600)
        os.replace(partial, target)
    removed = prune_archives(out_dir, keep) if keep else []
    return BackupResult(path=target, manifest=manifest, removed=removed)


def prune_archives(out_dir: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest portal-*.tar archives in `out_dir`; returns what went."""
    archives = sorted(p for p in Path(out_dir).iterdir() if ARCHIVE_NAME_RE.match(p.name) and p.is_file())
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
    return doomed
