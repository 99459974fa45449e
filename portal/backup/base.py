"""Archive layout constants, errors and checksums shared by backup and restore."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.core.management.base import CommandError

ARCHIVE_FORMAT = "partner-portal-backup/1"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATABASE_PART = "database.dump"
FILES_PART = "files.tar"
PARTS = (MANIFEST, MANIFEST_SUM, DATABASE_PART, FILES_PART)
ARCHIVE_NAME_RE = re.compile(r"^portal-\d{8}T\d{6}Z\.tar$")
CHUNK = 1024 * 1024

# libpq connection keywords that may appear in DATABASES["default"]["OPTIONS"].
LIBPQ_OPTIONS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslpassword",
        "sslcompression",
        "channel_binding",
        "gssencmode",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "passfile",
        "service",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
    }
)

# Every schema but PostgreSQL's own.
USER_SCHEMA_FILTER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
)


class BackupError(CommandError):
    """A backup or restore that cannot go on; the message says why and what to do."""


class DamagedArchiveError(BackupError):
    """The archive is unreadable or does not match its manifest; nothing was restored."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
