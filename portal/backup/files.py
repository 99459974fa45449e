"""The stored files: MEDIA_ROOT and EARNINGS_EXPORT_DIR, as media/... and exports/... in files.tar."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

from django.conf import settings

from portal.backup.base import DamagedArchiveError


def stored_file_roots() -> dict[str, Path]:
    """Where stored files live, by their folder name inside files.tar."""
    return {"media": Path(settings.MEDIA_ROOT), "exports": Path(settings.EARNINGS_EXPORT_DIR)}


def write_files_tar(path: Path) -> dict[str, dict[str, Any]]:
    """Tar every regular file under the stored-file roots; returns counts and sizes per root."""
    roots = stored_file_roots()
    resolved = {prefix: root.resolve() for prefix, root in roots.items()}
    summary: dict[str, dict[str, Any]] = {}
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for prefix, root in roots.items():
            # A root nested in another is archived under its own name only.
            nested = {r for p, r in resolved.items() if p != prefix and r != resolved[prefix]}
            files = size = skipped = 0
            if root.is_dir():
                for dirpath, dirnames, filenames in os.walk(root):
                    dirnames[:] = sorted(d for d in dirnames if (Path(dirpath) / d).resolve() not in nested)
                    for filename in sorted(filenames):
                        file_path = Path(dirpath) / filename
                        if file_path.is_symlink() or not file_path.is_file():
                            skipped += 1
                            continue
                        info = tar.gettarinfo(file_path, f"{prefix}/{file_path.relative_to(root).as_posix()}")
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                        with open(file_path, "rb") as handle:
                            tar.addfile(info, handle)
                        files += 1
                        size += info.size
            summary[prefix] = {"path": str(root), "files": files, "bytes": size, "skipped": skipped}
    return summary


def restore_files(files_tar: Path) -> dict[str, int]:
    """Extract files.tar into the configured roots (existing files of the same name are replaced)."""
    roots = stored_file_roots()
    restored = dict.fromkeys(roots, 0)
    with tarfile.open(files_tar, "r:") as tar:
        for member in tar:
            prefix, _, relative = member.name.partition("/")
            if prefix not in roots or not relative or not member.isfile():
                raise DamagedArchiveError(f"files.tar holds an unexpected entry {member.name!r}")
            roots[prefix].mkdir(parents=True, exist_ok=True)
            member.name = relative
            # The "data" filter refuses absolute paths, "..", links and device files.
            tar.extract(member, roots[prefix], filter="data")
            restored[prefix] += 1
    return restored


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
    tar.addfile(info, io.BytesIO(data))


def add_file(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = path.stat().st_size, int(mtime), 0o600
    with open(path, "rb") as handle:
        tar.addfile(info, handle)
