"""`manage.py restore ARCHIVE`: restore a `manage.py backup` archive (see portal/backup.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connections

from portal.backup import Database, restore_backup, stored_file_roots


class Command(BaseCommand):
    help = (
        "Restore an archive written by `manage.py backup`: verify its checksums, pg_restore the "
        "database into an empty target (--force empties a non-empty one first), put the stored "
        "files back into MEDIA_ROOT and EARNINGS_EXPORT_DIR, then check every table's row count "
        "against the manifest (and run history_verify when it exists)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The portal-*.tar archive to restore.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore into a non-empty database: drop every schema in it (all its data) first.",
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="Restore into this database instead of the configured one (postgresql://...).",
        )
        parser.add_argument(
            "--pg-bin",
            default=None,
            help="Directory holding the pg_restore to use (default: chosen by the server's version).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="Parallel pg_restore jobs (default: up to 4 for a dump over 64 MB; else one transaction).",
        )

    def handle(self, *args, **options):
        database = (
            Database.from_url(options["database_url"])
            if options["database_url"]
            else Database.from_settings(connections["default"].settings_dict)
        )
        verbose = options["verbosity"] >= 1
        result = restore_backup(
            Path(options["archive"]),
            database,
            force=options["force"],
            pg_bin=options["pg_bin"],
            jobs=options["jobs"],
            log=(lambda message: self.stdout.write(message)) if verbose else (lambda message: None),
            stdout=self.stdout,
        )
        manifest = result.manifest
        source = manifest["database"]
        mode = f"{result.jobs} parallel jobs" if result.jobs > 1 else "one transaction"
        roots = stored_file_roots()
        files = ", ".join(f"{count} into {roots[prefix]}" for prefix, count in result.files.items())
        lines = [
            f"Restored {options['archive']} into {database.where()}",
            f'  archive:     made {manifest["created_at"]} from database "{source["name"]}" '
            f"(PostgreSQL {source['server_version']}, pg_dump {manifest['pg_dump']['version']})",
            f"  database:    {result.tables} tables, {result.rows:,} rows "
            "(every table's row count matches the manifest)",
            f"  files:       {files}",
            f"  migrations:  {len(manifest['migrations']['latest'])} apps, "
            f"{manifest['migrations']['applied']} applied migrations",
            f"  history:     history_verify {result.history}",
            f"  pg_restore:  {result.pg_restore.version}, {mode}; {result.seconds:.1f}s in all",
        ]
        if result.replaced:
            lines.insert(1, f"  replaced:    {'; '.join(result.replaced)} (--force)")
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"  note: {note}"))
