"""`manage.py restore`: verify the archive, restore into an empty (or --force emptied) database, check."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from django.core.management.base import CommandError

from portal.backup.base import (
    ARCHIVE_FORMAT,
    CHUNK,
    DATABASE_PART,
    FILES_PART,
    MANIFEST,
    MANIFEST_SUM,
    PARTS,
    BackupError,
    DamagedArchiveError,
)
from portal.backup.database import (
    Database,
    applied_migrations,
    database_contents,
    default_connection_to,
    migration_state,
    reset_schemas,
    server_version,
    table_row_counts,
)
from portal.backup.files import restore_files
from portal.backup.pgtools import PgTool, find_pg_tool, is_embedded, run_tool


def _damaged(archive: Path, reason: str) -> DamagedArchiveError:
    return DamagedArchiveError(
        f"{archive} is damaged or not a Partner Portal backup, so nothing was restored "
        f"(the target database was not touched): {reason}"
    )


def read_archive(archive: Path, work: Path) -> dict[str, Any]:
    """Unpack `archive` into `work` and verify every checksum; returns the manifest."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    blobs: dict[str, bytes] = {}
    digests: dict[str, tuple[str, int]] = {}
    try:
        with tarfile.open(archive, "r:") as tar:
            for member in tar:
                if member.name not in PARTS or not member.isfile():
                    raise _damaged(archive, f"unexpected entry {member.name!r}")
                if member.name in blobs or member.name in digests:
                    raise _damaged(archive, f"{member.name} appears twice")
                source = tar.extractfile(member)
                assert source is not None
                if member.name in (MANIFEST, MANIFEST_SUM):
                    blobs[member.name] = source.read(16 * CHUNK)
                else:
                    digests[member.name] = _copy_hashing(source, work / member.name)
    except (tarfile.TarError, EOFError) as exc:
        raise _damaged(archive, f"the tar cannot be read ({exc})") from exc
    missing = [part for part in PARTS if part not in blobs and part not in digests]
    if missing:
        raise _damaged(archive, "missing " + ", ".join(missing))
    expected_sum = blobs[MANIFEST_SUM].decode(errors="replace").split()[:1]
    if expected_sum != [hashlib.sha256(blobs[MANIFEST]).hexdigest()]:
        raise _damaged(archive, "manifest.json does not match manifest.sha256")
    try:
        manifest = json.loads(blobs[MANIFEST])
    except ValueError as exc:
        raise _damaged(archive, f"manifest.json is not JSON ({exc})") from exc
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != ARCHIVE_FORMAT:
        raise _damaged(archive, f"unknown archive format {found!r}, expected {ARCHIVE_FORMAT}")
    for part, (digest, size) in digests.items():
        want = manifest.get("parts", {}).get(part, {})
        if want.get("sha256") != digest or want.get("bytes") != size:
            raise _damaged(
                archive,
                f"{part} has sha256 {digest[:16]}… ({size} bytes), the manifest says "
                f"{str(want.get('sha256'))[:16]}… ({want.get('bytes')} bytes)",
            )
    return manifest


def _copy_hashing(source: IO[bytes], destination: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(destination, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def run_history_verify(database: Database, stdout: IO[str] | None = None) -> str:
    """Run `manage.py history_verify` against `database` if that command exists.

    Returns "passed" or "not available" (no such command); any failure raises BackupError.
    """
    from django.core.management import call_command

    try:
        with default_connection_to(database):
            call_command("history_verify", stdout=stdout)
    except CommandError as exc:
        if str(exc).startswith("Unknown command"):
            return "not available"
        raise BackupError(f"the restored history does not verify (manage.py history_verify): {exc}") from exc
    except SystemExit as exc:
        if exc.code:
            raise BackupError(f"manage.py history_verify failed after the restore (exit {exc.code})") from exc
    except Exception as exc:
        raise BackupError(
            f"manage.py history_verify could not check the restored history: {type(exc).__name__}: {exc}"
        ) from exc
    return "passed"


@dataclass
class MigrationCheck:
    """How a database's applied migrations compare with this code's."""

    unknown: list[tuple[str, str]]
    pending: list[tuple[str, str]]

    def notes(self) -> list[str]:
        notes = []
        if self.unknown:
            names = ", ".join(f"{app}.{name}" for app, name in self.unknown[:5])
            notes.append(
                f"{len(self.unknown)} applied migration(s) are unknown to this code ({names}"
                f"{' …' if len(self.unknown) > 5 else ''}): the archive comes from a newer version; "
                "deploy that version before starting the site"
            )
        if self.pending:
            notes.append(
                f"{len(self.pending)} migration(s) of this code are not applied in the archive: "
                "run `manage.py migrate`"
            )
        return notes


def check_migrations(applied: list[tuple[str, str]]) -> MigrationCheck:
    from django.db.migrations.loader import MigrationLoader

    disk_migrations = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    replaced = {old for migration in disk_migrations.values() for old in (migration.replaces or [])}
    applied_set = set(applied)
    return MigrationCheck(
        unknown=sorted(applied_set - set(disk_migrations) - replaced),
        pending=sorted(set(disk_migrations) - applied_set),
    )


PARALLEL_RESTORE_BYTES = 64 * 1024 * 1024


def restore_jobs(dump: Path, requested: int | None) -> int:
    """pg_restore jobs: as requested, else up to 4 (the CPU count) for a dump over 64 MB, else 1."""
    if requested is not None:
        return max(1, requested)
    if dump.stat().st_size < PARALLEL_RESTORE_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    tables: int
    rows: int
    files: dict[str, int]
    pg_restore: PgTool
    jobs: int
    history: str
    notes: list[str]
    replaced: list[str]
    seconds: float


def restore_backup(
    archive: Path,
    database: Database,
    *,
    force: bool = False,
    pg_bin: str | Path | None = None,
    jobs: int | None = None,
    log: Callable[[str], None] = lambda message: None,
    stdout: IO[str] | None = None,
) -> RestoreResult:
    """Verify `archive`, restore it into `database` and the stored-file roots, and check the result."""
    started = time.monotonic()
    archive = Path(archive)
    work_parent = archive.resolve().parent if os.access(archive.resolve().parent, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=".portal-restore-", dir=work_parent) as work_dir:
        work = Path(work_dir)
        log(f"Verifying {archive}")
        manifest = read_archive(archive, work)

        try:
            conn = database.connect(autocommit=True)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to {database.where()}: {exc}") from exc
        with conn:
            major, version = server_version(conn)
            dump_major = int(manifest["pg_dump"]["major"])
            tool = find_pg_tool(
                "pg_restore",
                max(major, dump_major),
                server_version_text=version,
                embedded=is_embedded(database),
                pg_bin=pg_bin,
                env=database.env(),
            )
            if major < int(manifest["database"]["server_major"]):
                log(
                    f"Warning: the archive comes from PostgreSQL {manifest['database']['server_version']}, "
                    f"the target runs {version}; the restore may fail on newer features"
                )
            replaced = database_contents(conn)
            if replaced and not force:
                raise BackupError(
                    f"the target database {database.where()} is not empty ({'; '.join(replaced)}). "
                    "Restore into an empty database, or pass --force (make restore FORCE=1) to drop "
                    "everything in it and restore the archive in its place."
                )
            if replaced:
                log(f"--force: dropping everything in {database.where()} ({'; '.join(replaced)})")
                reset_schemas(conn)

        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--no-password"]
        jobs = restore_jobs(work / DATABASE_PART, jobs)
        # Parallel jobs pay off for big dumps; a small one restores faster in one transaction.
        args.append(f"--jobs={jobs}" if jobs > 1 else "--single-transaction")
        log(f"Restoring the database into {database.where()} with {tool.path} ({tool.version})")
        run_tool(
            tool,
            [*args, f"--dbname={database.conninfo()}", str(work / DATABASE_PART)],
            database.env(),
            "pg_restore",
        )

        log("Restoring stored files")
        files = restore_files(work / FILES_PART)
        for prefix, count in files.items():
            expected = manifest.get("files", {}).get(prefix, {}).get("files", 0)
            if count != expected:
                raise BackupError(f"{count} {prefix} files were restored, the manifest lists {expected}")

    with database.connect(autocommit=True) as conn:
        counts = table_row_counts(conn)
        applied = applied_migrations(conn)
    expected_counts: dict[str, int] = manifest["tables"]
    differences = [
        f"{table}: {expected_counts.get(table, 'absent')} in the archive, "
        f"{counts.get(table, 'absent')} restored"
        for table in sorted(set(expected_counts) | set(counts))
        if expected_counts.get(table) != counts.get(table)
    ]
    if differences:
        raise BackupError(
            "the restore finished but its row counts differ from the archive's manifest:\n  "
            + "\n  ".join(differences[:20])
        )
    restored_state = migration_state(applied)["latest"]
    notes = []
    if restored_state != manifest["migrations"]["latest"]:
        notes.append("the restored migration state differs from the manifest's")
    migrations = check_migrations(applied)
    notes += migrations.notes()
    if migrations.unknown or migrations.pending:
        # The restored schema is not this code's: the ORM-based check cannot run yet.
        history = "not run (the schema does not match this code's migrations; run it after migrating)"
    else:
        history = run_history_verify(database, stdout=stdout)
    return RestoreResult(
        manifest=manifest,
        tables=len(counts),
        rows=sum(counts.values()),
        files=files,
        pg_restore=tool,
        jobs=jobs,
        history=history,
        notes=notes,
        replaced=replaced,
        seconds=time.monotonic() - started,
    )
