"""Partner–customer matching (spec §7): a transparent, additive 0–100 score, factor by factor.

`match_partners(need=...)` loads every candidate's facts set-based — the capability profiles in one
query, the matching public case studies counted per organization in one, and the win history and
median time to accept of the last 12 months in one — then scores each partner with `partner_score`,
a pure function. The offline evaluation (cosell.labelled_deals) ranks synthetic partners with the
same `rank_partners`, so what it measures is exactly what sellers see.

| Signal               | Max | Rule                                                                        |
|----------------------|-----|-----------------------------------------------------------------------------|
| Solution/product fit | 30  | 30 × (requested ∩ profile products) / requested products                    |
| Country coverage     | 20  | 20 if the country is served, 10 if a served country is in the same region   |
| Industry fit         | 15  | 15 if the customer's industry is one of the profile's                       |
| Relevant designation | 15  | 15 with the solution area's designation, 8 with only a specialization in it |
| Proven delivery      | 10  | 2 per public case study in the same industry or with a requested product    |
| Win history          | 10  | 10 × Won / (Won + Lost) of co-sell deals closed in the last 12 months, with |
|                      |     | at least 5 closed; 5 (neutral) with fewer                                   |

Customer size is part of the need (sellers state it) but the spec's score has no size signal,
so it does not move the score. Ties break on the shorter median time to accept an inbound
referral (partners without one last), then on the organization id, so the order is total.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from cosell.choices import ReferralStatus, ReferralSubstatus, ReferralType
from cosell.models import VENDOR_ID, CapabilityProfile, CaseStudy, Referral
from earnings.choices import SolutionArea
from membership.choices import EnrollmentStatus
from membership.models import DesignationEnrollment

__all__ = (
    "COUNTRY_REGION",
    "REGIONS",
    "SPECIALIZATION_AREAS",
    "Component",
    "CustomerNeed",
    "Match",
    "OwnMatch",
    "PartnerFacts",
    "match_own",
    "match_partners",
    "partner_score",
    "rank_partners",
    "region_of",
)

#: The regions "same region" means for country coverage: the vendor's sales regions, kept small.
#: A country not listed here has no region, so only serving it exactly counts.
REGIONS: dict[str, tuple[str, ...]] = {
    "DACH": ("DE", "AT", "CH", "LI"),
    "UK & Ireland": ("GB", "IE"),
    "France": ("FR", "MC", "LU", "BE"),
    "Benelux": ("NL",),
    "Nordics": ("SE", "NO", "DK", "FI", "IS"),
    "Southern Europe": ("ES", "PT", "IT", "GR", "MT", "CY"),
    "Central & Eastern Europe": ("PL", "CZ", "SK", "HU", "RO", "BG", "HR", "SI", "EE", "LV", "LT"),
    "North America": ("US", "CA"),
    "Latin America": ("MX", "BR", "AR", "CL", "CO", "PE"),
    "Asia Pacific": ("AU", "NZ", "SG", "MY", "TH", "PH", "ID", "VN"),
    "Japan": ("JP",),
    "Greater China": ("CN", "HK", "TW"),
    "India": ("IN", "LK", "BD"),
    "Middle East & Africa": ("AE", "SA", "QA", "IL", "ZA", "EG", "NG", "KE", "MA"),
}
COUNTRY_REGION: dict[str, str] = {
    country: region for region, countries in REGIONS.items() for country in countries
}

#: Which solution area each specialization belongs to (the "8 if only a specialization" rule).
SPECIALIZATION_AREAS: dict[str, str] = {
    "Analytics on Microsoft Azure": SolutionArea.DATA_AI,
    "AI Platform on Microsoft Azure": SolutionArea.DATA_AI,
    "Data Warehouse Migration to Microsoft Azure": SolutionArea.DATA_AI,
    "Infra and Database Migration to Microsoft Azure": SolutionArea.AZURE_INFRA,
    "Azure Virtual Desktop": SolutionArea.AZURE_INFRA,
    "Azure VMware Solution": SolutionArea.AZURE_INFRA,
    "Kubernetes on Microsoft Azure": SolutionArea.DIGITAL_APPS,
    "Build and Modernize AI Apps with Microsoft Azure": SolutionArea.DIGITAL_APPS,
    "DevOps with GitHub on Microsoft Azure": SolutionArea.DIGITAL_APPS,
    "Low Code Application Development": SolutionArea.BUSINESS_APPS,
    "Intelligent Automation": SolutionArea.BUSINESS_APPS,
    "Small and Midsize Business Management": SolutionArea.BUSINESS_APPS,
    "Teams Meetings and Meeting Rooms": SolutionArea.MODERN_WORK,
    "Adoption and Change Management": SolutionArea.MODERN_WORK,
    "Identity and Access Management": SolutionArea.SECURITY,
    "Threat Protection": SolutionArea.SECURITY,
    "Cloud Security": SolutionArea.SECURITY,
}

PRODUCT_FIT, COUNTRY, INDUSTRY, DESIGNATION, DELIVERY, WIN_HISTORY = (
    "Solution/product fit",
    "Country coverage",
    "Industry fit",
    "Relevant designation",
    "Proven delivery",
    "Win history",
)
WIN_HISTORY_MONTHS = 12
WIN_HISTORY_MIN_CLOSED = 5
POINTS_PER_CASE_STUDY = 2
_PLACES = Decimal("0.01")


def region_of(country: str) -> str | None:
    return COUNTRY_REGION.get(country.upper())


@dataclass(frozen=True)
class CustomerNeed:
    """What the seller knows about the customer: ISO country, industry, requested products, area."""

    country: str
    industry: str = ""
    products: tuple[str, ...] = ()
    solution_area: str = ""
    size: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "country", self.country.upper())
        # Requested products are a set: a repeated product must not count twice.
        object.__setattr__(self, "products", tuple(dict.fromkeys(p for p in self.products if p)))


@dataclass(frozen=True)
class Component:
    name: str
    points: Decimal
    max: int
    reason: str


@dataclass(frozen=True)
class PartnerFacts:
    """Everything the score reads about one partner for one need."""

    organization_id: int
    organization_name: str
    countries_served: Sequence[str] = ()
    industries: Sequence[str] = ()
    products: Sequence[str] = ()
    designations: Sequence[str] = ()
    specializations: Sequence[str] = ()
    #: Public case studies in the customer's industry or with one of the requested products.
    matching_case_studies: int = 0
    won: int = 0
    lost: int = 0
    median_days_to_accept: float | None = None


@dataclass(frozen=True)
class Match:
    organization_id: int
    organization_name: str
    score: Decimal
    components: tuple[Component, ...] = field(default_factory=tuple)
    median_days_to_accept: float | None = None

    @property
    def sort_key(self) -> tuple:
        accept = self.median_days_to_accept
        return (-self.score, accept is None, accept if accept is not None else 0.0, self.organization_id)


def _points(value: Decimal) -> Decimal:
    return value.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def partner_score(need: CustomerNeed, facts: PartnerFacts) -> Match:
    """The spec §7 score of one partner for one need, with a reason per component."""
    components: list[Component] = []

    requested = need.products
    have = [product for product in requested if product in set(facts.products)]
    if requested:
        fit = _points(Decimal(30) * len(have) / len(requested))
        reason = f"{len(have)} of {len(requested)} requested products" + (
            f" ({', '.join(have)})" if have else ""
        )
    else:
        fit, reason = Decimal(0), "No products requested"
    components.append(Component(PRODUCT_FIT, fit, 30, reason))

    served = {country.upper() for country in facts.countries_served}
    region = region_of(need.country)
    if need.country in served:
        components.append(Component(COUNTRY, Decimal(20), 20, f"Serves {need.country}"))
    elif region is not None and any(region_of(country) == region for country in served):
        neighbours = sorted(country for country in served if region_of(country) == region)
        components.append(
            Component(
                COUNTRY, Decimal(10), 20, f"Serves {', '.join(neighbours)} in the same region ({region})"
            )
        )
    else:
        components.append(Component(COUNTRY, Decimal(0), 20, f"Does not serve {need.country} or its region"))

    if need.industry and need.industry in set(facts.industries):
        components.append(Component(INDUSTRY, Decimal(15), 15, f"Works in {need.industry}"))
    else:
        components.append(
            Component(INDUSTRY, Decimal(0), 15, f"No {need.industry or 'stated'} industry in the profile")
        )

    area = need.solution_area
    specializations = sorted(s for s in facts.specializations if area and SPECIALIZATION_AREAS.get(s) == area)
    if area and area in set(facts.designations):
        components.append(Component(DESIGNATION, Decimal(15), 15, f"Holds the {area} designation"))
    elif specializations:
        components.append(
            Component(DESIGNATION, Decimal(8), 15, f"Specialization only: {', '.join(specializations)}")
        )
    else:
        components.append(
            Component(
                DESIGNATION, Decimal(0), 15, f"No designation or specialization in {area or 'the area'}"
            )
        )

    cases = facts.matching_case_studies
    components.append(
        Component(
            DELIVERY,
            Decimal(min(10, POINTS_PER_CASE_STUDY * cases)),
            10,
            f"{cases} public case stud{'y' if cases == 1 else 'ies'} "
            "in the industry or with a requested product",
        )
    )

    closed = facts.won + facts.lost
    if closed >= WIN_HISTORY_MIN_CLOSED:
        components.append(
            Component(
                WIN_HISTORY,
                _points(Decimal(10) * facts.won / closed),
                10,
                f"Won {facts.won} of {closed} co-sell deals closed in the last {WIN_HISTORY_MONTHS} months",
            )
        )
    else:
        components.append(
            Component(
                WIN_HISTORY,
                Decimal(5),
                10,
                f"Only {closed} co-sell deals closed in the last {WIN_HISTORY_MONTHS} months "
                f"(fewer than {WIN_HISTORY_MIN_CLOSED}): neutral 5",
            )
        )

    return Match(
        organization_id=facts.organization_id,
        organization_name=facts.organization_name,
        score=sum((component.points for component in components), Decimal(0)),
        components=tuple(components),
        median_days_to_accept=facts.median_days_to_accept,
    )


def rank_partners(
    need: CustomerNeed, candidates: Iterable[PartnerFacts], *, limit: int | None = 10
) -> list[Match]:
    """Score every candidate and order them: score, then faster acceptance, then organization id."""
    ranked = sorted((partner_score(need, facts) for facts in candidates), key=lambda match: match.sort_key)
    return ranked if limit is None else ranked[:limit]


# --- Loading the facts (set-based: three queries whatever the number of partners) -----------------


def _designations_held(organization_ids) -> dict[int, set[str]]:
    """Designations each partner is enrolled in (Membership), beside those its profile lists."""
    held: dict[int, set[str]] = {}
    enrolled = DesignationEnrollment.objects.filter(
        organization_id__in=organization_ids, status=EnrollmentStatus.ENROLLED
    ).values_list("organization_id", "designation")
    for organization_id, designation in enrolled:
        held.setdefault(organization_id, set()).add(designation)
    return held


def _referral_stats(organization_ids: list[int], since) -> dict[int, tuple[int, int, float | None]]:
    """(won, lost, median days to accept) per organization, in one aggregate query.

    Co-sell deals are Shared referrals; the connected vendor-side referral of a partner's co-sell
    deal (target `msft`) is the vendor's record of the same deal, so it is not counted again.
    A closed referral takes no further edits, so its `updated_at` is when it closed.
    """
    if not organization_ids:
        return {}
    won, lost = ReferralSubstatus.WON.value, ReferralSubstatus.LOST.value
    sql = f"""
        SELECT organization_id,
               count(*) FILTER (WHERE status = %s AND substatus = %s AND updated_at >= %s
                                AND type = %s AND NOT target @> %s::jsonb),
               count(*) FILTER (WHERE status = %s AND substatus = %s AND updated_at >= %s
                                AND type = %s AND NOT target @> %s::jsonb),
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM accepted_at - created_at) / 86400.0
               ) FILTER (WHERE is_inbound AND accepted_at IS NOT NULL AND accepted_at >= %s)
          FROM {Referral._meta.db_table}
         WHERE organization_id = ANY(%s)
         GROUP BY organization_id
    """
    closed, shared = ReferralStatus.CLOSED.value, ReferralType.SHARED.value
    vendor_side = json.dumps([{"id": VENDOR_ID}])
    params = [
        closed,
        won,
        since,
        shared,
        vendor_side,
        closed,
        lost,
        since,
        shared,
        vendor_side,
        since,
        organization_ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            org_id: (n_won, n_lost, float(median) if median is not None else None)
            for org_id, n_won, n_lost, median in cursor.fetchall()
        }


def match_partners(
    *, need: CustomerNeed, limit: int | None = 10, organizations: Iterable | None = None
) -> list[Match]:
    """The best `limit` partners for the need (None: all), each with its score explained (spec §7).

    Candidates are the organizations with a capability profile (or only those of `organizations`,
    given as Organization rows or ids). Four queries whatever the number of partners.
    """
    profiles = CapabilityProfile.objects.select_related("organization").order_by("organization_id")
    if organizations is not None:
        ids = [getattr(organization, "pk", organization) for organization in organizations]
        profiles = profiles.filter(organization_id__in=ids)
    profiles = list(profiles)
    organization_ids = [profile.organization_id for profile in profiles]
    if not organization_ids:
        return []

    # A case study counts when it is public and in the customer's industry or has a requested product.
    relevant = Q(pk__in=[])
    if need.industry:
        relevant |= Q(industry=need.industry)
    if need.products:
        relevant |= Q(products__overlap=list(need.products))
    case_studies = dict(
        CaseStudy.objects.filter(relevant, is_public=True, organization_id__in=organization_ids)
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "n")
        .order_by()
    )
    since = timezone.now() - timedelta(days=365 * WIN_HISTORY_MONTHS // 12)
    stats = _referral_stats(organization_ids, since)
    held = _designations_held(organization_ids)

    candidates = []
    for profile in profiles:
        won, lost, median = stats.get(profile.organization_id, (0, 0, None))
        candidates.append(
            PartnerFacts(
                organization_id=profile.organization_id,
                organization_name=profile.organization.legal_name,
                countries_served=profile.countries_served,
                industries=profile.industries,
                products=profile.products,
                designations=sorted(set(profile.designations) | held.get(profile.organization_id, set())),
                specializations=profile.specializations,
                matching_case_studies=case_studies.get(profile.organization_id, 0),
                won=won,
                lost=lost,
                median_days_to_accept=median,
            )
        )
    return rank_partners(need, candidates, limit=limit)


@dataclass(frozen=True)
class OwnMatch:
    """How a seller's matching would rank one organization: its score and place among them all."""

    match: Match | None
    position: int | None
    ranked: int

    @property
    def has_profile(self) -> bool:
        # Every organization with a capability profile is ranked.
        return self.match is not None


def match_own(*, need: CustomerNeed, organization_id: int) -> OwnMatch:
    """The organization's own score for the need and its position among every ranked partner
    (the partners' names and scores stay with the vendor)."""
    ranked = match_partners(need=need, limit=None)
    position = next((n for n, m in enumerate(ranked, start=1) if m.organization_id == organization_id), None)
    return OwnMatch(match=ranked[position - 1] if position else None, position=position, ranked=len(ranked))
