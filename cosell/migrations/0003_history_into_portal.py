"""The referral activity feed moves from django-pghistory's trigger-written snapshots into the one
history (portal.history): each snapshot becomes one event listing the JSON paths it changed,
with its time, actor, kind of actor, source and request id, appended to the organization's
chain. Then the triggers and the event table go; the services write the feed from now on."""

import pgtrigger.migrations
from django.db import migrations

from cosell.models import TRACKED_FIELDS
from cosell.services.activity import referral_changes
from portal.history_import import Imported, history_import, pghistory_snapshots

ATTNAMES = {
    name: f"{name}_id" if name in ("routing_rule", "assigned_user") else name for name in TRACKED_FIELDS
}
OUTSIDE = "database (outside the portal's services)"


def _source(metadata: dict) -> str:
    url = metadata.get("url") or ""
    return metadata.get("source") or ("admin" if url.startswith("/admin") else "ui" if url else "system")


def _events(apps):
    snapshots = pghistory_snapshots(apps, "cosell.ReferralEvent", "cosell.Referral", list(ATTNAMES.values()))
    for previous, snapshot in snapshots:
        before = {name: previous.values[column] for name, column in ATTNAMES.items()} if previous else None
        after = {name: snapshot.values[column] for name, column in ATTNAMES.items()}
        changes = referral_changes(before, after)
        if not changes:
            continue
        metadata = snapshot.metadata
        unknown = not metadata.get("actor") and not metadata.get("user")
        yield Imported(
            organization_id=snapshot.organization_id,
            subject=("cosell", "referral", snapshot.subject_pk),
            at=snapshot.at,
            from_status=before["status"] if before else "",
            to_status=after["status"],
            note=str(metadata.get("note", "")),
            actor_id=snapshot.actor_id,
            actor_label=OUTSIDE if unknown else snapshot.actor_label,
            data={
                "changes": changes,
                "actor_type": metadata.get("actor_type") or ("user" if metadata.get("user") else "system"),
                "source": _source(metadata),
                "correlation_id": str(metadata.get("request_id", "")),
            },
        )


def forwards(apps, schema_editor):
    history_import(apps, schema_editor, _events(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("cosell", "0002_api_indexes"),
        ("portal", "0003_history_chain"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="referralevent", name="assigned_user"),
        migrations.RemoveField(model_name="referralevent", name="pgh_context"),
        migrations.RemoveField(model_name="referralevent", name="pgh_obj"),
        migrations.RemoveField(model_name="referralevent", name="routing_rule"),
        pgtrigger.migrations.RemoveTrigger(model_name="referral", name="insert_insert"),
        pgtrigger.migrations.RemoveTrigger(model_name="referral", name="update_update"),
        migrations.DeleteModel(name="ReferralEvent"),
    ]
