"""A reconciliation is made by an import job (one per job), and each line keeps its currency so
that totals are summed per currency."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("earnings", "0004_summaries"),
        ("portal", "0005_audit_target_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="reconciliation",
            name="job",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="portal.jobrun",
            ),
        ),
        migrations.AddField(
            model_name="reconciliationline",
            name="currency",
            field=models.CharField(blank=True, db_default="", default="", max_length=3),
        ),
    ]
