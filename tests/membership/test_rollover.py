"""The fiscal-year rollover (spec/membership.md §2.5): the nightly task scores 30 Jun 2026 with
the FY26 rules and 1 Jul 2026 with FY27's higher certification thresholds; both days stay as
history and the score history shows the refresh."""

from __future__ import annotations

from datetime import date

import pytest
from celery.schedules import crontab
from django.conf import settings
from freezegun import freeze_time

from membership.choices import Designation
from membership.models import Certification, ScoreSnapshot
from membership.selectors.scores import designation_score, score_history
from membership.tasks import recalculate_capability_scores_task
from tests.factories import OrganizationFactory, PersonCertificationFactory

pytestmark = pytest.mark.django_db

BA, TRAINING = Designation.BUSINESS_APPS, Designation.TRAINING_SERVICES
LAST_FY26, FIRST_FY27 = date(2026, 6, 30), date(2026, 7, 1)


def people(organization, code, count):
    for n in range(count):
        PersonCertificationFactory(
            organization=organization,
            certification=Certification.objects.get(code=code),
            email=f"{code.lower()}-{n}@partner.example",
            earned_on=date(2025, 1, 10),
        )


def test_the_rollover_switches_rules_and_keeps_the_history():
    organization = OrganizationFactory()
    people(organization, "PL-200", 9)  # intermediate, Business Applications
    people(organization, "PL-600", 2)  # advanced, Business Applications
    people(organization, "MCT", 1)  # trainer: threshold unchanged between the years

    with freeze_time("2026-06-30 06:00:00"):
        assert recalculate_capability_scores_task.delay().get() == 10
    with freeze_time("2026-07-01 06:00:00"):
        assert recalculate_capability_scores_task.delay().get() == 10
        recalculate_capability_scores_task.delay().get()  # a rerun replaces the day, nothing more

    rows = ScoreSnapshot.objects.filter(organization=organization)
    assert rows.count() == 20
    assert set(rows.filter(taken_on=LAST_FY26).values_list("rule_set__fiscal_year", flat=True)) == {"FY26"}
    assert set(rows.filter(taken_on=FIRST_FY27).values_list("rule_set__fiscal_year", flat=True)) == {"FY27"}

    def ba(day, track):
        return rows.get(designation=BA, track=track, taken_on=day)

    # FY26 SMB: 9/8 intermediate → 20, 2/2 advanced → 15 = 35.  FY27 SMB: 9/10 → 18, 2/4 → 7 = 25.
    assert ba(LAST_FY26, "smb").metrics["int_cert"] == {
        "achieved": "9",
        "threshold": "8",
        "weight": 20,
        "points": 20,
        "unit": "people",
    }
    assert ba(FIRST_FY27, "smb").metrics["int_cert"]["threshold"] == "10"
    assert (ba(LAST_FY26, "smb").total, ba(FIRST_FY27, "smb").total) == (35, 25)
    # Enterprise: FY26 9/13 → 13, 2/4 → 7 = 20; FY27 9/15 → 12, 2/6 → 5 = 17.
    assert (ba(LAST_FY26, "enterprise").total, ba(FIRST_FY27, "enterprise").total) == (20, 17)
    # Training services kept its thresholds: 1/2 trainers → 20 on both days.
    training = rows.filter(designation=TRAINING).order_by("taken_on").values_list("taken_on", "total")
    assert list(training) == [(LAST_FY26, 20), (FIRST_FY27, 20)]

    assert score_history(organization, BA, since=date(2026, 6, 1)) == [
        (LAST_FY26, 35, False),
        (FIRST_FY27, 25, False),
    ]
    assert designation_score(organization, BA, day=LAST_FY26).fiscal_year == "FY26"
    with freeze_time("2026-07-01 12:00:00"):
        latest = designation_score(organization, BA)
    assert (latest.fiscal_year, latest.taken_on, latest.total) == ("FY27", FIRST_FY27, 25)


def test_an_earlier_day_can_be_rerun_by_date():
    organization = OrganizationFactory()
    people(organization, "PL-600", 2)
    with freeze_time("2026-07-01 06:00:00"):
        recalculate_capability_scores_task.delay(day="2026-06-30").get()
    snapshot = ScoreSnapshot.objects.get(organization=organization, designation=BA, track="smb")
    assert (snapshot.taken_on, snapshot.rule_set.fiscal_year) == (LAST_FY26, "FY26")


def test_the_daily_tasks_are_scheduled():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["membership.tasks.recalculate_capability_scores_task"] == crontab(hour=6, minute=0)
    assert schedule["membership.tasks.marketplace_rewards_anniversaries_task"] == crontab(hour=6, minute=30)
