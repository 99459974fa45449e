"""The audit log moves from accounts to portal: state only, the table keeps its name."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_alter_customer_name"),
        ("portal", "0003_history_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("actor_label", models.CharField(help_text="Kept when the user is deleted.", max_length=254)),
                        ("action", models.CharField(db_index=True, max_length=80)),
                        ("target_type", models.CharField(blank=True, max_length=80)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("target_label", models.CharField(blank=True, max_length=254)),
                        ("changes", models.JSONField(blank=True, default=dict)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("user_agent", models.CharField(blank=True, max_length=300)),
                        ("request_id", models.CharField(blank=True, max_length=64)),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        (
                            "actor",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="accounts.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_auditevent",
                        "ordering": ["-at", "-id"],
                        "indexes": [models.Index(fields=["organization", "-at"], name="accounts_au_organiz_ead0c7_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
