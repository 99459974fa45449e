"""Incentives: seller opportunities for half the customers, and claims for the ten activities of
the demo catalogue over two years: live ones (created in the last four months) in every working
status, older ones settled (approved, completed, rejected, expired, canceled). Claim n is activity
n mod 10 for customer ((n / 10)·k) mod C (k coprime with C), so no customer holds two live claims
for one activity. Decided claims carry the reviewer's decision, claims past consent their proof,
every claim its history, and claims waiting on the partner an Action Center item.
"""

from __future__ import annotations

import hashlib
import math

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.choices import ActionItemCode, Severity
from accounts.models import ActionItem
from home.scale.base import MONTHS, Chunk, Context, analyze, fetch, history_append, insert_select
from incentives.choices import ClaimStatus, MarketTier, OpportunityStage, ReviewDecision, ReviewReason
from incentives.demo import PDF, SELLERS
from incentives.models import ActivityRate, ActivityType, Claim, ClaimReview, Opportunity, ProofDocument
from incentives.services.summary import claim_summary_rebuild
from portal.roles import Role

__all__ = ("chunks",)

S = ClaimStatus
#: Claims created in the last LIVE_DAYS days are still being worked; older ones are settled.
LIVE_DAYS = 120
LIVE = [S.DRAFT] * 8 + [S.PENDING_CONSENT] * 8 + [S.IN_PROGRESS] * 14 + [S.PENDING_POE] * 10 + [
    S.SUBMITTED
] * 14 + [S.UNDER_REVIEW] * 18 + [S.PARTNER_ACTION_REQUIRED] * 10 + [S.APPROVED] * 10 + [
    S.CONSENT_DECLINED
] * 2 + [S.CANCELED] * 3 + [S.REJECTED] * 3  # fmt: skip
SETTLED = [S.APPROVED] * 30 + [S.COMPLETED] * 30 + [S.REJECTED] * 6 + [S.FINAL_REJECTED] * 8 + [
    S.EXPIRED
] * 12 + [S.CANCELED] * 9 + [S.CONSENT_DECLINED] * 5  # fmt: skip
#: The status a claim came from into its current one (its history's last step).
CAME_FROM = {
    S.DRAFT: "",
    S.PENDING_CONSENT: S.DRAFT,
    S.CONSENT_DECLINED: S.PENDING_CONSENT,
    S.IN_PROGRESS: S.PENDING_CONSENT,
    S.PENDING_POE: S.IN_PROGRESS,
    S.SUBMITTED: S.PENDING_POE,
    S.UNDER_REVIEW: S.SUBMITTED,
    S.PARTNER_ACTION_REQUIRED: S.UNDER_REVIEW,
    S.APPROVED: S.UNDER_REVIEW,
    S.REJECTED: S.UNDER_REVIEW,
    S.FINAL_REJECTED: S.UNDER_REVIEW,
    S.EXPIRED: S.IN_PROGRESS,
    S.CANCELED: S.IN_PROGRESS,
    S.COMPLETED: S.APPROVED,
}
REACHED_CONSENT = {s for s in S} - {S.DRAFT, S.PENDING_CONSENT, S.CONSENT_DECLINED}
HAS_PROOF = {
    S.PENDING_POE,
    S.SUBMITTED,
    S.UNDER_REVIEW,
    S.PARTNER_ACTION_REQUIRED,
    S.APPROVED,
    S.REJECTED,
    S.FINAL_REJECTED,
    S.COMPLETED,
}
SUBMITTED = HAS_PROOF - {S.PENDING_POE}
DECIDED = {S.PARTNER_ACTION_REQUIRED, S.APPROVED, S.REJECTED, S.FINAL_REJECTED, S.COMPLETED}
REVIEWS = {
    S.APPROVED: (ReviewDecision.APPROVE, "", "Proof complete and specific to the customer."),
    S.COMPLETED: (ReviewDecision.APPROVE, "", "Proof complete and specific to the customer."),
    S.PARTNER_ACTION_REQUIRED: (
        ReviewDecision.REQUEST_INFO,
        ReviewReason.GENERIC_CONTENT,
        "The findings read like a template; add the customer's own results.",
    ),
    S.REJECTED: (ReviewDecision.REJECT, ReviewReason.SURVEY_MISSING, "The customer survey is missing."),
    S.FINAL_REJECTED: (
        ReviewDecision.FINAL_REJECT,
        ReviewReason.DATES_OUTSIDE_WINDOW,
        "The invoice dates the activity before the engagement started.",
    ),
}
OPPORTUNITY_AREAS = ["Infra", "Data & AI", "Digital & App Innovation", "Business Applications"]
STAGES = [
    OpportunityStage.QUALIFY,
    OpportunityStage.DEVELOP,
    OpportunityStage.DEVELOP,
    OpportunityStage.PROPOSE,
    OpportunityStage.PROPOSE,
    OpportunityStage.CLOSE,
    OpportunityStage.WON,
    OpportunityStage.LOST,
]
PROOF_FILE = "incentives/proof/scale/proof-of-execution.pdf"


def chunks(ctx: Context) -> list[Chunk]:
    plan = ctx.plan
    return [
        Chunk("incentives.opportunities", plan.opportunities, lambda: _opportunities(ctx)),
        Chunk("incentives.claims", plan.claims, lambda: _claims(ctx)),
        Chunk("incentives.follow_up", plan.claims, lambda: _follow_up(ctx)),
        # The claims above are inserted set-based, past the services that keep the summary.
        Chunk("incentives.summary", 1, lambda: _summary(ctx)),
    ]


def _summary(ctx: Context) -> int:
    claim_summary_rebuild([ctx.org])
    return 1


def _coprime(customers: int) -> int:
    return next(k for k in (7919, 7907, 7901, 7883, 104729) if math.gcd(k, customers) == 1)


def _opportunities(ctx: Context) -> int:
    plan = ctx.plan
    return insert_select(
        Opportunity,
        {
            "organization": "%(org)s",
            "msx_opportunity_id": "'7-' || %(code)s || lpad(k::text, 7, '0')",
            "name": "c.name || ' – ' || (%(areas)s::text[])[1 + k %% 4]",
            "customer": "c.id",
            "solution_area": "(%(areas)s::text[])[1 + k %% 4]",
            "estimated_value_usd": "(20000 + (k * 7919) %% 980000)::numeric",
            "stage": "(%(stages)s::text[])[1 + (k * 13) %% cardinality(%(stages)s::text[])]",
            "seller_name": "(%(sellers)s::text[])[1 + k %% cardinality(%(sellers)s::text[])]",
            "seller_email": "'seller' || (k %% 40) || '@vendor.example'",
            "close_date": "(now() + ((k * 17) %% 300 - 60) * interval '1 day')::date",
            "imported_at": "now() - (%(months)s * 30 * (1 - k::float / %(count)s)) * interval '1 day'",
        },
        f"""WITH c AS ({ctx.customers_sql()})
            FROM generate_series(0, %(count)s - 1) AS k
            JOIN c ON c.idx = (k * %(mult)s) %% %(customers)s""",
        {
            "org": ctx.org,
            "code": f"{plan.code:05d}",
            "areas": OPPORTUNITY_AREAS,
            "stages": [str(stage) for stage in STAGES],
            "sellers": list(SELLERS),
            "months": MONTHS,
            "count": plan.opportunities,
            "customers": plan.customers,
            "mult": _coprime(plan.customers),
        },
        conflict="ON CONFLICT (msx_opportunity_id) DO NOTHING",
    )


def _activity_arrays() -> dict[str, list]:
    """Activities by code, with their area and their Market A/B/C fee, rate and cap."""
    activities = list(ActivityType.objects.select_related("engagement").order_by("code"))
    tiers = [MarketTier.A, MarketTier.B, MarketTier.C]
    rates = {(rate.activity_type_id, rate.market_tier): rate for rate in ActivityRate.objects.all()}
    arrays: dict[str, list] = {
        "a_id": [],
        "a_name": [],
        "a_area": [],
        "a_window": [],
        "a_proof1": [],
        "a_proof2": [],
    }
    arrays.update({"fee": [], "rate": [], "cap": []})
    for activity in activities:
        arrays["a_id"].append(activity.pk)
        arrays["a_name"].append(activity.name)
        arrays["a_area"].append(activity.engagement.solution_area)
        arrays["a_window"].append(activity.claim_window_days)
        proof = list(activity.required_proof) or ["POE"]
        arrays["a_proof1"].append(proof[0])
        arrays["a_proof2"].append(proof[-1])
        for tier in tiers:
            rate = rates.get((activity.pk, tier))
            arrays["fee"].append(rate.fixed_fee_usd if rate else None)
            arrays["rate"].append(rate.rate if rate else None)
            arrays["cap"].append(rate.cap_per_claim_usd if rate else None)
    return arrays


def _claims(ctx: Context) -> int:
    plan = ctx.plan
    analyze(Opportunity)
    people = f"SELECT id FROM ({ctx.people_sql()}) p ORDER BY idx LIMIT 200"
    params = {
        "org": ctx.org,
        "prefix": plan.prefix,
        "count": plan.claims,
        "customers": plan.customers,
        "mult": _coprime(plan.customers),
        "live_days": LIVE_DAYS,
        "span_days": MONTHS * 30,
        "live": [str(s) for s in LIVE],
        "settled": [str(s) for s in SETTLED],
        "consented": sorted(str(s) for s in REACHED_CONSENT),
        "submitted": sorted(str(s) for s in SUBMITTED),
        "decided": sorted(str(s) for s in DECIDED),
        "paid": [S.APPROVED, S.COMPLETED],
        "par": S.PARTNER_ACTION_REQUIRED,
        "tiers": [MarketTier.A, MarketTier.B, MarketTier.C],
        "location_ids": [location.pk for location in ctx.locations],
        **_activity_arrays(),
    }
    soon = "least(x.created + interval '{}', now() - interval '1 hour')"
    return insert_select(
        Claim,
        {
            "organization": "%(org)s",
            "claim_id": "%(prefix)s || '-C' || x.n",
            "activity_type": "(%(a_id)s::bigint[])[x.a]",
            "location": "coalesce(x.location_id, (%(location_ids)s::bigint[])[1])",
            "customer": "x.customer_id",
            "customer_tenant_id": "x.tenant_id",
            "customer_id_type": "'tenant_id'",
            "opportunity": "o.id",
            "friendly_name": "left(x.customer_name || ' – ' || (%(a_name)s::text[])[x.a], 120)",
            "status": "x.status",
            "market_tier": "(%(tiers)s::text[])[x.tier]",
            "estimated_deal_size_usd": "coalesce(o.estimated_value_usd, 25000)",
            "potential_payout_usd": "pay.payout",
            "approved_payout_usd": "CASE WHEN x.status = ANY(%(paid)s::text[]) THEN pay.payout END",
            "contact_name": "'IT lead of ' || left(x.customer_name, 120)",
            "contact_email": "'it.lead@' || x.domain",
            "delivered_on": "CASE WHEN x.status = ANY(%(submitted)s::text[]) THEN "
            f"({soon.format('20 days')})::date END",
            "consent_at": f"CASE WHEN x.status = ANY(%(consented)s::text[]) THEN {soon.format('2 days')} END",
            "submitted_at": f"CASE WHEN x.status = ANY(%(submitted)s::text[]) THEN {soon.format('25 days')} "
            "END",
            "decided_at": f"CASE WHEN x.status = ANY(%(decided)s::text[]) THEN {soon.format('40 days')} END",
            "expires_at": "x.created + (%(a_window)s::int[])[x.a] * interval '1 day'",
            "action_due_at": f"CASE WHEN x.status = %(par)s THEN {soon.format('40 days')} + interval "
            "'14 days' END",
            "resubmit_count": "CASE WHEN x.status = %(par)s THEN x.n %% 2 ELSE 0 END",
            "created_by": "(%(people)s::bigint[])[1 + x.n %% cardinality(%(people)s::bigint[])]",
            "created_at": "x.created",
            "updated_at": soon.format("40 days"),
        },
        f"""WITH c AS ({ctx.customers_sql()}),
            x AS (
                SELECT n, 1 + n %% cardinality(%(a_id)s::bigint[]) AS a, c.id AS customer_id, c.tenant_id,
                       c.name AS customer_name, c.domain, c.location_id,
                       coalesce(array_position(%(tiers)s::text[], mt.market_tier::text), 1) AS tier,
                       cr.created,
                       CASE WHEN cr.created > now() - %(live_days)s * interval '1 day'
                            THEN (%(live)s::text[])[1 + (n * 31) %% cardinality(%(live)s::text[])]
                            ELSE (%(settled)s::text[])[1 + (n * 31) %% cardinality(%(settled)s::text[])] END
                            AS status
                  FROM generate_series(0, %(count)s - 1) AS n
                  JOIN c ON c.idx = ((n / cardinality(%(a_id)s::bigint[])) * %(mult)s) %% %(customers)s
                  LEFT JOIN incentives_countrymarkettier mt ON mt.country = c.country
                  CROSS JOIN LATERAL (SELECT now() - (%(span_days)s * (1 - n::float / %(count)s) + 1)
                                              * interval '1 day' AS created) cr)
            FROM x
            LEFT JOIN LATERAL (
                SELECT id, estimated_value_usd FROM incentives_opportunity o
                 WHERE o.customer_id = x.customer_id AND o.solution_area = (%(a_area)s::text[])[x.a]
                   AND (%(fee)s::numeric[])[3 * (x.a - 1) + x.tier] IS NULL
                 ORDER BY o.id LIMIT 1) o ON true
            CROSS JOIN LATERAL (SELECT coalesce(
                (%(fee)s::numeric[])[3 * (x.a - 1) + x.tier],
                least(coalesce(o.estimated_value_usd, 25000) * (%(rate)s::numeric[])[3 * (x.a - 1) + x.tier],
                      (%(cap)s::numeric[])[3 * (x.a - 1) + x.tier])) AS payout) pay""",
        {**params, "people": [row[0] for row in fetch(people)]},
    )


def _follow_up(ctx: Context) -> int:
    """Reviews of decided claims, proof of claims past consent, history, Action Center items."""
    analyze(Claim)
    params = {"org": ctx.org, "reviewer": ctx.staff.pk if ctx.staff else None}
    for status, (decision, reason, comment) in REVIEWS.items():
        insert_select(
            ClaimReview,
            {
                "organization": "%(org)s",
                "claim": "id",
                "reviewer": "%(reviewer)s::bigint",
                "decision": "%(decision)s",
                "reason_code": "%(reason)s",
                "comment": "%(comment)s",
                "decided_at": "decided_at",
                "partner_response": "CASE WHEN resubmit_count > 0 THEN 'Updated findings attached.' ELSE '' "
                "END",
                "responded_at": "CASE WHEN resubmit_count > 0 THEN decided_at + interval '3 days' END",
            },
            "FROM incentives_claim WHERE organization_id = %(org)s AND status = %(status)s",
            {**params, "status": status, "decision": decision, "reason": reason, "comment": comment},
        )
    if not default_storage.exists(PROOF_FILE):
        default_storage.save(PROOF_FILE, ContentFile(PDF))
    for first in (True, False):
        insert_select(
            ProofDocument,
            {
                "organization": "%(org)s",
                "claim": "c.id",
                "kind": "a.required_proof[1]" if first else "a.required_proof[cardinality(a.required_proof)]",
                "file": "%(file)s",
                "original_name": "lower(a.required_proof[1]) || '.pdf'"
                if first
                else "lower(a.required_proof[cardinality(a.required_proof)]) || '.pdf'",
                "content_type": "'application/pdf'",
                "size": "%(size)s",
                "sha256": "%(sha)s",
                "uploaded_by": "c.created_by_id",
                "uploaded_at": "c.created_at + interval '21 days'",
            },
            """FROM incentives_claim c JOIN incentives_activitytype a ON a.id = c.activity_type_id
               WHERE c.organization_id = %(org)s AND c.status = ANY(%(statuses)s)
                 AND cardinality(a.required_proof) > 0"""
            + ("" if first else " AND c.status <> 'Pending POE' AND cardinality(a.required_proof) > 1"),
            {
                **params,
                "file": PROOF_FILE,
                "size": len(PDF),
                "sha": hashlib.sha256(PDF).hexdigest(),
                "statuses": sorted(str(s) for s in HAS_PROOF),
            },
        )
    came_from = list(CAME_FROM.items())
    history_append(
        Claim,
        """SELECT organization_id, id, created_at, created_by_id, '', 'Draft', 'Claim created.'
             FROM incentives_claim WHERE organization_id = %(org)s
           UNION ALL
           SELECT c.organization_id, c.id,
                  coalesce(c.decided_at, c.submitted_at, c.consent_at, c.created_at + interval '30 days'),
                  CASE WHEN c.status = ANY(%(decided)s) THEN %(reviewer)s::bigint ELSE c.created_by_id END,
                  f.came_from, c.status, ''
             FROM incentives_claim c
             JOIN unnest(%(statuses)s::text[], %(from)s::text[]) AS f(status, came_from) ON f.status =
                 c.status
            WHERE c.organization_id = %(org)s AND c.status <> 'Draft'""",
        {
            **params,
            "decided": sorted(str(s) for s in DECIDED),
            "statuses": [str(status) for status, _ in came_from],
            "from": [str(previous) for _, previous in came_from],
        },
    )
    insert_select(
        ActionItem,
        {
            "organization": "%(org)s",
            "location": "c.location_id",
            "code": f"""CASE WHEN c.status = 'Partner action required' THEN
                '{ActionItemCode.CLAIM_INFO_REQUESTED}'
                            ELSE '{ActionItemCode.CLAIM_PROOF_MISSING}' END""",
            "severity": f"""CASE WHEN c.status = 'Partner action required' THEN '{Severity.HIGH}'
                                ELSE '{Severity.MEDIUM}' END""",
            "title": """CASE WHEN c.status = 'Partner action required'
                             THEN 'Claim ' || c.claim_id || ': the reviewer asked for more information'
                             ELSE 'Claim ' || c.claim_id || ': proof of execution missing' END""",
            "body": """CASE WHEN c.status = 'Partner action required'
                            THEN 'The findings read like a template; add the customer''s own results.'
                            ELSE 'Attach the proof of execution and submit the claim.' END""",
            "due_at": "CASE WHEN c.status = 'Partner action required' THEN c.action_due_at ELSE "
            "c.expires_at END",
            "target_url": "'/incentives/claims/' || c.id || '/'",
            "audience_roles": f"ARRAY['{Role.INCENTIVES_ADMIN}', '{Role.INCENTIVES_USER}']::varchar[]",
            "status": "'open'",
            "dedupe_key": """'incentives-claim-' || c.id || CASE WHEN c.status = 'Partner action required'
                                                                   THEN '-info' ELSE '-proof' END""",
            "created_at": "coalesce(c.decided_at, c.consent_at, c.created_at)",
        },
        """FROM incentives_claim c
           WHERE c.organization_id = %(org)s
             AND c.status IN ('Partner action required', 'In progress', 'Pending POE')""",
        params,
        conflict="ON CONFLICT DO NOTHING",
    )
    return 1
