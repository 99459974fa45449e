"""History events become an append-only hash chain per organization (portal.chain).

Events written before this migration are chained in the order they happened (at, id), so every
organization's chain starts at seq 1 and `history_verify` checks the old events too. Then the
database takes over the guard: one seq per place in a chain, and no UPDATE or DELETE. TRUNCATE
is left alone (Django's flush between transactional tests uses it): revoke it from the
application's role in production, and compare `history_verify`'s heads with the ones kept.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from portal.chain import GENESIS, Link

BATCH = 5000

#: A plain trigger, not django-pgtrigger's Protect: that one stands aside for any session that sets
#: `pgtrigger.ignore`, which needs no more than the right to update the table. Lifting this one
#: takes ALTER TABLE or DROP TRIGGER, which only the table's owner (or a superuser) may run.
GUARD = """
CREATE FUNCTION portal_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'portal_historyevent is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON portal_historyevent
    FOR EACH ROW EXECUTE FUNCTION portal_history_append_only();
"""

UNGUARD = """
DROP TRIGGER history_append_only ON portal_historyevent;
DROP FUNCTION portal_history_append_only();
"""

UPDATE = """
UPDATE portal_historyevent AS h
   SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
  FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, seq, prev_hash, hash)
 WHERE h.id = v.id
"""


def chain_existing_events(apps, schema_editor):
    HistoryEvent = apps.get_model("portal", "HistoryEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    heads: dict[int, tuple[int, str]] = {}
    batch: list[tuple[int, int, str, str]] = []

    def flush():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(UPDATE, [list(column) for column in zip(*batch, strict=True)])
        batch.clear()

    for event in HistoryEvent.objects.order_by("organization_id", "at", "id").iterator(chunk_size=BATCH):
        seq, prev_hash = heads.get(event.organization_id, (0, GENESIS))
        link = Link(
            organization_id=event.organization_id,
            seq=seq + 1,
            prev_hash=prev_hash,
            content_type=labels[event.content_type_id],
            object_id=event.object_id,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            from_status=event.from_status,
            to_status=event.to_status,
            note=event.note,
            at=event.at,
            data=event.data,
        )
        heads[event.organization_id] = (link.seq, link.hash())
        batch.append((event.pk, link.seq, prev_hash, heads[event.organization_id][1]))
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_alter_customer_name"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0002_csv_cell"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historyevent",
            name="data",
            field=models.JSONField(blank=True, default=dict, help_text="Structured detail the hash covers."),
        ),
        migrations.AddField(
            model_name="historyevent",
            name="seq",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="historyevent",
            name="prev_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="historyevent",
            name="hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="historyevent",
            name="seq",
            field=models.PositiveBigIntegerField(
                help_text="Position in the organization's chain: 1, 2, 3, …"
            ),
        ),
        migrations.AlterField(
            model_name="historyevent",
            name="prev_hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="historyevent",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="historyevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="historyevent",
            name="content_type",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="contenttypes.contenttype"
            ),
        ),
        migrations.AlterField(
            model_name="historyevent",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.organization"
            ),
        ),
        migrations.AddConstraint(
            model_name="historyevent",
            constraint=models.UniqueConstraint(fields=("organization", "seq"), name="unique_history_seq"),
        ),
        migrations.AddConstraint(
            model_name="historyevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("seq__gte", 1)), name="history_seq_from_one"
            ),
        ),
        migrations.RunSQL(GUARD, UNGUARD),
    ]
