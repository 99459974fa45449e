"""Designation notifications of the daily capability-score recompute, through the outbox to a real
SMTP server: a designation gained (the score crossed the qualifying line) and a designation at risk
(held but not qualifying, due for renewal without qualifying, lapsed) — to the people who can view
membership, never anyone else, once per occurrence however often the night runs.

D = 15 Sep 2026: its qualification window is 1 Apr – 15 Sep 2026.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from membership.choices import Designation, EnrollmentStatus
from membership.models import Certification
from membership.notifications import DESIGNATION_AT_RISK, DESIGNATION_GAINED
from membership.services.designations import designations_sync
from membership.services.scoring import recalculate_capability_scores, rule_set_on
from portal.notifications import categories
from portal.notifications.models import Notification
from portal.roles import Role
from tests.factories import (
    DesignationEnrollmentFactory,
    PersonCertificationFactory,
    ScoreSnapshotFactory,
    TrainingDeliveryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = date(2026, 9, 15)
MW = Designation.MODERN_WORK
ORG = "[Alpha Partners GmbH]"


@pytest.fixture
def pat(org_a):
    """A partner admin: may view (and manage) membership."""
    return UserFactory(organization=org_a, email="pat@alpha.example", roles=[Role.PARTNER_ADMIN])


def snap(organization, day, *, qualified, total=None, designation=MW):
    return ScoreSnapshotFactory(
        organization=organization,
        designation=designation,
        track="enterprise",
        taken_on=day,
        rule_set=rule_set_on(day),
        total=total if total is not None else (85 if qualified else 40),
        qualified=qualified,
        is_best=True,
    )


def enrolled(organization, **fields):
    values = {
        "status": EnrollmentStatus.ENROLLED,
        "enrolled_on": date(2025, 9, 15),
        "renews_on": date(2027, 1, 15),
        "last_qualified_on": date(2026, 9, 1),
    }
    values.update(fields)
    return DesignationEnrollmentFactory(organization=organization, designation=MW, **values)


def _told(code: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(category=code).values_list("recipient__email", "title"))


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _subject(message) -> str:
    return str(message["Subject"]).strip()


def test_the_categories_are_on_the_preferences_page():
    assert {DESIGNATION_GAINED.code, DESIGNATION_AT_RISK.code} <= {found.code for found in categories()}


def test_the_nightly_recompute_tells_who_can_view_membership_that_a_designation_is_gained(
    org_a, alice, bob, pat, charlie, smtp_server, django_capture_on_commit_callbacks
):
    # Training services from data: 2 trainers, 12 courses, 90 % satisfaction: it qualifies.
    for email in ("one@alpha.example", "two@alpha.example"):
        PersonCertificationFactory(
            organization=org_a, certification=Certification.objects.get(code="MCT"), email=email
        )
    for n in range(12):
        TrainingDeliveryFactory(organization=org_a, delivered_on=D - timedelta(days=20 * n), satisfaction=90)
    with django_capture_on_commit_callbacks(execute=True):
        recalculate_capability_scores(day=D)
        recalculate_capability_scores(day=D)  # the same night again
        recalculate_capability_scores(day=D + timedelta(days=1))  # still qualified: nothing new

    title = "You qualify for Solutions Partner for Training Services"
    # Alice (Global admin) and Pat (partner admin); not Bob (no membership role) nor Charlie.
    assert _told(DESIGNATION_GAINED.code) == [(alice.email, title), (pat.email, title)]
    received = {message["To"]: message for message in smtp_server.messages()}
    assert set(received) == {alice.email, pat.email}
    assert len(smtp_server.messages()) == 2
    message = received[pat.email]
    assert _subject(message) == f"{ORG} {title}"
    text = _text(message)
    assert "https://portal.test/membership/designations/training-services/" in text
    assert "enroll" in text


def test_a_held_designation_that_stops_qualifying_is_at_risk_once_per_occurrence(
    org_a, alice, bob, pat, org_b, smtp_server, django_capture_on_commit_callbacks
):
    enrolled(org_a)
    enrolled(org_b)
    snap(org_b, D, qualified=True)  # the other organization still qualifies
    with django_capture_on_commit_callbacks(execute=True):
        snap(org_a, D, qualified=False, total=64)
        assert designations_sync(day=D).at_risk == 1
        designations_sync(day=D)  # the same night again
        snap(org_a, D + timedelta(days=1), qualified=False, total=60)
        designations_sync(day=D + timedelta(days=1))  # still at risk: not told again
        snap(org_a, D + timedelta(days=2), qualified=True)
        assert designations_sync(day=D + timedelta(days=2)).back_on_track == 1
        snap(org_a, D + timedelta(days=3), qualified=False, total=66)
        designations_sync(day=D + timedelta(days=3))  # at risk again: told again

    title = "Solutions Partner for Modern Work is at risk"
    assert _told(DESIGNATION_AT_RISK.code) == [(alice.email, title)] * 2 + [(pat.email, title)] * 2
    received = [m for m in smtp_server.messages() if m["To"] == pat.email]
    assert [_subject(m) for m in received] == [f"{ORG} {title}"] * 2
    first, second = (_text(m) for m in received)
    assert "Your score is 64 today" in first and "Your score is 66 today" in second
    assert "To renew it on 15 Jan 2027" in first
    assert "https://portal.test/membership/designations/modern-work/" in first
    assert {m["To"] for m in smtp_server.messages()} == {alice.email, pat.email}  # not Bob, nor org B


def test_a_renewal_without_qualifying_is_told_once_then_the_lapse(
    org_a, alice, pat, smtp_server, django_capture_on_commit_callbacks
):
    enrolled(org_a, renews_on=D, last_qualified_on=date(2026, 3, 31))
    with django_capture_on_commit_callbacks(execute=True):
        for day in (D, D + timedelta(days=1), D + timedelta(days=29)):  # the grace notice, refreshed daily
            snap(org_a, day, qualified=False)
            designations_sync(day=day)
        lapse_day = D + timedelta(days=30)
        snap(org_a, lapse_day, qualified=False)
        assert designations_sync(day=lapse_day).lapsed == 1
        designations_sync(day=lapse_day)

    assert [title for email, title in _told(DESIGNATION_AT_RISK.code) if email == pat.email] == [
        "Solutions Partner for Modern Work lapsed on 15 Oct 2026",
        "Solutions Partner for Modern Work lapses on 15 Oct 2026",
    ]
    received = [m for m in smtp_server.messages() if m["To"] == pat.email]
    assert [_subject(m) for m in received] == [
        f"{ORG} Solutions Partner for Modern Work lapses on 15 Oct 2026",
        f"{ORG} Solutions Partner for Modern Work lapsed on 15 Oct 2026",
    ]
    assert "did not qualify on any day since" in _text(received[0])
