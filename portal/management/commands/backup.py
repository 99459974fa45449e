"""`manage.py backup`: one archive of the database and the stored files (see portal/backup.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from portal.backup import Database, create_backup


class Command(BaseCommand):
    help = (
        "Write one timestamped archive (portal-<UTC time>.tar) holding a pg_dump of the database, "
        "the stored files (MEDIA_ROOT, EARNINGS_EXPORT_DIR) and a manifest with checksums and row "
        "counts. Prints the archive's path as the last line."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=os.environ.get("BACKUP_DIR", "backups"),
            help="Folder for the archive (created with mode 0700; default $BACKUP_DIR or backups/).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="After a successful backup, delete all but the KEEP newest archives in --dir.",
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="Back up this database instead of the configured one (postgresql://...).",
        )
        parser.add_argument(
            "--pg-bin",
            default=None,
            help="Directory holding the pg_dump to use (default: chosen by the server's version).",
        )

    def handle(self, *args, **options):
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("--keep must be 1 or more.")
        database = (
            Database.from_url(options["database_url"])
            if options["database_url"]
            else Database.from_settings(connections["default"].settings_dict)
        )
        verbose = options["verbosity"] >= 1
        result = create_backup(
            database,
            Path(options["dir"]),
            pg_bin=options["pg_bin"],
            keep=options["keep"],
            log=(lambda message: self.stdout.write(message)) if verbose else (lambda message: None),
        )
        manifest = result.manifest
        if verbose:
            files = manifest["files"]
            size = result.path.stat().st_size
            self.stdout.write(
                self.style.SUCCESS(
                    f"Backup of {database.where()} written: {len(manifest['tables'])} tables, "
                    f"{manifest['rows']:,} rows, {files['media']['files']} media files, "
                    f"{files['exports']['files']} export files, {size / 1024 / 1024:.1f} MB."
                )
            )
            for path in result.removed:
                self.stdout.write(f"Removed old archive {path} (--keep {options['keep']})")
        self.stdout.write(str(result.path))
