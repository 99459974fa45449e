"""Choosing and running pg_dump / pg_restore: at least as new as the server (and the archive)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from portal.backup.base import BackupError
from portal.backup.database import Database

# Debian/Ubuntu install each major version's client tools here, side by side.
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class PgTool:
    path: Path
    major: int
    version: str


def tool_version(path: Path, env: dict[str, str] | None = None) -> PgTool | None:
    """Run `path --version`; None if it is missing, fails or does not look like PostgreSQL's."""
    try:
        result = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(result.stdout)
    if result.returncode != 0 or not match:
        return None
    return PgTool(path=path, major=int(match.group(1)), version=result.stdout.strip().split(") ", 1)[-1])


def pgserver_bin_dir() -> Path | None:
    """The bin/ directory of the PostgreSQL inside the pgserver package (without importing it)."""
    try:
        spec = importlib.util.find_spec("pgserver")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    return bin_dir if bin_dir.is_dir() else None


def is_embedded(database: Database) -> bool:
    """True if `database` is served by the embedded PostgreSQL of portal/embedded.py."""
    from portal import embedded

    info = embedded._postmaster_info((embedded.DEFAULT_DATA_DIR / "pg").resolve())
    if info is None:
        return False
    _pid, socket_dir, port = info
    return database.params.get("host") == str(socket_dir) and int(database.params.get("port") or 5432) == port


def tool_candidates(name: str, server_major: int, *, embedded: bool, pg_bin: str | Path | None) -> list[Path]:
    """Where to look for `name`, in order of preference (duplicates and symlinks removed)."""
    if pg_bin:
        return [Path(pg_bin) / name]
    bundled = pgserver_bin_dir()
    candidates: list[Path] = []
    if embedded and bundled:
        candidates.append(bundled / name)
    candidates += [Path(d) / name for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    debian = DEBIAN_PG_ROOT
    candidates.append(debian / str(server_major) / "bin" / name)
    if debian.is_dir():
        # Then newer majors, the closest first.
        majors = sorted(int(p.name) for p in debian.iterdir() if p.name.isdigit())
        candidates += [debian / str(major) / "bin" / name for major in majors if major > server_major]
    if bundled:
        candidates.append(bundled / name)
    unique, seen = [], set()
    for path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def find_pg_tool(
    name: str,
    min_major: int,
    *,
    server_version_text: str,
    embedded: bool,
    pg_bin: str | Path | None = None,
    env: dict[str, str] | None = None,
) -> PgTool:
    """The first `name` (pg_dump, pg_restore) of PostgreSQL `min_major` or newer; else a clear error."""
    tried = []
    for path in tool_candidates(name, min_major, embedded=embedded, pg_bin=pg_bin):
        tool = tool_version(path, env) if path.is_file() else None
        if tool is None:
            tried.append(f"{path} ({'does not run' if path.is_file() else 'not found'})")
            continue
        if tool.major >= min_major:
            return tool
        tried.append(f"{path} (PostgreSQL {tool.major})")
    raise BackupError(
        f"no {name} of PostgreSQL {min_major} or newer was found (the server runs {server_version_text}; "
        f"tried {', '.join(tried) or 'PATH and /usr/lib/postgresql/*/bin'}). Install the PostgreSQL "
        f"{min_major} client tools (Debian/Ubuntu: apt-get install postgresql-client-{min_major}) or "
        f"pass --pg-bin with the directory that holds a {name} of version {min_major} or newer."
    )


def run_tool(tool: PgTool, args: list[str], env: dict[str, str], what: str) -> None:
    """Run a PostgreSQL client tool; a failure becomes a BackupError with the end of its output."""
    result = subprocess.run(
        [str(tool.path), *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(output[-20:]))
