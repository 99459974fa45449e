"""Shared helpers of the bench scripts (design §6).

Every script: `--rows N` (realistic default) and `--quick` (small scale, the whole script under a
minute), builds its data set-based in a SEPARATE database (`portal_bench`, derived from
DATABASE_URL), and prints one `BENCH …` line per figure, last.

Import this module before anything from Django: `setup_django()` sets the environment the settings
read (DEBUG off, bench-only secret, plain HTTP) and points DATABASE_URL at the bench database.
"""

from __future__ import annotations

import argparse
import operator
import os
import socket
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/portal"
BENCH_DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME", "portal_bench")

# Forced: the bench talks plain HTTP to 127.0.0.1 with DEBUG off, like production minus TLS.
FORCED_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
}
# Defaults: a caller may override them.
DEFAULT_ENV = {
    "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production",
    "CACHE_KEY_PREFIX": "bench",
    "LOG_LEVEL": "WARNING",
}


# --- Arguments and output -----------------------------------------------------------------------


def parse_args(
    description: str,
    *,
    default_rows: int,
    quick_rows: int,
    configure: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: list[str] | None = None,
) -> argparse.Namespace:
    """`--rows N` (default `default_rows`; `quick_rows` with `--quick`) and `--quick`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=None, help=f"data set size (default {default_rows})")
    parser.add_argument(
        "--quick", action="store_true", help=f"small scale, short runs (rows default {quick_rows})"
    )
    if configure is not None:
        configure(parser)
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = quick_rows if args.quick else default_rows
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


_OPERATORS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


def fmt(number: float) -> str:
    """Integers as integers, other values with a precision that suits their size."""
    if float(number).is_integer():
        return str(int(number))
    if abs(number) >= 100:
        return f"{number:.0f}"
    if abs(number) >= 1:
        return f"{number:.1f}"
    return f"{number:.3f}"


def bench_line(
    name: str,
    value: float,
    unit: str,
    reference: float,
    ref_unit: str,
    ratio: float,
    op: str,
    target: float,
) -> str:
    """Print and return `BENCH <name> value=<x><unit> reference=<y><unit> ratio=<r> target=<op><t> ok=…`.

    `ok` compares the ratio as printed (rounded to three decimals), so the line never contradicts
    itself.
    """
    if op not in _OPERATORS:
        raise ValueError(f"Unknown operator {op!r}; use one of {', '.join(_OPERATORS)}")
    shown = round(ratio, 3)
    ok = "yes" if _OPERATORS[op](shown, target) else "no"
    line = (
        f"BENCH {name} value={fmt(value)}{unit} reference={fmt(reference)}{ref_unit} "
        f"ratio={shown:.3f} target={op}{target:g} ok={ok}"
    )
    print(line, flush=True)
    return line


def info(message: str) -> None:
    """A progress or detail line; the BENCH lines come last."""
    print(f"  {message}", flush=True)


# --- Environment and database ---------------------------------------------------------------------


def bench_database_url(database_url: str | None = None, name: str = BENCH_DATABASE_NAME) -> str:
    """DATABASE_URL with its database name replaced by the bench database's."""
    parts = urlsplit(database_url or os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    return urlunsplit(parts._replace(path=f"/{name}"))


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of this process and of servers it starts (bench database, DEBUG off)."""
    env = dict(os.environ)
    for key, value in DEFAULT_ENV.items():
        env.setdefault(key, value)
    env.update(FORCED_ENV)
    env.pop("PORTAL_TESTING", None)
    env["DATABASE_URL"] = bench_database_url(os.environ.get("DATABASE_URL"))
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{existing}" if existing else str(ROOT)
    if extra:
        env.update(extra)
    return env


def ensure_database(url: str) -> bool:
    """Create the database `url` names when it is missing; True when it was created."""
    import psycopg  # noqa: PLC0415 - only the bench needs it here
    from psycopg import sql  # noqa: PLC0415

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    candidates = [urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path="/template1"))]
    last_error: Exception | None = None
    for maintenance in candidates:
        try:
            with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if exists:
                    return False
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                return True
        except psycopg.OperationalError as exc:
            last_error = exc
    raise SystemExit(f"Cannot reach PostgreSQL to create {name!r}: {last_error}")


def setup_django(extra_env: dict[str, str] | None = None, *, migrate: bool = True) -> dict[str, str]:
    """Point this process at the bench database, set Django up, migrate quietly.

    Returns the environment to give servers the script starts.
    """
    env = bench_env(extra_env)
    os.environ.clear()
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    created = ensure_database(env["DATABASE_URL"])
    if created:
        info(f"created database {urlsplit(env['DATABASE_URL']).path.lstrip('/')}")

    # DEBUG is off and the bench serves no static files: whitenoise's "No directory at
    # staticfiles/" warning (collectstatic has not run) is noise here.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django  # noqa: PLC0415 - after the environment is set

    django.setup()
    if migrate:
        from django.core.management import call_command  # noqa: PLC0415

        call_command("migrate", interactive=False, verbosity=0)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
