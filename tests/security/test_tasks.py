"""Beat runs the Security workspace's nightly jobs; each task is registered and does its work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.choices import ActionItemCode
from accounts.models import ActionItem
from portal.celery import app as celery_app
from security import tasks
from security.choices import GdapStatus
from security.models import SecurityScoreSnapshot
from tests.factories import active_gdap_relationship

pytestmark = pytest.mark.django_db

SECURITY_BEAT = ("security-gdap-daily", "security-score-snapshots", "security-trainings-remind")


@pytest.mark.parametrize("entry", SECURITY_BEAT)
def test_every_security_beat_entry_names_a_registered_task(entry):
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in celery_app.tasks


def test_the_snapshot_task_writes_one_snapshot_per_organization_and_day(org_a, org_b):
    assert tasks.security_snapshots_task.delay().get() >= 2
    tasks.security_snapshots_task.delay().get()
    today = timezone.localdate()
    assert SecurityScoreSnapshot.objects.filter(organization=org_a, taken_on=today).count() == 1
    assert SecurityScoreSnapshot.objects.filter(organization=org_b, taken_on=today).count() == 1


def test_the_gdap_task_warns_before_a_relationship_ends_and_expires_it_after(org_a):
    ending = active_gdap_relationship(
        org_a, activated_at=timezone.now() - timedelta(days=725), duration=timedelta(days=730)
    )
    tasks.gdap_daily_task.delay().get()
    ending.refresh_from_db()
    assert ending.status == GdapStatus.EXPIRING
    assert ActionItem.objects.filter(organization=org_a, code=ActionItemCode.GDAP_EXPIRING).exists()
    ended = active_gdap_relationship(
        org_a, activated_at=timezone.now() - timedelta(days=731), duration=timedelta(days=730)
    )
    tasks.gdap_daily_task.delay().get()
    ended.refresh_from_db()
    assert ended.status == GdapStatus.EXPIRED
