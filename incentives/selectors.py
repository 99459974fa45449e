"""The read side of the Incentives workspace: what its pages and API show.

Every query is scoped with `visible_to(user)` and bounded: the overview reads `ClaimSummary`,
lists page by keyset, and a customer is found by a search that returns a handful of rows, never
a list of every customer of the organization.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Customer, PartnerLocation
from earnings.models import Earning, Transaction
from earnings.periods import add_months, month_start
from incentives.choices import (
    OPEN_STAGES,
    PARTNER_TURN,
    TERMINAL_STATUSES,
    ClaimStatus,
    PayPattern,
    ProofKind,
)
from incentives.models import (
    ActivityRate,
    ActivityType,
    Claim,
    ClaimReview,
    ClaimSummary,
    Opportunity,
    OutcomeLink,
    ProofDocument,
)
from incentives.services.eligibility import RuleFailure, customer_eligibility
from incentives.services.payouts import PayoutExplanation, potential_payout
from portal.paging import LIST_PAGE_SIZE, KeysetPage, keyset_page

ZERO = Decimal("0")
CHART_MONTHS = 12
WAITING_SHOWN = 20
#: A customer search shows at most this many matches; more ask for a narrower search.
CUSTOMER_MATCHES = 20
#: Rows per page of the Incentives lists: claims, opportunities, a claim's outcome candidates.
PAGE_SIZE = LIST_PAGE_SIZE
CLAIM_COLUMNS = ("activity_type__engagement", "customer", "location", "opportunity")
#: What the partner must do in each status (spec §6), shown on the claim page and the overview.
PARTNER_GUIDANCE: dict[str, str] = {
    ClaimStatus.DRAFT: "Send the consent request to the customer contact.",
    ClaimStatus.PENDING_CONSENT: (
        "Waiting for the customer to accept the consent request; send them the consent link again "
        "if it got lost."
    ),
    ClaimStatus.CONSENT_DECLINED: "The customer declined; the claim is closed.",
    ClaimStatus.IN_PROGRESS: (
        "Deliver the activity, upload every required proof document, then submit the claim with the "
        "delivery date before the deadline."
    ),
    ClaimStatus.PENDING_POE: "Upload the missing proof documents, then submit the claim.",
    ClaimStatus.SUBMITTED: "Nothing to do: the claim waits for a reviewer.",
    ClaimStatus.UNDER_REVIEW: "Nothing to do: a reviewer is checking the proof.",
    ClaimStatus.PARTNER_ACTION_REQUIRED: (
        "The reviewer asked for changes: answer them, replace the proof if needed and submit again "
        "before the deadline."
    ),
    ClaimStatus.APPROVED: "Approved: the payout is paid through the next monthly payout run.",
    ClaimStatus.REJECTED: "Rejected: answer the reviewer and resubmit once, before the deadline.",
    ClaimStatus.FINAL_REJECTED: "Finally rejected: no further resubmission.",
    ClaimStatus.EXPIRED: "Expired: the deadline passed without the next step.",
    ClaimStatus.CANCELED: "Canceled by the partner.",
    ClaimStatus.COMPLETED: "Completed: the earning was paid.",
}
#: PayoutExplanation.limited_by, in words.
LIMITED_BY = {
    "per_claim_cap": "the per-claim cap",
    "annual_cap": "the annual cap",
    "no_rate": "no rate in force",
}


# --- Overview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusTotal:
    status: str
    count: int
    potential_usd: Decimal
    approved_usd: Decimal


@dataclass
class Chart:
    """Claims created and approved payouts per month; embedded with json_script for Chart.js."""

    months: list[str] = field(default_factory=list)
    claims: list[int] = field(default_factory=list)
    approved_usd: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "labels": self.months,
            "datasets": [
                {"label": "Approved payouts (USD)", "data": self.approved_usd, "type": "bar", "yAxisID": "y"},
                {"label": "Claims created", "data": self.claims, "type": "line", "yAxisID": "claims"},
            ],
        }


def status_totals(*, user) -> list[StatusTotal]:
    """Claims, potential and approved payouts per status, in the order of the lifecycle."""
    rows = {
        row["status"]: row
        for row in ClaimSummary.objects.visible_to(user)
        .order_by()
        .values("status")
        .annotate(
            n=Sum("claim_count"), potential=Sum("potential_payout_usd"), approved=Sum("approved_payout_usd")
        )
    }
    return [
        StatusTotal(
            status=status,
            count=rows[status]["n"],
            potential_usd=rows[status]["potential"] or ZERO,
            approved_usd=rows[status]["approved"] or ZERO,
        )
        for status in ClaimStatus.values
        if status in rows
    ]


def open_potential_usd(totals: Iterable[StatusTotal]) -> Decimal:
    return sum((t.potential_usd for t in totals if t.status not in TERMINAL_STATUSES), start=ZERO)


def claims_chart(*, user, today: date | None = None) -> Chart:
    """The last CHART_MONTHS months: claims created, and payouts approved, per month."""
    last = month_start(today or timezone.localdate())
    first = add_months(last, 1 - CHART_MONTHS)
    summary = ClaimSummary.objects.visible_to(user).order_by()
    created = dict(
        summary.filter(created_month__gte=first)
        .values("created_month")
        .annotate(n=Sum("claim_count"))
        .values_list("created_month", "n")
    )
    approved = dict(
        summary.filter(decided_month__gte=first, status__in=[ClaimStatus.APPROVED, ClaimStatus.COMPLETED])
        .values("decided_month")
        .annotate(s=Sum("approved_payout_usd"))
        .values_list("decided_month", "s")
    )
    months = [add_months(first, i) for i in range(CHART_MONTHS)]
    return Chart(
        months=[m.strftime("%Y-%m") for m in months],
        claims=[created.get(m, 0) for m in months],
        approved_usd=[str((approved.get(m) or ZERO).quantize(Decimal("0.01"))) for m in months],
    )


def claims_waiting(*, user, limit: int = WAITING_SHOWN) -> list[Claim]:
    """The claims where the partner acts next, soonest due first, each with what to do."""
    waiting = list(
        Claim.objects.visible_to(user)
        .filter(status__in=PARTNER_TURN)
        .select_related("activity_type", "customer")
        .order_by("action_due_at", "expires_at", "-created_at")[:limit]
    )
    for claim in waiting:
        claim.guidance = PARTNER_GUIDANCE[claim.status]
    return waiting


def open_opportunity_count(*, user) -> int:
    return Opportunity.objects.visible_to(user).filter(stage__in=sorted(OPEN_STAGES)).count()


# --- Catalogue ------------------------------------------------------------------------------------


def _rates_in_force(today: date) -> Prefetch:
    rates = (
        ActivityRate.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today), valid_from__lte=today)
        .annotate(percent=F("rate") * 100)
        .order_by("market_tier")
    )
    return Prefetch("rates", queryset=rates, to_attr="current_rates")


def catalogue(*, user) -> QuerySet[ActivityType]:
    """Every activity with today's fee or rate per market tier (`current_rates`)."""
    return (
        ActivityType.objects.visible_to(user)
        .select_related("engagement")
        .prefetch_related(_rates_in_force(timezone.localdate()))
    )


def catalogue_with_rate_history(*, user) -> QuerySet[ActivityType]:
    """The API's catalogue: every rate of each activity, newest first per market tier."""
    return (
        ActivityType.objects.visible_to(user)
        .select_related("engagement", "prerequisite")
        .prefetch_related(
            Prefetch("rates", queryset=ActivityRate.objects.order_by("market_tier", "-valid_from"))
        )
    )


def activity_types(*, user) -> QuerySet[ActivityType]:
    return ActivityType.objects.visible_to(user)


def activity_for_page(*, user, pk: int) -> ActivityType | None:
    return (
        ActivityType.objects.visible_to(user)
        .select_related("engagement__program", "lever", "prerequisite")
        .filter(pk=pk)
        .first()
    )


def activity_rates(activity: ActivityType) -> QuerySet[ActivityRate]:
    return activity.rates.annotate(percent=F("rate") * 100).order_by("market_tier", "-valid_from")


def own_claim_count(*, user, activity: ActivityType) -> int:
    return Claim.objects.visible_to(user).filter(activity_type=activity).count()


def proof_labels(kinds: Iterable[str]) -> list[str]:
    return [ProofKind(kind).label for kind in kinds]


def activity_by_code(*, user, code: str) -> ActivityType | None:
    return ActivityType.objects.visible_to(user).filter(code=code).first() if code else None


# --- Locations and customers ----------------------------------------------------------------------


def partner_locations(*, user) -> QuerySet[PartnerLocation]:
    """The organization's locations, headquarters first."""
    return PartnerLocation.objects.visible_to(user).order_by("-is_headquarters", "partner_id", "pk")


def default_location(*, user) -> PartnerLocation | None:
    return partner_locations(user=user).first()


def customer_condition(text: str, *, prefix: str = "") -> Q | None:
    """The customers a search names: an id, a tenant ID, or part of the name or domain.

    `prefix` reaches the customer from another model ("customer__"); None: nothing to search.
    """
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) <= 18:
        return Q(**{f"{prefix}pk": int(text)})
    try:
        tenant = uuid.UUID(text)
    except ValueError:
        return Q(**{f"{prefix}name__icontains": text}) | Q(**{f"{prefix}domain__icontains": text})
    return Q(**{f"{prefix}tenant_id": tenant})


def customers_matching(*, user, text: str, limit: int = CUSTOMER_MATCHES) -> list[Customer]:
    """Up to `limit` + 1 of the organization's customers a search names (the extra one tells the
    page there are more), by name."""
    condition = customer_condition(text)
    if condition is None:
        return []
    return list(Customer.objects.visible_to(user).filter(condition).order_by("name", "pk")[: limit + 1])


def customer_for_page(*, user, pk: Any) -> Customer | None:
    try:
        return Customer.objects.visible_to(user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


# --- Opportunities --------------------------------------------------------------------------------


def opportunities(*, user) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related("customer")


def open_opportunities_of(*, user, customer: Customer) -> QuerySet[Opportunity]:
    """The customer's open seller opportunities: the few a variable-pay claim may name."""
    return (
        Opportunity.objects.visible_to(user)
        .filter(customer=customer, stage__in=sorted(OPEN_STAGES))
        .order_by("msx_opportunity_id")
    )


def msx_opportunity_shared(*, user, msx_opportunity_id: str) -> bool:
    return (
        Opportunity.objects.visible_to(user)
        .filter(msx_opportunity_id=msx_opportunity_id.strip().upper())
        .exists()
    )


def opportunity_claims(*, user, opportunity: Opportunity) -> QuerySet[Claim]:
    return (
        Claim.objects.visible_to(user)
        .filter(opportunity=opportunity)
        .select_related("activity_type")
        .order_by("-created_at")
    )


@dataclass
class Offer:
    """One activity an opportunity qualifies for, priced and checked for one location."""

    activity: ActivityType
    payout: Any = None
    payout_error: list[str] = field(default_factory=list)
    failures: list[RuleFailure] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.failures


def opportunity_offers(*, user, opportunity: Opportunity, location: PartnerLocation | None) -> list[Offer]:
    """The active variable-pay activities of the opportunity's solution area, each priced and
    checked for `location` (none: listed without a price)."""
    today = timezone.localdate()
    activities = (
        ActivityType.objects.visible_to(user)
        .filter(
            pay_pattern=PayPattern.VARIABLE,
            engagement__solution_area=opportunity.solution_area,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .select_related("engagement__program")
    )
    offers = []
    for activity in activities:
        offer = Offer(activity=activity)
        if location is not None:
            offer.payout, offer.payout_error = payout_or_errors(activity, location, opportunity)
            eligibility = customer_eligibility(
                activity_type=activity,
                customer=opportunity.customer,
                location=location,
                opportunity=opportunity,
            )
            offer.failures = list(eligibility.failures)
        offers.append(offer)
    return offers


def explained(payout: PayoutExplanation) -> PayoutExplanation:
    """Adds the words the templates show: what limits the payout and what would change it."""
    payout.limited_by_label = LIMITED_BY.get(payout.limited_by, payout.limited_by)
    changes = payout.what_would_change
    payout.changes = [changes] if isinstance(changes, str) and changes else list(changes or [])
    return payout


def payout_or_errors(activity, location, opportunity) -> tuple[PayoutExplanation | None, list[str]]:
    """The potential payout explained for the page, or why none can be computed."""
    try:
        payout = potential_payout(activity_type=activity, location=location, opportunity=opportunity)
    except ValidationError as exc:
        return None, exc.messages
    return explained(payout), []


# --- Claims ---------------------------------------------------------------------------------------


def claims(*, user) -> QuerySet[Claim]:
    """The organization's claims with the columns the list shows."""
    return Claim.objects.visible_to(user).select_related(*CLAIM_COLUMNS)


def claim_for_page(*, user, pk: int) -> Claim | None:
    return Claim.objects.visible_to(user).select_related(*CLAIM_COLUMNS, "created_by").filter(pk=pk).first()


def proof_document_for_page(*, user, pk: int) -> ProofDocument | None:
    return ProofDocument.objects.visible_to(user).select_related("claim").filter(pk=pk).first()


@dataclass
class ClaimPage:
    """What the claim page shows beside the claim itself."""

    proof: list[ProofDocument]
    missing_proof: list[str]
    reviews: list[ClaimReview]
    outcomes: QuerySet[OutcomeLink]
    earnings: QuerySet[Earning]

    @property
    def latest_review(self) -> ClaimReview | None:
        return self.reviews[0] if self.reviews else None


def claim_page(*, user, claim: Claim) -> ClaimPage:
    proof = list(
        ProofDocument.objects.visible_to(user)
        .filter(claim=claim)
        .select_related("uploaded_by")
        .order_by("kind", "-uploaded_at")
    )
    present = {doc.kind for doc in proof}
    return ClaimPage(
        proof=proof,
        missing_proof=proof_labels(k for k in claim.activity_type.required_proof if k not in present),
        reviews=list(
            ClaimReview.objects.visible_to(user)
            .filter(claim=claim)
            .select_related("reviewer")
            .order_by("-decided_at")
        ),
        outcomes=OutcomeLink.objects.visible_to(user)
        .filter(claim=claim)
        .select_related("transaction")
        .order_by("transaction__transaction_date"),
        earnings=Earning.objects.visible_to(user)
        .filter(claim_id=claim.claim_id)
        .order_by("earning_type", "revision", "id"),
    )


def claim_proof_documents(*, user, claim: Claim) -> QuerySet[ProofDocument]:
    return ProofDocument.objects.visible_to(user).filter(claim=claim)


def outcome_candidates(*, user, claim: Claim, after: str | None) -> KeysetPage:
    """A page of the customer's transactions, newest first, each marked `linked` when the claim
    already names it."""
    page = keyset_page(
        outcome_transactions(user=user, claim=claim),
        field_name="transaction_date",
        after=after,
        size=PAGE_SIZE,
    )
    linked = set(
        OutcomeLink.objects.filter(claim=claim, transaction_id__in=[row.pk for row in page.rows])
        .order_by()
        .values_list("transaction_id", flat=True)
    )
    for row in page.rows:
        row.linked = row.pk in linked
    return page


def outcome_transactions(*, user, claim: Claim) -> QuerySet[Transaction]:
    """The transactions of the claim's customer that may be linked to it as outcomes."""
    return (
        Transaction.objects.visible_to(user)
        .filter(customer_id=claim.customer_id)
        .order_by("-transaction_date", "-id")
    )
