"""Action Center reminders 3 days and 1 day before an unanswered referral expires (spec §10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from accounts.choices import ActionItemCode, ActionItemStatus, Severity
from accounts.models import ActionItem
from accounts.services.action_center import action_item_dismiss, action_item_mark_done
from cosell.choices import ReferralStatus, ReferralSubstatus
from cosell.services.referrals import (
    referral_accept,
    referral_close,
    referral_decline,
    referral_update,
    referrals_expire,
)
from cosell.services.reminders import referrals_remind
from cosell.tasks import referrals_remind_task
from portal.roles import Role
from tests.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db


def _items(referral, **filters):
    return ActionItem.objects.filter(
        organization_id=referral.organization_id,
        code=ActionItemCode.REFERRAL_EXPIRING,
        dedupe_key__startswith=f"cosell-referral-{referral.pk}-",
        **filters,
    )


def _open(referral):
    return _items(referral, status=ActionItemStatus.OPEN)


def _expiring_in(org, delta, **kwargs):
    return ReferralFactory(organization=org, expiration_at=timezone.now() + delta, **kwargs)


def test_nothing_is_raised_more_than_three_days_ahead(org_a):
    referral = _expiring_in(org_a, timedelta(days=3, hours=2))
    assert referrals_remind() == 0
    assert not _items(referral).exists()


def test_three_days_ahead_the_assignee_gets_a_medium_item(org_a):
    dana = UserFactory(organization=org_a, display_name="Dana Meyer", roles=[Role.REFERRALS_USER])
    referral = _expiring_in(org_a, timedelta(days=2, hours=23), assigned_user=dana)
    assert referrals_remind() == 1
    item = _open(referral).get()
    assert item.dedupe_key == f"cosell-referral-{referral.pk}-expiring-3d"
    assert item.severity == Severity.MEDIUM
    assert item.due_at == referral.expiration_at
    assert item.target_url == reverse("cosell:referral-detail", kwargs={"pk": referral.pk})
    assert item.audience_roles == [Role.REFERRALS_USER]
    assert "Dana Meyer" in item.body
    assert referral.name in item.title


def test_an_unassigned_referral_goes_to_the_referrals_admins(org_a):
    referral = _expiring_in(org_a, timedelta(days=2))
    referrals_remind()
    assert _open(referral).get().audience_roles == [Role.REFERRALS_ADMIN]


def test_one_day_ahead_a_high_item_supersedes_the_three_day_one(org_a):
    referral = _expiring_in(org_a, timedelta(days=10))
    expiration = referral.expiration_at
    with freeze_time(expiration - timedelta(days=3) + timedelta(minutes=5)):
        assert referrals_remind() == 1
    with freeze_time(expiration - timedelta(hours=23)):
        assert referrals_remind() == 1
    item = _open(referral).get()
    assert item.dedupe_key == f"cosell-referral-{referral.pk}-expiring-1d"
    assert item.severity == Severity.HIGH
    three_day = _items(referral, dedupe_key__endswith="-3d").get()
    assert three_day.status == ActionItemStatus.RESOLVED


def test_passing_now_picks_the_threshold(org_a):
    referral = _expiring_in(org_a, timedelta(days=10))
    referrals_remind(now=referral.expiration_at - timedelta(hours=12))
    assert _open(referral).get().dedupe_key.endswith("-1d")


def test_reruns_raise_nothing_twice(org_a):
    referral = _expiring_in(org_a, timedelta(days=2))
    referrals_remind()
    first = _open(referral).get()
    referrals_remind()
    referrals_remind_task.delay()
    assert _items(referral).count() == 1
    assert _open(referral).get().pk == first.pk


def test_an_item_the_user_closed_is_not_reopened(org_a, alice):
    referral = _expiring_in(org_a, timedelta(days=2))
    other = _expiring_in(org_a, timedelta(days=2, hours=1))
    referrals_remind()
    action_item_mark_done(actor=alice, item=_open(referral).get())
    action_item_dismiss(actor=alice, item=_open(other).get())
    assert referrals_remind() == 0
    assert not _open(referral).exists()
    assert not _open(other).exists()


@pytest.mark.parametrize(
    ("status", "substatus"),
    [
        (ReferralStatus.ACTIVE, ReferralSubstatus.ACCEPTED),
        (ReferralStatus.CLOSED, ReferralSubstatus.WON),
        (ReferralStatus.CLOSED, ReferralSubstatus.DECLINED),
        (ReferralStatus.CLOSED, ReferralSubstatus.EXPIRED),
    ],
)
def test_answered_or_closed_referrals_get_no_item(org_a, status, substatus):
    referral = _expiring_in(org_a, timedelta(hours=20), status=status, substatus=substatus)
    assert referrals_remind() == 0
    assert not _items(referral).exists()


def test_drafts_and_expired_but_not_yet_closed_referrals_get_no_item(org_a):
    draft = _expiring_in(org_a, timedelta(hours=20), is_draft=True)
    overdue = _expiring_in(org_a, -timedelta(hours=1))
    assert referrals_remind() == 0
    assert not _items(draft).exists()
    assert not _items(overdue).exists()


def test_accepting_resolves_the_item(org_a, alice):
    referral = _expiring_in(org_a, timedelta(hours=20))
    referrals_remind()
    referral_accept(referral=referral, actor=alice)
    item = _items(referral).get()
    assert item.status == ActionItemStatus.RESOLVED
    assert item.resolved_at is not None
    # The accepted referral stays out of later runs, and its item stays resolved.
    assert referrals_remind() == 0
    assert _items(referral).get().status == ActionItemStatus.RESOLVED


def test_declining_resolves_the_item(org_a, alice):
    referral = _expiring_in(org_a, timedelta(days=2))
    referrals_remind()
    referral_decline(referral=referral, actor=alice, reason="Not our market", loss_reason="")
    assert _items(referral).get().status == ActionItemStatus.RESOLVED


def test_closing_through_the_api_resolves_the_item(org_a):
    referral = _expiring_in(org_a, timedelta(days=2))
    referrals_remind()
    referral_update(
        referral=referral,
        actor="system",
        data={"status": ReferralStatus.CLOSED, "substatus": ReferralSubstatus.DECLINED},
        if_match=None,
        partial=True,
        source="api",
    )
    assert _items(referral).get().status == ActionItemStatus.RESOLVED


def test_closing_an_accepted_deal_leaves_other_items_alone(org_a, alice):
    expiring = _expiring_in(org_a, timedelta(days=2))
    accepted = ReferralFactory(
        organization=org_a, status=ReferralStatus.ACTIVE, substatus=ReferralSubstatus.ACCEPTED
    )
    referrals_remind()
    referral_close(referral=accepted, actor=alice, won=False, loss_reason="")
    assert _open(expiring).count() == 1


def test_expiry_resolves_the_item(org_a):
    referral = _expiring_in(org_a, timedelta(days=10))
    expiration = referral.expiration_at
    referrals_remind(now=expiration - timedelta(hours=2))
    assert _open(referral).count() == 1
    assert referrals_expire(now=expiration + timedelta(minutes=1)) == 1
    referral.refresh_from_db()
    assert referral.substatus == ReferralSubstatus.EXPIRED
    assert _items(referral).get().status == ActionItemStatus.RESOLVED


def test_a_later_expiration_resolves_the_item(org_a):
    referral = _expiring_in(org_a, timedelta(days=2))
    referrals_remind()
    referral.expiration_at = timezone.now() + timedelta(days=10)
    referral.save(update_fields=["expiration_at"])
    referrals_remind()
    assert not _open(referral).exists()


def test_another_organization_never_sees_them(org_a, org_b, alice, charlie):
    mine = _expiring_in(org_a, timedelta(days=2))
    theirs = _expiring_in(org_b, timedelta(hours=20))
    assert referrals_remind() == 2
    seen_by_alice = ActionItem.objects.visible_to(alice).filter(code=ActionItemCode.REFERRAL_EXPIRING)
    seen_by_charlie = ActionItem.objects.visible_to(charlie).filter(code=ActionItemCode.REFERRAL_EXPIRING)
    assert [item.dedupe_key for item in seen_by_alice] == [f"cosell-referral-{mine.pk}-expiring-3d"]
    assert [item.dedupe_key for item in seen_by_charlie] == [f"cosell-referral-{theirs.pk}-expiring-1d"]
    assert all(item.organization_id == org_a.pk for item in seen_by_alice)
    # Resolving one organization's referral leaves the other's item open.
    referral_accept(referral=theirs, actor=charlie)
    assert seen_by_alice.get().status == ActionItemStatus.OPEN


def test_the_beat_schedule_runs_the_task():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["cosell-referrals-remind"]
    assert entry["task"] == "cosell.tasks.referrals_remind_task"
