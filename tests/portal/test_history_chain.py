"""The history is one hash chain per organization: numbered, linked, append-only, verifiable."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Customer
from portal.capabilities import Capability
from portal.chain import GENESIS
from portal.history import Entry, history_for, history_record, history_record_many, link_of
from portal.history_views import HEADER
from portal.models import HistoryEvent
from tests.factories import CustomerFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

TABLE = HistoryEvent._meta.db_table


def verify(*args: str) -> str:
    out = StringIO()
    call_command("history_verify", *args, stdout=out)
    return out.getvalue()


def behind_the_guard(sql: str, params: list) -> None:
    """What a database superuser can still do: switch the guard off, write, switch it on again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def chain(organization) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.filter(organization=organization).order_by("seq"))


@pytest.fixture
def written(alice, org_b, monkeypatch):
    """History written the way services write it, for two organizations.

    The subject is a customer, a model of the layer just above portal; for the download it offers
    its history the way tracked models do (`history_capabilities`).
    """
    monkeypatch.setattr(Customer, "history_capabilities", (Capability.CUSTOMERS_VIEW,), raising=False)
    customer = CustomerFactory(organization=alice.organization)
    other = CustomerFactory(organization=org_b)
    history_record(subject=customer, actor=alice, from_status="", to_status="draft", note="=1+1")
    history_record(subject=other, actor=None, to_status="draft")
    history_record(
        subject=customer,
        actor=alice,
        from_status="draft",
        to_status="submitted",
        note="Zweiter Versuch: «ü»\nline two",
        data={"amount": 12.5, "on": timezone.now().date(), "tags": ["a", None, True, 3]},
    )
    content_type = ContentType.objects.get_for_model(customer)
    history_record_many(
        [
            Entry(organization_id=org_b.pk, content_type=content_type, object_id=str(other.pk), to_status=s)
            for s in ("submitted", "approved")
        ],
        actor="microsoft",
    )
    return customer, other


def test_each_organization_has_its_own_numbered_linked_chain(written, alice, org_b):
    for organization, length in ((alice.organization, 2), (org_b, 3)):
        events = chain(organization)
        assert [event.seq for event in events] == list(range(1, length + 1))
        assert [event.prev_hash for event in events] == [GENESIS, *(event.hash for event in events[:-1])]
        for event in events:
            assert link_of(event, f"accounts.{event.content_type.model}").hash() == event.hash


def test_the_payload_is_stored_as_it_was_hashed(written):
    customer, _ = written
    event = history_for(customer).last()
    assert event.data == {
        "amount": "12.5",
        "on": timezone.now().date().isoformat(),
        "tags": ["a", None, True, 3],
    }


def test_history_verify_passes_on_history_written_by_services(written, alice, org_b):
    out = verify()
    assert f"organization {alice.organization.pk}: 2 events, head {chain(alice.organization)[-1].hash}" in out
    assert f"organization {org_b.pk}: 3 events" in out
    assert "History verified: 2 organizations, 5 events, every link holds." in out
    assert "History verified: 1 organizations, 3 events" in verify("--organization", str(org_b.pk))


def test_the_database_refuses_update_and_delete(written):
    customer, _ = written
    events = history_for(customer)
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        events.update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        HistoryEvent.objects.filter(pk=events.first().pk)._raw_delete(connection.alias)
    event = events.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        event.note = "rewritten"
        event.save()
    assert history_for(customer).first().note == "=1+1"


def test_a_note_edited_behind_the_guard_is_named_by_history_verify(written, alice):
    customer, _ = written
    edited = history_for(customer).first()
    behind_the_guard(f"UPDATE {TABLE} SET note = %s WHERE id = %s", ["harmless", edited.pk])
    with pytest.raises(
        CommandError, match=f"organization {alice.organization.pk} at seq 1, row id {edited.pk}"
    ):
        verify()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("history_verify", stdout=out)
    assert f"organization {alice.organization.pk}: BROKEN at seq 1, row id {edited.pk}: hash mismatch" in (
        out.getvalue()
    )


def test_a_rehashed_edit_breaks_the_next_link(written, alice):
    """Rewriting a row and its hash leaves the next row pointing at the old hash."""
    first, second = chain(alice.organization)
    first.note = "harmless"
    forged = link_of(first, "accounts.customer").hash()
    behind_the_guard(f"UPDATE {TABLE} SET note = %s, hash = %s WHERE id = %s", ["harmless", forged, first.pk])
    out = StringIO()
    with pytest.raises(CommandError, match=f"at seq 2, row id {second.pk}"):
        call_command("history_verify", stdout=out)
    assert "prev_hash mismatch" in out.getvalue()


def test_a_removed_row_is_a_gap_in_seq(written, org_b):
    first, removed, third = chain(org_b)
    behind_the_guard(f"DELETE FROM {TABLE} WHERE id = %s", [removed.pk])
    out = StringIO()
    with pytest.raises(CommandError, match=f"organization {org_b.pk} at seq 3, row id {third.pk}"):
        call_command("history_verify", stdout=out)
    assert "gap in seq: expected 2" in out.getvalue()


def test_the_migration_chains_existing_events_in_the_order_they_happened(org_a):
    """Rows written before the chain existed get seq, prev_hash and hash in (at, id) order."""
    from importlib import import_module  # noqa: PLC0415 - a migration module's name starts with a digit

    from django.apps import apps  # noqa: PLC0415

    backfill = import_module("portal.migrations.0003_history_chain").chain_existing_events
    now, content_type = timezone.now(), ContentType.objects.get_for_model(org_a)
    history_record_many(
        [
            Entry(organization_id=org_a.pk, content_type=content_type, object_id="1", to_status=s)
            for s in "abc"
        ],
        actor=None,
    )
    earlier = [now - timedelta(minutes=1), now - timedelta(minutes=3), now - timedelta(minutes=2)]
    for event, at in zip(chain(org_a), earlier, strict=True):
        behind_the_guard(
            f"UPDATE {TABLE} SET at = %s, seq = seq + 100, hash = 'old' WHERE id = %s", [at, event.pk]
        )

    with connection.cursor() as cursor:  # the migration runs before the guard exists
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        backfill(apps, SimpleNamespace(connection=connection))
        cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    assert [event.to_status for event in chain(org_a)] == ["b", "c", "a"]
    assert "1 organizations, 3 events, every link holds" in verify()


def download(client, content_type_id: int, object_id: object):
    return client.get(f"/history/{content_type_id}/{object_id}/download/")


def test_an_objects_history_downloads_with_its_chain_and_checks_by_the_recipe(
    written, alice, verified_client
):
    customer, _ = written
    content_type = ContentType.objects.get_for_model(customer)
    response = download(verified_client(alice), content_type.pk, customer.pk)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="history-accounts.customer-{customer.pk}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0]) == list(HEADER)
    assert [row["seq"] for row in rows] == ["1", "2"]
    assert [row["hash"] for row in rows] == [event.hash for event in history_for(customer)]
    # The recipe of portal.chain, as a third party runs it on the file.
    for row in rows:
        assert hashlib.sha256(row["canonical"].encode()).hexdigest() == row["hash"]
        values = json.loads(row["canonical"])
        assert values[1:3] == [int(row["seq"]), row["prev_hash"]]
    first, second = (json.loads(row["canonical"]) for row in rows)
    assert rows[0]["note"] == "'=1+1" and first[9] == "=1+1"  # the formula guard, not the hash input
    assert rows[1]["note"] == second[9] == "Zweiter Versuch: «ü»\nline two"
    assert rows[1]["data"] == json.dumps(
        second[11], ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert second[:9] == [
        alice.organization_id,
        2,
        rows[0]["hash"],
        "accounts.customer",
        str(customer.pk),
        alice.pk,
        "alice@alpha.example",
        "draft",
        "submitted",
    ]


def test_only_who_sees_the_object_downloads_its_history(written, alice, charlie, verified_client):
    customer, other = written
    content_type = ContentType.objects.get_for_model(customer)
    assert download(verified_client(charlie), content_type.pk, customer.pk).status_code == 404
    assert download(verified_client(charlie), content_type.pk, other.pk).status_code == 200
    assert download(verified_client(alice), content_type.pk, "not-an-id").status_code == 404
    assert download(verified_client(alice), 999_999, customer.pk).status_code == 404
    not_owned = ContentType.objects.get_for_model(ContentType)
    assert download(verified_client(alice), not_owned.pk, content_type.pk).status_code == 404
    assert download(Client(), content_type.pk, customer.pk).status_code in (302, 404)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_organization_make_one_unbroken_chain():
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization)
    writers, rounds = 4, 15
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for step in range(rounds):
                with transaction.atomic():
                    history_record(subject=customer, actor=None, to_status=f"w{writer}-{step}")
                    if step % 5 == 0:
                        history_record_many(
                            [Entry.of(customer, to_status=f"w{writer}-{step}-bulk{n}") for n in range(3)],
                            actor=None,
                        )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    events = chain(organization)
    assert [event.seq for event in events] == list(range(1, writers * (rounds + 9) + 1))
    assert f"organization {organization.pk}: {len(events)} events" in verify()
