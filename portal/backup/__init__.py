"""Backup and restore of the database and the stored files (``manage.py backup`` / ``restore``).

An archive is one uncompressed tar, ``portal-<UTC timestamp>.tar``, holding::

    manifest.json     what is inside: when, which database, migration state, row counts, sha256s
    manifest.sha256   sha256 of manifest.json (so a damaged manifest is noticed too)
    database.dump     pg_dump --format=custom (compressed), taken in one snapshot
    files.tar         the stored files: media/... (MEDIA_ROOT), exports/... (EARNINGS_EXPORT_DIR)

The row counts in the manifest are counted in the same snapshot pg_dump dumps (the backup exports
its snapshot to pg_dump), so a restore can check that every table came back whole even when the
backup ran while the site was busy.

pg_dump / pg_restore must be at least as new as the server (and pg_restore at least as new as the
pg_dump that wrote the archive): the embedded PostgreSQL uses the binaries inside the ``pgserver``
package; a configured server uses the first tool on PATH that is new enough, then
``/usr/lib/postgresql/<major>/bin``, then pgserver's as a last resort (``--pg-bin DIR`` overrides).
"""

from portal.backup.base import ARCHIVE_FORMAT, BackupError, DamagedArchiveError
from portal.backup.create import BackupResult, create_backup, prune_archives
from portal.backup.database import Database, database_contents, table_row_counts
from portal.backup.files import stored_file_roots
from portal.backup.pgtools import PgTool, find_pg_tool
from portal.backup.restore import RestoreResult, read_archive, restore_backup, run_history_verify

__all__ = [
    "ARCHIVE_FORMAT",
    "BackupError",
    "BackupResult",
    "DamagedArchiveError",
    "Database",
    "PgTool",
    "RestoreResult",
    "create_backup",
    "database_contents",
    "find_pg_tool",
    "prune_archives",
    "read_archive",
    "restore_backup",
    "run_history_verify",
    "stored_file_roots",
    "table_row_counts",
]
