"""Restore drill: `manage.py backup` of the test database, `manage.py restore` into a fresh one.

pg_dump runs in another process and must see committed rows, hence `transaction=True`. The fresh
database is created here (CREATE DATABASE with a unique name) and dropped at the end.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import override_settings
from psycopg import sql

from portal import backup
from portal.backup import Database, database_contents, pgtools, table_row_counts
from tests.factories import CustomerFactory, HistoryEventFactory, ProofDocumentFactory, UserFactory

drill = pytest.mark.django_db(transaction=True)


def source_database() -> Database:
    return Database.from_settings(connection.settings_dict)


@pytest.fixture
def fresh_database():
    """An empty database next to the test database, dropped afterwards."""
    source = source_database()
    name = f"test_portal_restore_{uuid.uuid4().hex[:12]}"
    admin = Database({**source.params, "dbname": "postgres"}, source.password)
    with admin.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Database({**source.params, "dbname": name}, source.password)
    finally:
        with admin.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def counts_of(database: Database) -> dict[str, int]:
    with database.connect() as conn:
        return table_row_counts(conn)


def contents_of(database: Database) -> list[str]:
    with database.connect() as conn:
        return database_contents(conn)


def row(database: Database, query: str, *params) -> tuple:
    with database.connect() as conn:
        return conn.execute(query, params).fetchone()


def run_backup(out_dir: Path) -> Path:
    stdout = io.StringIO()
    call_command("backup", "--dir", str(out_dir), stdout=stdout)
    archive = Path(stdout.getvalue().strip().splitlines()[-1])
    assert archive.parent == out_dir and archive.is_file()
    return archive


def run_restore(archive: Path, database: Database, tmp_path: Path, *args: str) -> str:
    """Restore into `database`, with the stored-file roots pointing at folders of their own."""
    stdout = io.StringIO()
    with override_settings(
        MEDIA_ROOT=tmp_path / "restored-media", EARNINGS_EXPORT_DIR=tmp_path / "restored-exports"
    ):
        call_command(
            "restore",
            str(archive),
            "--database-url",
            database_url(database),
            *args,
            stdout=stdout,
        )
    return stdout.getvalue()


def database_url(database: Database) -> str:
    params = database.params
    password = f":{database.password}" if database.password else ""
    host = params.get("host", "")
    if host.startswith("/"):
        from portal.embedded import _encode_socket_host

        host = _encode_socket_host(Path(host))
    user, port = params.get("user", ""), params.get("port", 5432)
    return f"postgresql://{user}{password}@{host}:{port}/{params['dbname']}"


@pytest.fixture
def stored_rows(settings):
    """A customer, a user, history events and a proof file in MEDIA_ROOT, an export file."""
    customer = CustomerFactory(name="Contoso Restore Drill", domain="contoso-drill.onmicrosoft.example")
    user = UserFactory(organization=customer.organization, email="drill@alpha.example")
    HistoryEventFactory(organization=customer.organization, to_status="created")
    HistoryEventFactory(organization=customer.organization, from_status="created", to_status="approved")
    payload = b"%PDF-1.4 proof of execution\n" + os.urandom(4096)
    proof = ProofDocumentFactory(claim__organization=customer.organization, file__data=payload)
    export = Path(settings.EARNINGS_EXPORT_DIR) / "drill" / "earnings.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_bytes(b"transaction,amount\r\n1,=2+3\r\n")
    yield {"customer": customer, "user": user, "proof": proof, "payload": payload, "export": export}
    export.unlink(missing_ok=True)
    proof.file.delete(save=False)


@drill
def test_restore_drill(stored_rows, fresh_database, tmp_path, settings):
    source = source_database()
    archive = run_backup(tmp_path / "backups")

    # One archive: manifest (+ its checksum), the custom-format dump and the stored files.
    assert archive.name.startswith("portal-") and archive.suffix == ".tar"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["manifest.json", "manifest.sha256", "database.dump", "files.tar"]
        manifest = json.load(tar.extractfile("manifest.json"))
        assert tar.extractfile("database.dump").read(5) == b"PGDMP"
        with tarfile.open(fileobj=tar.extractfile("files.tar")) as files:
            names = files.getnames()
    assert f"media/{stored_rows['proof'].file.name}" in names
    assert "exports/drill/earnings.csv" in names
    assert manifest["database"]["name"] == source.name
    assert manifest["tables"] == counts_of(source)
    assert manifest["tables"]["accounts_customer"] >= 1
    assert manifest["migrations"]["latest"]["portal"]
    assert manifest["pg_dump"]["major"] >= manifest["database"]["server_major"]
    assert set(manifest["parts"]) == {"database.dump", "files.tar"}

    output = run_restore(archive, fresh_database, tmp_path)
    assert "every table's row count matches the manifest" in output
    expected_history = "passed" if "history_verify" in get_commands() else "not available"
    assert f"history_verify {expected_history}" in output

    # Every table has the same number of rows; one customer and one user read back the same.
    assert counts_of(fresh_database) == counts_of(source)
    customer_query = (
        "SELECT name, domain, country, segment, organization_id FROM accounts_customer WHERE id = %s"
    )
    assert row(fresh_database, customer_query, stored_rows["customer"].pk) == row(
        source, customer_query, stored_rows["customer"].pk
    )
    user_query = "SELECT email, password, organization_id FROM accounts_user WHERE id = %s"
    assert row(fresh_database, user_query, stored_rows["user"].pk) == row(
        source, user_query, stored_rows["user"].pk
    )
    assert row(fresh_database, user_query, stored_rows["user"].pk)[0] == "drill@alpha.example"

    # Stored files came back byte for byte.
    restored_proof = tmp_path / "restored-media" / stored_rows["proof"].file.name
    assert restored_proof.read_bytes() == stored_rows["payload"]
    restored_export = tmp_path / "restored-exports" / "drill" / "earnings.csv"
    assert restored_export.read_bytes() == stored_rows["export"].read_bytes()

    # The restored database is no longer empty: a second restore is refused without --force...
    restored_counts = counts_of(fresh_database)
    with pytest.raises(CommandError, match="is not empty.*--force"):
        run_restore(archive, fresh_database, tmp_path)
    assert counts_of(fresh_database) == restored_counts

    # ...and with --force replaces everything in it by the archive's contents.
    with fresh_database.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE leftover (id int)")
        conn.execute("DELETE FROM accounts_customer WHERE id = %s", [stored_rows["customer"].pk])
    output = run_restore(archive, fresh_database, tmp_path, "--force")
    assert "--force" in output
    assert counts_of(fresh_database) == counts_of(source)


@drill
def test_a_damaged_archive_is_refused_and_the_target_untouched(stored_rows, fresh_database, tmp_path):
    archive = run_backup(tmp_path / "backups")
    original = archive.read_bytes()
    with tarfile.open(archive) as tar:
        dump = tar.getmember("database.dump")
        manifest_member = tar.getmember("manifest.json")
    assert contents_of(fresh_database) == []

    # One flipped byte in the middle of the dump.
    damaged = bytearray(original)
    damaged[dump.offset_data + dump.size // 2] ^= 0xFF
    archive.write_bytes(bytes(damaged))
    with pytest.raises(CommandError, match="damaged.*not touched.*database.dump has sha256"):
        run_restore(archive, fresh_database, tmp_path)

    # A manifest edited by hand (a row count changed) no longer matches manifest.sha256.
    damaged = bytearray(original)
    start = manifest_member.offset_data
    text = bytes(damaged[start : start + manifest_member.size])
    edited = text.replace(b'"accounts_customer": ', b'"accounts_customer": 9')
    assert len(edited) > len(text)
    edited = edited.replace(b"  ", b" ", 1)
    assert len(edited) == len(text)
    damaged[start : start + manifest_member.size] = edited
    archive.write_bytes(bytes(damaged))
    with pytest.raises(CommandError, match=r"manifest.json does not match manifest.sha256"):
        run_restore(archive, fresh_database, tmp_path)

    # A truncated archive (an interrupted copy).
    archive.write_bytes(original[: dump.offset_data + dump.size // 3])
    with pytest.raises(CommandError, match="damaged"):
        run_restore(archive, fresh_database, tmp_path)

    assert contents_of(fresh_database) == []
    assert not (tmp_path / "restored-media").exists()
    assert not (tmp_path / "restored-exports").exists()


@drill
def test_restore_refuses_a_non_empty_database_without_force(stored_rows, tmp_path):
    """The test database itself is the non-empty target: nothing in it may change."""
    source = source_database()
    archive = run_backup(tmp_path / "backups")
    before = counts_of(source)
    with pytest.raises(CommandError, match=r"not empty \(\d+ tables, views or sequences"):
        run_restore(archive, source, tmp_path)
    assert counts_of(source) == before
    assert not (tmp_path / "restored-media").exists()


def test_backup_keeps_only_the_newest_archives(tmp_path):
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / f"portal-{stamp}.tar").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an archive")
    removed = backup.prune_archives(tmp_path, keep=2)
    assert [path.name for path in removed] == ["portal-20260101T000000Z.tar"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "notes.txt",
        "portal-20260102T000000Z.tar",
        "portal-20260103T000000Z.tar",
    ]


# --------------------------------------------------------------------------- choosing pg_dump


def fake_tool(directory: Path, name: str, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """pg_dump 14 and 16 on PATH (in that order), pgserver's 16.2, no /usr/lib/postgresql ones."""
    old = fake_tool(tmp_path / "pg14", "pg_dump", "14.11")
    new = fake_tool(tmp_path / "pg16", "pg_dump", "16.4 (Debian 16.4-1)")
    bundled = fake_tool(tmp_path / "pgserver", "pg_dump", "16.2")
    monkeypatch.setenv("PATH", os.pathsep.join([str(old.parent), str(new.parent)]))
    monkeypatch.setattr(pgtools, "pgserver_bin_dir", lambda: bundled.parent)
    monkeypatch.setattr(pgtools, "DEBIAN_PG_ROOT", tmp_path / "usr-lib-postgresql")
    return {"old": old, "new": new, "bundled": bundled}


def test_a_configured_server_gets_the_first_new_enough_pg_dump_on_path(tools):
    assert backup.find_pg_tool("pg_dump", 14, server_version_text="14", embedded=False).path == tools["old"]
    chosen = backup.find_pg_tool("pg_dump", 15, server_version_text="15.20", embedded=False)
    assert (chosen.path, chosen.major) == (tools["new"], 16)


def test_the_embedded_server_gets_pgservers_pg_dump(tools):
    chosen = backup.find_pg_tool("pg_dump", 14, server_version_text="16.2", embedded=True)
    assert chosen.path == tools["bundled"]


def test_no_new_enough_pg_dump_is_a_clear_error(tools):
    with pytest.raises(CommandError) as caught:
        backup.find_pg_tool("pg_dump", 17, server_version_text="17.2", embedded=False)
    message = str(caught.value)
    assert "no pg_dump of PostgreSQL 17 or newer" in message
    assert f"{tools['old']} (PostgreSQL 14)" in message and f"{tools['new']} (PostgreSQL 16)" in message
    assert "postgresql-client-17" in message and "--pg-bin" in message


def test_pg_bin_overrides_the_search(tools, tmp_path):
    chosen = backup.find_pg_tool(
        "pg_dump", 14, server_version_text="14", embedded=True, pg_bin=tmp_path / "pg16"
    )
    assert chosen.path == tools["new"]
    with pytest.raises(CommandError, match=r"nowhere/pg_dump \(not found\)"):
        backup.find_pg_tool(
            "pg_dump", 14, server_version_text="14", embedded=False, pg_bin=tmp_path / "nowhere"
        )


# --------------------------------------------------------------------------- history_verify


def test_history_verify_failure_fails_the_restore(monkeypatch):
    import django.core.management

    def broken(name, **kwargs):
        raise CommandError("1 of 2 history chains broken: organization 7 at seq 3, row id 41")

    monkeypatch.setattr(django.core.management, "call_command", broken)
    with pytest.raises(CommandError, match="does not verify.*organization 7 at seq 3"):
        backup.run_history_verify(source_database())


def test_a_missing_history_verify_command_is_skipped(monkeypatch):
    import django.core.management

    def unknown(name, **kwargs):
        raise CommandError(f"Unknown command: {name!r}")

    monkeypatch.setattr(django.core.management, "call_command", unknown)
    assert backup.run_history_verify(source_database()) == "not available"
