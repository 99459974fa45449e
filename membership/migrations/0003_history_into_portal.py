"""Designation enrollment and ISV Success application history moves from django-pghistory's
trigger-written snapshots into the one history (portal.history), as the services write it from
now on: each snapshot becomes one event (who, when, from, to) appended to the organization's
chain — for an enrollment with its renewal date in the data, for an application with a new
review note as the note. Then the triggers and event tables go."""

import pgtrigger.migrations
from django.db import migrations

from portal.history_import import Imported, history_import, pghistory_snapshots


def _enrollment_events(apps):
    for previous, snapshot in pghistory_snapshots(
        apps,
        "membership.DesignationEnrollmentEvent",
        "membership.DesignationEnrollment",
        ["status", "renews_on"],
    ):
        yield Imported(
            organization_id=snapshot.organization_id,
            subject=("membership", "designationenrollment", snapshot.subject_pk),
            at=snapshot.at,
            from_status=previous.values["status"] if previous else "",
            to_status=snapshot.values["status"],
            actor_id=snapshot.actor_id,
            actor_label=snapshot.actor_label,
            data={"renews_on": snapshot.values["renews_on"]},
        )


def _application_events(apps):
    for previous, snapshot in pghistory_snapshots(
        apps,
        "membership.IsvSuccessApplicationEvent",
        "membership.IsvSuccessApplication",
        ["status", "review_note"],
    ):
        before = previous.values if previous else {"status": "", "review_note": ""}
        now = snapshot.values
        note = now["review_note"] if now["review_note"] != before["review_note"] else ""
        if previous and now["status"] == before["status"] and not note:
            continue
        yield Imported(
            organization_id=snapshot.organization_id,
            subject=("membership", "isvsuccessapplication", snapshot.subject_pk),
            at=snapshot.at,
            from_status=before["status"],
            to_status=now["status"],
            note=note,
            actor_id=snapshot.actor_id,
            actor_label=snapshot.actor_label,
        )


def forwards(apps, schema_editor):
    events = sorted([*_enrollment_events(apps), *_application_events(apps)], key=lambda event: event.at)
    history_import(apps, schema_editor, events)


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0002_vendor_data"),
        ("portal", "0003_history_chain"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="designationenrollmentevent", name="pgh_context"),
        migrations.RemoveField(model_name="designationenrollmentevent", name="pgh_obj"),
        migrations.RemoveField(model_name="isvsuccessapplicationevent", name="pgh_context"),
        migrations.RemoveField(model_name="isvsuccessapplicationevent", name="pgh_obj"),
        pgtrigger.migrations.RemoveTrigger(model_name="designationenrollment", name="insert_insert"),
        pgtrigger.migrations.RemoveTrigger(model_name="designationenrollment", name="update_update"),
        pgtrigger.migrations.RemoveTrigger(model_name="isvsuccessapplication", name="insert_insert"),
        pgtrigger.migrations.RemoveTrigger(model_name="isvsuccessapplication", name="update_update"),
        migrations.DeleteModel(name="DesignationEnrollmentEvent"),
        migrations.DeleteModel(name="IsvSuccessApplicationEvent"),
    ]
