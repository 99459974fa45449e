"""Customer consent (spec §6): the signed link the customer opens without logging in, and their
answer, which starts the claim window or ends the claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incentives.models import Claim
from incentives.services.claims.rules import CONSENT_DAYS, S, _refuse
from incentives.services.claims.transitions import claim_transition
from portal.locks import lock

__all__ = ("consent_claim", "consent_record", "consent_request")

CONSENT_SALT = "incentives.claim.consent"


def consent_request(*, claim: Claim, actor: Any) -> str:
    """Draft → Pending customer consent; returns the signed path the customer opens without login.

    The link is valid for 14 days; after that the claim expires (spec §6).
    """
    with transaction.atomic():
        claim = lock(claim, "activity_type")
        if claim.status == S.DRAFT and not claim.contact_email:
            raise _refuse(
                "Enter the customer contact's e-mail address before asking for consent.",
                field="contact_email",
                code="required",
            )
        claim = claim_transition(
            claim=claim,
            to_status=S.PENDING_CONSENT,
            actor=actor,
            note=f"Consent requested from {claim.contact_email}.",
        )
    token = signing.dumps({"claim": claim.pk, "claim_id": claim.claim_id}, salt=CONSENT_SALT)
    return reverse("incentives:consent", kwargs={"token": token})


def consent_claim(token: str) -> Claim:
    """The claim a consent link is for; a tampered, foreign or expired link is refused."""
    try:
        data = signing.loads(token, salt=CONSENT_SALT, max_age=timedelta(days=CONSENT_DAYS))
    except signing.SignatureExpired as exc:
        raise _refuse("This consent link has expired.", field="token", code="expired") from exc
    except signing.BadSignature as exc:
        raise _refuse("This consent link is not valid.", field="token", code="invalid") from exc
    claim = Claim.objects.filter(pk=data.get("claim"), claim_id=data.get("claim_id")).first()
    if claim is None:
        raise _refuse("This consent link is not valid.", field="token", code="invalid")
    return claim


@transaction.atomic
def consent_record(*, token: str, accept: bool, note: str = "") -> Claim:
    """The customer's answer: accept → In progress (the claim window starts), decline → Consent declined."""
    claim = lock(consent_claim(token), "activity_type")
    if claim.status != S.PENDING_CONSENT:
        raise _refuse(
            f"This consent request is no longer open: the claim is {claim.status}.", code="answered"
        )
    # The customer has no account: history and audit name the contact the link was sent to.
    customer = f"Customer contact {claim.contact_email}".strip()
    if not accept:
        return claim_transition(
            claim=claim, to_status=S.CONSENT_DECLINED, actor=customer, note=note or "The customer declined."
        )
    now = timezone.now()
    return claim_transition(
        claim=claim,
        to_status=S.IN_PROGRESS,
        actor=customer,
        note=note or "The customer consented.",
        fields={"consent_at": now, "expires_at": now + timedelta(days=claim.activity_type.claim_window_days)},
    )
