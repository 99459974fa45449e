"""What a claim pays (spec/incentives.md §5, §9, §10) and its hand-off to the Earnings ledger.

- `potential_payout`: the payout a partner sees before claiming, explained line by line.
- `claim_payouts_compute`: the approved payout of approved claims, in one UPDATE … FROM: the fee
  (fixed) or rate × value (variable; the value is the linked outcome transactions' USD amounts,
  each transaction shared equally among its claims, or else the opportunity value), the per-claim
  cap, then the annual cap per organization, activity and fiscal year, consumed in approval order.
- `claim_earnings_write`: the "claims" chunk of the Earnings payout run: 60 % Rebate / 40 % Co-op
  earning rows per approved claim in the enrollment's payment currency, kept equal to the payout
  by the engine's revision/delta rule (a re-run writes nothing; a changed payout writes one
  adjustment row per earning type).
- `claims_complete_for_payment`: approved claims whose earnings a Sent payment carries → Completed.

Annual cap remaining (decision): the cap minus the payouts *approved* for the organization and
activity in the fiscal year. Live claims not yet approved do not reserve any of it: most of them
never reach approval, and reserving would turn partners away from caps that end up unused. The
cap is enforced where money is decided, at approval, in approval order; the explanation tells
the partner how much the organization's other live claims could still take.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import PartnerLocation
from earnings.choices import AdjustmentReason, EarningKind, EarningType, PaymentStatus
from earnings.models import Earning, Engagement, Enrollment, ExchangeRate, Lever, Payment, Transaction
from earnings.periods import add_months, format_month, month_start
from incentives.choices import TERMINAL_STATUSES, ClaimStatus, MarketTier, PayPattern
from incentives.models import ActivityRate, ActivityType, Claim, Opportunity, OutcomeLink
from incentives.services.claims.notices import claim_paid_notify
from incentives.services.eligibility import market_tier_of
from incentives.services.summary import claim_summary_rebuild_on_commit
from portal.locks import lock_many
from portal.money import round_money

__all__ = (
    "COOP_SHARE",
    "REBATE_SHARE",
    "PayoutExplanation",
    "claim_earnings_write",
    "claim_payouts_compute",
    "claims_complete_for_payment",
    "fiscal_year_of",
    "potential_payout",
    "rate_in_force",
    "rates_in_force",
)

#: spec §5.2: activity-based incentives are paid as 60 % rebate and 40 % co-op funds.
REBATE_SHARE = Decimal("0.6")
COOP_SHARE = Decimal("1") - REBATE_SHARE
#: spec §9: a claim's rebate is estimated to be paid two months after its approval month.
PAYMENT_MONTHS_AFTER_APPROVAL = 2

_TABLES = {
    "claim": Claim,
    "activity": ActivityType,
    "rate": ActivityRate,
    "opportunity": Opportunity,
    "outcome": OutcomeLink,
    "transaction": Transaction,
    "engagement": Engagement,
    "lever": Lever,
    "enrollment": Enrollment,
    "fx": ExchangeRate,
    "earning": Earning,
    "customer": Claim.customer.field.related_model,
}
T = {name: model._meta.db_table for name, model in _TABLES.items()}

PAID_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.COMPLETED)


def _usd(amount: Decimal) -> str:
    return f"USD {round_money(Decimal(amount)):,.2f}".replace(".00", "")


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def fiscal_year_of(on: date) -> tuple[date, date]:
    """The fiscal year (1 July – 30 June, spec §10) containing `on`: its first and last day."""
    first_year = on.year if on.month >= 7 else on.year - 1
    return date(first_year, 7, 1), date(first_year + 1, 6, 30)


def rates_in_force(*, activity_type: ActivityType, on: date) -> dict[str, ActivityRate]:
    """The activity's rate of each market tier that has one of its own on `on` (one query)."""
    rates = (
        ActivityRate.objects.filter(activity_type=activity_type, valid_from__lte=on)
        .exclude(valid_to__lte=on)
        .order_by("-valid_from")
    )
    found: dict[str, ActivityRate] = {}
    for rate in rates:
        found.setdefault(rate.market_tier, rate)
    return found


def rate_in_force(*, activity_type: ActivityType, market_tier: str, on: date) -> ActivityRate | None:
    """The activity's rate for the tier on `on`; Market A's when the tier has none of its own."""
    rates = rates_in_force(activity_type=activity_type, on=on)
    return rates.get(market_tier) or rates.get(MarketTier.A)


# --- Potential payout -----------------------------------------------------------------------------


@dataclass
class PayoutExplanation:
    amount_usd: Decimal
    lines: list[tuple[str, str]] = field(default_factory=list)
    #: "" (not limited), "per_claim_cap", "annual_cap" or "no_rate".
    limited_by: str = ""
    what_would_change: str = ""
    market_tier: str = MarketTier.A
    annual_cap_remaining_usd: Decimal = Decimal(0)


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(first, time.min), tz),
        timezone.make_aware(datetime.combine(last, time.max), tz),
    )


def potential_payout(
    *,
    activity_type: ActivityType,
    location: PartnerLocation,
    opportunity: Opportunity | None = None,
    on: date | None = None,
) -> PayoutExplanation:
    """What a claim of the activity by the location would pay on `on` (spec §5.2, E2, E3)."""
    on = on or timezone.localdate()
    tier = market_tier_of(location)
    rates = rates_in_force(activity_type=activity_type, on=on)
    rate = rates.get(tier) or rates.get(MarketTier.A)
    lines: list[tuple[str, str]] = [
        ("Market tier", f"Market {tier} (location {location.partner_id}, {location.country})")
    ]
    if rate is None:
        return PayoutExplanation(
            amount_usd=Decimal(0),
            lines=[*lines, ("Rate", f"{activity_type.name} has no rate in force on {on:%d %b %Y}.")],
            limited_by="no_rate",
            what_would_change="The activity pays once the vendor publishes a rate for it.",
            market_tier=tier,
        )
    if rate.market_tier != tier:
        lines.append(("Rate", f"Market {tier} has no rate of its own; the Market A rate applies."))

    per_claim_cap = rate.cap_per_claim_usd
    if activity_type.pay_pattern == PayPattern.FIXED:
        amount = rate.fixed_fee_usd
        lines.append(("Fixed fee", f"{_usd(amount)} per activity in Market {rate.market_tier}"))
        change = _fixed_fee_change(tier, rates)
    else:
        value = opportunity.estimated_value_usd if opportunity is not None else Decimal(0)
        amount = round_money(rate.rate * value)
        label = f"opportunity {opportunity.msx_opportunity_id}" if opportunity else "no opportunity chosen"
        lines.append(("Rate × value", f"{_pct(rate.rate)} × {_usd(value)} ({label}) = {_usd(amount)}"))
        if per_claim_cap is not None and rate.rate:
            ceiling = round_money(per_claim_cap / rate.rate)
            change = (
                f"A higher opportunity value up to {_usd(ceiling)} raises the payout; above that the "
                f"per-claim cap of {_usd(per_claim_cap)} applies."
            )
        else:
            change = "A higher opportunity value raises the payout."
    limited_by = ""
    if per_claim_cap is not None:
        if amount > per_claim_cap:
            lines.append(("Per-claim cap", f"{_usd(per_claim_cap)}: the payout is limited to the cap"))
            amount, limited_by = per_claim_cap, "per_claim_cap"
            if activity_type.pay_pattern == PayPattern.VARIABLE and rate.rate:
                change = (
                    f"The per-claim cap of {_usd(per_claim_cap)} applies: a higher opportunity value does "
                    f"not raise the payout, a value below {_usd(per_claim_cap / rate.rate)} lowers it."
                )
        else:
            lines.append(("Per-claim cap", f"{_usd(per_claim_cap)}: not reached"))

    first, last = fiscal_year_of(on)
    consumed, pending = _annual_cap_use(activity_type, location.organization_id, first, last)
    annual_cap = Decimal(activity_type.annual_cap_usd)
    remaining = max(Decimal(0), annual_cap - consumed)
    lines.append(
        (
            "Annual cap remaining",
            f"{_usd(annual_cap)} cap for {first:%Y}–{last:%y} − {_usd(consumed)} approved "
            f"= {_usd(remaining)}",
        )
    )
    if amount > remaining:
        amount, limited_by = remaining, "annual_cap"
        lines.append(("Limited by annual cap", f"the payout is limited to the {_usd(remaining)} remaining"))
        change = (
            f"Your organization has {_usd(remaining)} left of this activity's annual cap until "
            f"{last:%d %b %Y}; claims approved from {last.replace(day=1, month=7):%d %b %Y} "
            f"draw on a new cap of {_usd(annual_cap)}."
        )
    if pending:
        lines.append(
            (
                "Claims not yet approved",
                f"your organization's other live claims of this activity may take up to {_usd(pending)} "
                "of the remaining cap if they are approved first",
            )
        )
    lines.append(("Potential payout", _usd(amount)))
    return PayoutExplanation(
        amount_usd=round_money(amount),
        lines=lines,
        limited_by=limited_by,
        what_would_change=change,
        market_tier=tier,
        annual_cap_remaining_usd=remaining,
    )


def _fixed_fee_change(tier: str, rates: dict[str, ActivityRate]) -> str:
    """What would change a fixed fee: only the market tier (`rates`: the activity's, per tier)."""
    other_fees = []
    for other in MarketTier:
        other_rate = rates.get(other)
        if other != tier and other_rate is not None and other_rate.fixed_fee_usd is not None:
            other_fees.append(f"{_usd(other_rate.fixed_fee_usd)} in Market {other}")
    text = "The fee is fixed: the customer's size or deal value does not change it."
    if other_fees:
        text += f" It depends on the location's market tier ({'; '.join(other_fees)})."
    return text


def _annual_cap_use(
    activity_type: ActivityType, organization_id: int, first: date, last: date
) -> tuple[Decimal, Decimal]:
    """The payouts approved in the fiscal year, and the potential of live claims not yet approved."""
    # Unscoped: the cap belongs to the organization, whatever the user may see of its claims.
    claims = Claim.objects.filter(organization_id=organization_id, activity_type=activity_type)
    consumed = claims.filter(status__in=PAID_STATUSES, decided_at__range=_day_bounds(first, last)).aggregate(
        total=Sum("approved_payout_usd")
    )["total"] or Decimal(0)
    pending = claims.exclude(status__in=[*sorted(TERMINAL_STATUSES), ClaimStatus.APPROVED]).aggregate(
        total=Sum("potential_payout_usd")
    )["total"] or Decimal(0)
    return consumed, pending


# --- Approved payouts -----------------------------------------------------------------------------

# The approved claims' rows the payouts are computed on, with their decision day and fiscal year
# (the year of 1 July – 30 June: the calendar year of the decision day six months earlier).
# A completed claim (paid) keeps its payout but still consumes the annual cap.
_CLAIMS_SQL = f"""
claims AS MATERIALIZED (
    SELECT c.id, c.organization_id, c.activity_type_id, c.status, c.market_tier, c.opportunity_id,
           c.approved_payout_usd, c.decided_at, d.decided_on,
           extract(year FROM d.decided_on - interval '6 months')::int AS fiscal_year
      FROM {T["claim"]} c
     CROSS JOIN LATERAL (SELECT (c.decided_at AT TIME ZONE %(tz)s)::date AS decided_on) d
     WHERE c.status IN ('{ClaimStatus.APPROVED}', '{ClaimStatus.COMPLETED}') AND c.decided_at IS NOT NULL
       {{scope}}
)"""

# The rate of each claim's tier in force on its decision day, Market A's when the tier has none;
# looked up once per (activity, tier, day) rather than once per claim.
_RATES_SQL = f"""
rates AS (
    SELECT k.activity_type_id, k.market_tier, k.decided_on, r.fixed_fee_usd, r.rate, r.cap_per_claim_usd
      FROM (SELECT DISTINCT activity_type_id, market_tier, decided_on FROM claims) k
      LEFT JOIN LATERAL (
            SELECT r.fixed_fee_usd, r.rate, r.cap_per_claim_usd FROM {T["rate"]} r
             WHERE r.activity_type_id = k.activity_type_id
               AND r.market_tier IN (k.market_tier, '{MarketTier.A}')
               AND r.valid_from <= k.decided_on AND (r.valid_to IS NULL OR r.valid_to > k.decided_on)
             ORDER BY r.market_tier = k.market_tier DESC, r.valid_from DESC LIMIT 1
      ) r ON true
)"""
_RATE_JOIN = """
LEFT JOIN rates r
  ON r.activity_type_id = c.activity_type_id AND r.market_tier = c.market_tier
 AND r.decided_on = c.decided_on"""

PAYOUTS_SQL = f"""
WITH {_CLAIMS_SQL},
{_RATES_SQL},
linked AS (
    SELECT o.claim_id, o.transaction_id FROM {T["outcome"]} o
      JOIN {T["claim"]} c ON c.id = o.claim_id
     WHERE c.status IN ('{ClaimStatus.APPROVED}', '{ClaimStatus.COMPLETED}') {{scope}}
),
shares AS (
    SELECT o.transaction_id, count(*) AS claims FROM {T["outcome"]} o
     WHERE o.transaction_id IN (SELECT transaction_id FROM linked)
     GROUP BY o.transaction_id
),
outcomes AS (
    SELECT l.claim_id, sum(t.transaction_amount_usd / s.claims) AS value_usd
      FROM linked l
      JOIN shares s ON s.transaction_id = l.transaction_id
      JOIN {T["transaction"]} t ON t.id = l.transaction_id
     GROUP BY l.claim_id
),
valued AS (
    SELECT c.id, c.organization_id, c.activity_type_id, c.fiscal_year, c.decided_at, c.status,
           a.annual_cap_usd,
           CASE WHEN c.status = '{ClaimStatus.COMPLETED}' AND c.approved_payout_usd IS NOT NULL
                    THEN c.approved_payout_usd
                ELSE greatest(0, least(
                    CASE WHEN a.pay_pattern = '{PayPattern.FIXED}' THEN r.fixed_fee_usd
                         ELSE round(r.rate * coalesce(oc.value_usd, op.estimated_value_usd, 0), 2) END,
                    r.cap_per_claim_usd))
           END AS capped
      FROM claims c
      JOIN {T["activity"]} a ON a.id = c.activity_type_id
      LEFT JOIN {T["opportunity"]} op ON op.id = c.opportunity_id
      LEFT JOIN outcomes oc ON oc.claim_id = c.id
      {_RATE_JOIN}
),
cumulative AS (
    SELECT v.id, v.annual_cap_usd, coalesce(v.capped, 0) AS capped,
           sum(coalesce(v.capped, 0)) OVER (
               PARTITION BY v.organization_id, v.activity_type_id, v.fiscal_year ORDER BY v.decided_at, v.id
           ) AS running
      FROM valued v
)
UPDATE {T["claim"]} c
   SET approved_payout_usd = p.payout, updated_at = %(now)s
  FROM (
        SELECT id, least(running, annual_cap_usd) - least(running - capped, annual_cap_usd) AS payout
          FROM cumulative
  ) p
 WHERE c.id = p.id AND c.status = '{ClaimStatus.APPROVED}' {{only}}
   AND c.approved_payout_usd IS DISTINCT FROM p.payout
RETURNING c.organization_id, c.created_at
"""


def claim_payouts_compute(*, claim_ids: Iterable[int] | None = None) -> int:
    """Write the approved payout of approved claims (all, or `claim_ids`); returns how many changed.

    The annual cap is consumed in approval order, so the claims computed share their
    organization, activity and fiscal year with every approved or completed claim of it.
    """
    params: dict[str, Any] = {"tz": settings.TIME_ZONE, "now": timezone.now()}
    scope = only = ""
    if claim_ids is not None:
        params["ids"] = sorted(set(claim_ids))
        if not params["ids"]:
            return 0
        scope = f"""AND (c.organization_id, c.activity_type_id) IN (
                SELECT organization_id, activity_type_id FROM {T["claim"]} WHERE id = ANY (%(ids)s))"""
        only = "AND c.id = ANY (%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(PAYOUTS_SQL.format(scope=scope, only=only), params)
        changed = cursor.fetchall()
    created: dict[int, list[datetime]] = {}
    for organization_id, created_at in changed:
        created.setdefault(organization_id, []).append(created_at)
    for organization_id, moments in created.items():
        claim_summary_rebuild_on_commit(organization_id=organization_id, created=moments)
    return len(changed)


# --- Earnings -------------------------------------------------------------------------------------

_EARNING_COLUMNS = """
    organization_id, earning_id, kind, reason_code, note, enrollment_id, program_id, engagement_id,
    lever_id, transaction_id, revision, claim_id, earning_type, earning_rate, earning_amount, currency,
    earning_exchange_rate, exchange_rate_date, earning_amount_usd, earning_date, calculation_date,
    estimated_payment_month, payment_id, payment_status, solution_area, partner_role,
    partner_association, customer_id, customer_name, product_id, product_name, job_id, created_by_id,
    created_at"""

# Per approved (or completed) claim decided by the period's end and earning type: what it earns
# now, in the payment currency of the location's enrollment in force on the decision day (the
# latest one before, when none is), converted at the currency's rate in force that day. Claims
# without an enrollment or a rate wait for a later run (counted as `claims_waiting`).
CLAIM_EARNINGS_SQL = f"""
WITH {_CLAIMS_SQL.replace("{scope}", "AND c.decided_at < %(before)s AND c.approved_payout_usd IS NOT NULL")},
{_RATES_SQL},
expected AS MATERIALIZED (
    SELECT c.id AS claim_pk, k.claim_id, c.organization_id, c.decided_on, k.customer_id,
           cu.name AS customer_name, a.engagement_id, a.lever_id, g.program_id, g.solution_area,
           l.partner_role, l.partner_association, en.id AS enrollment_id, en.currency,
           s.earning_type, s.amount_usd, x.fx_rate, x.fx_date,
           round(s.amount_usd / x.fx_rate, 2) AS amount,
           CASE WHEN a.pay_pattern = '{PayPattern.VARIABLE}' THEN r.rate END AS rate
      FROM claims c
      JOIN {T["claim"]} k ON k.id = c.id
      JOIN {T["customer"]} cu ON cu.id = k.customer_id
      JOIN {T["activity"]} a ON a.id = c.activity_type_id
      JOIN {T["engagement"]} g ON g.id = a.engagement_id
      JOIN {T["lever"]} l ON l.id = a.lever_id
      CROSS JOIN LATERAL (
            VALUES ('{EarningType.REBATE}', round(c.approved_payout_usd * {REBATE_SHARE}, 2)),
                   ('{EarningType.COOP}',
                    round(c.approved_payout_usd, 2) - round(c.approved_payout_usd * {REBATE_SHARE}, 2))
      ) s(earning_type, amount_usd)
      JOIN LATERAL (
            SELECT e.id, e.payment_currency AS currency FROM {T["enrollment"]} e
             WHERE e.location_id = k.location_id AND e.program_id = g.program_id
               AND e.enrolled_from <= c.decided_on
             ORDER BY (e.enrolled_to IS NULL OR e.enrolled_to > c.decided_on) DESC, e.enrolled_from DESC,
                      e.id DESC
             LIMIT 1
      ) en ON true
      LEFT JOIN LATERAL (
            SELECT f.rate_to_usd, f.rate_date FROM {T["fx"]} f
             WHERE f.currency = en.currency AND f.rate_date <= c.decided_on
             ORDER BY f.rate_date DESC LIMIT 1
      ) f ON en.currency <> 'USD'
      CROSS JOIN LATERAL (
            SELECT CASE WHEN en.currency = 'USD' THEN 1 ELSE f.rate_to_usd END AS fx_rate,
                   CASE WHEN en.currency = 'USD' THEN c.decided_on ELSE f.rate_date END AS fx_date
      ) x
      {_RATE_JOIN}
     WHERE x.fx_rate IS NOT NULL
),
ledger AS (
    SELECT e.claim_id, e.earning_type, sum(e.earning_amount) AS amount,
           sum(e.earning_amount_usd) AS amount_usd, max(e.revision) AS revision
      FROM {T["earning"]} e
     WHERE e.claim_id <> '' AND e.claim_id IN (SELECT claim_id FROM expected)
     GROUP BY e.claim_id, e.earning_type
),
written AS (
    INSERT INTO {T["earning"]} ({_EARNING_COLUMNS})
    SELECT x.organization_id,
           'E-' || x.claim_id || '-' || x.earning_type || '-' || coalesce(l.revision + 1, 1),
           c.kind,
           CASE WHEN c.kind = '{EarningKind.EARNING}' THEN ''
                ELSE '{AdjustmentReason.INCORRECT_CALCULATION}' END,
           CASE WHEN c.kind = '{EarningKind.EARNING}' THEN ''
                ELSE 'Claim ' || x.claim_id || ' payout recalculated by the ' || %(period)s
                     || ' payout run: earned ' || round(l.amount_usd, 2) || ', now ' || x.amount_usd || ' USD'
           END,
           x.enrollment_id, x.program_id, x.engagement_id, x.lever_id, NULL,
           coalesce(l.revision + 1, 1), x.claim_id, x.earning_type, x.rate,
           x.amount - coalesce(l.amount, 0), x.currency, x.fx_rate, x.fx_date,
           x.amount_usd - coalesce(l.amount_usd, 0), x.decided_on, %(calculation_date)s,
           CASE WHEN x.earning_type = '{EarningType.COOP}' THEN NULL
                ELSE (date_trunc('month', x.decided_on)
                      + make_interval(months => {PAYMENT_MONTHS_AFTER_APPROVAL}))::date END,
           NULL, '{PaymentStatus.UNPROCESSED}', x.solution_area, x.partner_role, x.partner_association,
           x.customer_id, x.customer_name, '', '', %(job)s, %(actor)s, %(now)s
      FROM expected x
      LEFT JOIN ledger l ON l.claim_id = x.claim_id AND l.earning_type = x.earning_type
     CROSS JOIN LATERAL (
            SELECT CASE WHEN l.claim_id IS NULL THEN '{EarningKind.EARNING}'
                        WHEN x.amount_usd = 0 THEN '{EarningKind.REVERSAL}'
                        ELSE '{EarningKind.ADJUSTMENT}' END AS kind
     ) c
     WHERE (l.claim_id IS NULL AND x.amount_usd <> 0)
        OR x.amount <> l.amount OR x.amount_usd <> l.amount_usd
    ON CONFLICT DO NOTHING
    RETURNING kind
)
SELECT count(*) FILTER (WHERE kind = '{EarningKind.EARNING}'),
       count(*) FILTER (WHERE kind = '{EarningKind.ADJUSTMENT}'),
       count(*) FILTER (WHERE kind = '{EarningKind.REVERSAL}'),
       (SELECT count(*) FROM claims c WHERE NOT EXISTS (SELECT 1 FROM expected x WHERE x.claim_pk = c.id))
  FROM written
"""


def claim_earnings_write(*, period: date, job: Any) -> dict[str, int]:
    """Bring the ledger to the approved payouts of the claims decided by the end of `period`'s month.

    Called by the Earnings payout run, in its "claims" chunk (one transaction). Returns counts
    for the run's result.
    """
    month = month_start(period)
    claim_payouts_compute()
    before = timezone.make_aware(datetime.combine(add_months(month, 1), time.min))
    parameters = getattr(job, "parameters", None) or {}
    calculation_date = parameters.get("calculation_date") or timezone.localdate().isoformat()
    params = {
        "tz": settings.TIME_ZONE,
        "before": before,
        "period": format_month(month),
        "calculation_date": calculation_date,
        "job": getattr(job, "pk", None),
        "actor": getattr(job, "created_by_id", None),
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_EARNINGS_SQL, params)
        earnings, adjustments, reversals, waiting = cursor.fetchone()
    return {
        "claim_earnings": earnings,
        "claim_adjustments": adjustments,
        "claim_reversals": reversals,
        "claims_waiting": waiting,
    }


# --- Completion -----------------------------------------------------------------------------------


@transaction.atomic
def claims_complete_for_payment(*, payment: Payment, actor: Any) -> int:
    """Approved claims whose earnings `payment` carries → Completed (spec §6, §9), each claim's people
    notified that it is paid; returns how many."""
    claim_ids = (
        Earning.objects.filter(payment=payment)
        .exclude(claim_id="")
        .values_list("claim_id", flat=True)
        .distinct()
    )
    # Unscoped: the payment's own organization's claims, locked in primary-key order.
    claims = list(
        lock_many(
            Claim.objects.filter(
                organization_id=payment.organization_id,
                claim_id__in=list(claim_ids),
                status=ClaimStatus.APPROVED,
            ).select_related("activity_type")
        )
    )
    note = f"Payment {payment.payment_id} sent."
    for claim in claims:
        _complete(claim, actor=actor, note=note)
        claim_paid_notify(claim, payment_id=payment.payment_id)
    return len(claims)


def _complete(claim: Claim, *, actor: Any, note: str) -> Claim:
    # Imported here to prevent an import cycle: the claim lifecycle imports this module.
    from incentives.services.claims.transitions import claim_transition  # noqa: PLC0415

    return claim_transition(claim=claim, to_status=ClaimStatus.COMPLETED, actor=actor, note=note)
