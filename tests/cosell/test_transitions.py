"""Status and substatus moves along spec §2.1, closing, acceptance deadlines, expiry, the 72 h Won hold."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cosell.choices import (
    STATUS_MOVES,
    SUBSTATUSES,
    DealKind,
    HistorySource,
    ReferralStatus,
    ReferralSubstatus,
)
from cosell.models import Referral
from cosell.selectors.activity import referral_history
from cosell.services.referrals import (
    IllegalTransition,
    referral_accept,
    referral_close,
    referral_decline,
    referral_update,
    referrals_expire,
)
from cosell.tasks import referrals_expire_task
from tests.factories import ReferralFactory, SolutionFactory

pytestmark = pytest.mark.django_db

#: Every (status, substatus) a referral can be in, per spec §2.1.
STATES = [(status, substatus) for status, allowed in SUBSTATUSES.items() for substatus in sorted(allowed)]
#: Every pair a client could ask for, legal or not (including the API's "None" values).
TARGETS = list(itertools.product(ReferralStatus.values, ReferralSubstatus.values))


def _legal(origin: tuple[str, str], target: tuple[str, str]) -> bool:
    if origin[0] == ReferralStatus.CLOSED:
        return False
    return target[0] in STATUS_MOVES[origin[0]] and target[1] in SUBSTATUSES.get(target[0], ())


MOVES = [(origin, target) for origin in STATES for target in TARGETS if origin != target]


def test_the_table_has_legal_and_illegal_moves():
    legal = [move for move in MOVES if _legal(*move)]
    assert len(STATES) == 7
    # New/Pending and New/Received each reach 6 other pairs; Active/Accepted reaches the 4 closed ones.
    assert len(legal) == 6 + 6 + 4
    assert len(MOVES) - len(legal) > 150


@pytest.mark.parametrize(("origin", "target"), MOVES, ids=lambda pair: "/".join(pair))
def test_each_move_is_applied_or_refused_as_spec_2_1_says(org_a, origin, target):
    referral = ReferralFactory(organization=org_a, status=origin[0], substatus=origin[1])
    data = {"status": target[0], "substatus": target[1]}
    if _legal(origin, target):
        referral_update(
            referral=referral,
            actor="system",
            data=data,
            if_match=None,
            partial=True,
            source=HistorySource.API,
        )
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == target
        assert referral.version == 2
    else:
        with pytest.raises(ValidationError) as caught:
            referral_update(
                referral=referral,
                actor="system",
                data=data,
                if_match=None,
                partial=True,
                source=HistorySource.API,
            )
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == origin
        assert referral.version == 1
        if target[0] in ReferralStatus.values and target[1] in ReferralSubstatus.values:
            assert isinstance(caught.value, IllegalTransition)
            assert caught.value.error_dict["status"][0].code == "invalid_status_transition"


@pytest.mark.parametrize("substatus", sorted(SUBSTATUSES[ReferralStatus.CLOSED]))
def test_it_allows_no_edits_once_closed(org_a, substatus):
    referral = ReferralFactory(organization=org_a, status="Closed", substatus=substatus)
    with pytest.raises(IllegalTransition, match="closed"):
        referral_update(
            referral=referral,
            actor="system",
            data={"name": "Renamed"},
            if_match=None,
            partial=True,
            source=HistorySource.UI,
        )
    referral.refresh_from_db()
    assert referral.name != "Renamed"


class TestAcceptDecline:
    def test_it_accepts_before_the_expiration(self, org_a):
        referral = referral_accept(referral=ReferralFactory(organization=org_a), actor="system")
        assert (referral.status, referral.substatus) == ("Active", "Accepted")
        assert referral.accepted_at is not None

    def test_it_declines_with_a_reason(self, org_a):
        referral = referral_decline(
            referral=ReferralFactory(organization=org_a),
            actor="system",
            reason="No capacity",
            loss_reason="5",
        )
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == ("Closed", "Declined")
        assert (referral.status_reason, referral.loss_reason) == ("No capacity", "5")

    def test_a_decline_needs_a_reason(self, org_a):
        with pytest.raises(ValidationError):
            referral_decline(
                referral=ReferralFactory(organization=org_a), actor="system", reason=" ", loss_reason=""
            )

    def test_an_accepted_referral_cannot_be_accepted_again(self, org_a):
        referral = ReferralFactory(organization=org_a, status="Active", substatus="Accepted")
        with pytest.raises(IllegalTransition, match="Only new referrals"):
            referral_accept(referral=referral, actor="system")

    def test_an_accepted_referral_cannot_be_declined(self, org_a):
        referral = ReferralFactory(organization=org_a, status="Active", substatus="Accepted")
        with pytest.raises(IllegalTransition):
            referral_decline(referral=referral, actor="system", reason="Changed our mind", loss_reason="8")

    @pytest.mark.parametrize("action", ["accept", "decline"])
    def test_after_the_expiration_it_refuses_naming_the_expiry(self, org_a, action):
        expired_at = timezone.now() - timedelta(minutes=5)
        referral = ReferralFactory(organization=org_a, expiration_at=expired_at)
        with pytest.raises(IllegalTransition) as caught:
            if action == "accept":
                referral_accept(referral=referral, actor="system")
            else:
                referral_decline(referral=referral, actor="system", reason="Too late", loss_reason="6")
        message = caught.value.error_dict["status"][0].message
        assert "expired" in message
        assert expired_at.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%dT%H:%M") in message
        referral.refresh_from_db()
        assert (referral.status, referral.substatus) == ("New", "Received")


class TestExpiry:
    def test_it_closes_overdue_new_referrals_as_expired_once(self, org_a, org_b):
        past = timezone.now() - timedelta(hours=1)
        received = ReferralFactory(organization=org_a, expiration_at=past)
        pending = ReferralFactory(organization=org_b, substatus="Pending", expiration_at=past)
        future = ReferralFactory(organization=org_a)
        accepted = ReferralFactory(
            organization=org_a, status="Active", substatus="Accepted", expiration_at=past
        )
        no_deadline = ReferralFactory(organization=org_a, expiration_at=None)

        assert referrals_expire() == 2
        assert referrals_expire() == 0  # idempotent
        for referral in (received, pending):
            referral.refresh_from_db()
            assert (referral.status, referral.substatus) == ("Closed", "Expired")
        for referral in (future, no_deadline):
            referral.refresh_from_db()
            assert referral.status == "New"
        accepted.refresh_from_db()
        assert accepted.substatus == "Accepted"

        last = referral_history(received)[-1]
        assert (last.field, last.old, last.new) == ("/substatus", "Received", "Expired")
        assert (last.source, last.actor_type, last.who) == ("expiry_job", "system", "system")

    def test_the_beat_task_runs_the_service(self, org_a):
        ReferralFactory(organization=org_a, expiration_at=timezone.now() - timedelta(days=1))
        assert referrals_expire_task.delay().get() == 1
        assert Referral.objects.get().substatus == "Expired"

    def test_it_takes_the_time_it_is_given(self, org_a):
        ReferralFactory(organization=org_a)
        assert referrals_expire(now=timezone.now() + timedelta(days=13)) == 0
        assert referrals_expire(now=timezone.now() + timedelta(days=15)) == 1


class TestWonHold:
    @pytest.fixture
    def eligible(self, org_a):
        SolutionFactory(organization=org_a, solution_id="SOL-ABC-001", azure_ip_co_sell_eligible=True)
        return ReferralFactory(
            organization=org_a,
            status="Active",
            substatus="Accepted",
            deal_kind=DealKind.CO_SELL,
            target=[{"type": "SolutionProfile", "id": "SOL-ABC-001"}],
        )

    def test_won_is_blocked_for_72_hours_on_eligible_deals(self, eligible):
        with pytest.raises(IllegalTransition, match="72 hours"):
            referral_close(referral=eligible, actor="system", won=True)
        eligible.refresh_from_db()
        assert eligible.status == "Active"

    def test_won_is_blocked_through_the_api_too(self, eligible):
        with pytest.raises(IllegalTransition, match="72 hours"):
            referral_update(
                referral=eligible,
                actor="system",
                data={"status": "Closed", "substatus": "Won"},
                if_match=None,
                partial=True,
                source=HistorySource.API,
            )

    def test_lost_is_not_held(self, eligible):
        referral = referral_close(
            referral=eligible, actor="system", won=False, reason="Budget", loss_reason="1"
        )
        assert (referral.substatus, referral.loss_reason) == ("Lost", "1")

    def test_won_is_allowed_after_72_hours(self, eligible):
        Referral.objects.filter(pk=eligible.pk).update(created_at=timezone.now() - timedelta(hours=73))
        referral = referral_close(referral=eligible, actor="system", won=True)
        assert referral.substatus == "Won"

    def test_deals_of_ineligible_solutions_are_not_held(self, org_a):
        SolutionFactory(organization=org_a, solution_id="SOL-XYZ-002", azure_ip_co_sell_eligible=False)
        referral = ReferralFactory(
            organization=org_a,
            status="Active",
            substatus="Accepted",
            deal_kind=DealKind.CO_SELL,
            target=[{"type": "SolutionProfile", "id": "SOL-XYZ-002"}],
        )
        assert referral_close(referral=referral, actor="system", won=True).substatus == "Won"

    def test_an_unknown_loss_reason_is_refused(self, org_a):
        referral = ReferralFactory(organization=org_a, status="Active", substatus="Accepted")
        with pytest.raises(ValidationError, match="loss reason"):
            referral_close(referral=referral, actor="system", won=False, loss_reason="99")
