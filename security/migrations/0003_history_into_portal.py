"""GDAP relationship and verification check history moves from django-pghistory's trigger-written
snapshots into the one history (portal.history), as the services write it from now on: each
snapshot becomes one event (who, when, from, to) appended to the organization's chain — for a
relationship with the end date and auto-extension in its data and a note of what changed, for a
check with its reason as the note and the appeals used. Then the triggers and event tables go."""

from datetime import UTC

import pgtrigger.migrations
from django.db import migrations

from portal.history_import import Imported, history_import, pghistory_snapshots


def _duration(value) -> str:
    return f"P{value.days}D" if value else "PT0S"


def _gdap_events(apps):
    fields = ["status", "end_at", "auto_extend_duration"]
    for previous, snapshot in pghistory_snapshots(
        apps, "security.GdapRelationshipEvent", "security.GdapRelationship", fields
    ):
        now, before = snapshot.values, previous.values if previous else None
        notes = []
        if before and before["end_at"] != now["end_at"] and now["end_at"]:
            notes.append(f"End date {now['end_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        if before and before["auto_extend_duration"] != now["auto_extend_duration"]:
            notes.append("Auto-extend on" if now["auto_extend_duration"] else "Auto-extend off")
        if before and before["status"] == now["status"] and not notes:
            continue
        yield Imported(
            organization_id=snapshot.organization_id,
            subject=("security", "gdaprelationship", snapshot.subject_pk),
            at=snapshot.at,
            from_status=before["status"] if before else "",
            to_status=now["status"],
            note="; ".join(notes) or ("" if before else "Created"),
            actor_id=snapshot.actor_id,
            actor_label=snapshot.actor_label,
            data={"end_at": now["end_at"], "auto_extend_duration": _duration(now["auto_extend_duration"])},
        )


def _check_events(apps):
    fields = ["status", "reason", "appeals_used"]
    for previous, snapshot in pghistory_snapshots(
        apps, "security.VerificationCheckEvent", "security.VerificationCheck", fields
    ):
        yield Imported(
            organization_id=snapshot.organization_id,
            subject=("security", "verificationcheck", snapshot.subject_pk),
            at=snapshot.at,
            from_status=previous.values["status"] if previous else "",
            to_status=snapshot.values["status"],
            note=snapshot.values["reason"],
            actor_id=snapshot.actor_id,
            actor_label=snapshot.actor_label,
            data={"appeals_used": snapshot.values["appeals_used"]},
        )


def forwards(apps, schema_editor):
    events = sorted([*_gdap_events(apps), *_check_events(apps)], key=lambda event: event.at)
    history_import(apps, schema_editor, events)


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0002_vendor_data"),
        ("portal", "0003_history_chain"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="gdaprelationshipevent", name="pgh_context"),
        migrations.RemoveField(model_name="gdaprelationshipevent", name="pgh_obj"),
        migrations.RemoveField(model_name="verificationcheckevent", name="pgh_context"),
        migrations.RemoveField(model_name="verificationcheckevent", name="pgh_obj"),
        pgtrigger.migrations.RemoveTrigger(model_name="gdaprelationship", name="insert_insert"),
        pgtrigger.migrations.RemoveTrigger(model_name="gdaprelationship", name="update_update"),
        pgtrigger.migrations.RemoveTrigger(model_name="verificationcheck", name="insert_insert"),
        pgtrigger.migrations.RemoveTrigger(model_name="verificationcheck", name="update_update"),
        migrations.DeleteModel(name="GdapRelationshipEvent"),
        migrations.DeleteModel(name="VerificationCheckEvent"),
    ]
