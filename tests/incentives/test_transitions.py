"""The claim status table (spec §6): every legal move is recorded, every other one is refused."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from incentives.choices import TERMINAL_STATUSES, ClaimStatus
from incentives.models import Claim
from incentives.services import TRANSITIONS, claim_transition
from portal.history import history_for
from portal.models import AuditEvent, WebhookDelivery
from tests.factories import ClaimFactory, WebhookEndpointFactory

S = ClaimStatus
PAIRS = list(itertools.product(S.values, S.values))
LEGAL = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def test_the_table_names_every_status_and_closes_the_terminal_ones():
    assert set(TRANSITIONS) == set(S.values)
    assert all(TRANSITIONS[status] == frozenset() for status in TERMINAL_STATUSES)
    assert all(TRANSITIONS[status] for status in set(S.values) - TERMINAL_STATUSES)
    assert all(target in S.values for targets in TRANSITIONS.values() for target in targets)


def test_the_spec_path_and_its_exits_are_legal():
    spec = {
        (S.DRAFT, S.PENDING_CONSENT),
        (S.PENDING_CONSENT, S.CONSENT_DECLINED),
        (S.PENDING_CONSENT, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.PENDING_POE),
        (S.PENDING_POE, S.SUBMITTED),
        (S.SUBMITTED, S.UNDER_REVIEW),
        (S.UNDER_REVIEW, S.APPROVED),
        (S.UNDER_REVIEW, S.PARTNER_ACTION_REQUIRED),
        (S.UNDER_REVIEW, S.REJECTED),
        (S.UNDER_REVIEW, S.FINAL_REJECTED),
        (S.PARTNER_ACTION_REQUIRED, S.SUBMITTED),
        (S.REJECTED, S.SUBMITTED),
        (S.APPROVED, S.COMPLETED),
    }
    assert spec <= set(LEGAL)
    for status in (S.DRAFT, S.PENDING_CONSENT, S.IN_PROGRESS, S.PENDING_POE):
        assert {S.CANCELED, S.EXPIRED} <= TRANSITIONS[status]
    # Review outcomes are decided by vendor staff, never skipped to by the partner's side.
    assert S.APPROVED not in TRANSITIONS[S.PENDING_POE]
    assert S.SUBMITTED not in TRANSITIONS[S.IN_PROGRESS]


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_a_legal_move_is_saved_with_history_audit_and_webhook(db, from_status, to_status):
    claim = ClaimFactory(status=from_status)
    WebhookEndpointFactory(organization=claim.organization, events=["incentives.claim.status_changed"])

    claim_transition(claim=claim, to_status=to_status, actor=None, note="by the table")

    claim.refresh_from_db()
    assert claim.status == to_status
    event = history_for(claim).get()
    assert (event.from_status, event.to_status, event.note, event.actor_label) == (
        from_status,
        to_status,
        "by the table",
        "system",
    )
    audit = AuditEvent.objects.get(action="incentives.claim.status_changed")
    assert audit.changes["status"] == [from_status, to_status]
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["data"]["claimId"] == claim.claim_id
    assert (delivery.payload["data"]["fromStatus"], delivery.payload["data"]["status"]) == (
        from_status,
        to_status,
    )


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_an_illegal_move_is_refused_naming_both_statuses_and_changes_nothing(db, from_status, to_status):
    claim = ClaimFactory(status=from_status)
    before = Claim.objects.filter(pk=claim.pk).values().get()

    with pytest.raises(ValidationError) as caught:
        claim_transition(claim=claim, to_status=to_status, actor=None)

    message = " ".join(caught.value.message_dict["status"])
    assert f"A claim in {from_status} cannot move to {to_status}" in message
    assert Claim.objects.filter(pk=claim.pk).values().get() == before
    assert not history_for(claim).exists()
    assert not AuditEvent.objects.exists()
