"""The Entra role templates of spec/security.md §3.3 and the vendor's compliance courses."""

from django.db import migrations

from security.vendor_data import seed_vendor_data


def seed(apps, schema_editor):
    seed_vendor_data(apps)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
