"""The scoring rules, certifications, benefit packages and reward tiers of spec/membership.md."""

from django.db import migrations

from membership.vendor_data import seed_vendor_data


def seed(apps, schema_editor):
    seed_vendor_data(apps)


class Migration(migrations.Migration):
    dependencies = [("membership", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
