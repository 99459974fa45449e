"""A deterministic labelled set of past co-sell deals, to evaluate matching offline (spec §7).

`labelled_deals(deals=N, partners=P, seed=S)` builds P synthetic partners (home country plus
neighbours, industries, products leaning to their solution areas, designations or only
specializations, public case studies, a co-sell track record, a time to accept) and N past deals,
each a customer need with the partner that won it.

How a winner is drawn, so the set reads like real co-sell wins rather than like our formula: each
partner has a hidden delivery quality (its win record is only a noisy sample of it) and each
partner–deal pair a random relationship term (Gumbel noise, as in a logit choice model). The
winner maximises a fit utility with weights different from the score's — products and country
matter most, a specialization counts almost like a designation, case studies saturate at five —
plus quality and noise. So a perfect score is impossible and the evaluation shows how far the
transparent score gets.

`evaluate(k=5)` is the hit rate at k: the share of deals whose winner is among the top k of
`rank_partners` (the ranking `match_partners` uses, without the database), beside the baseline a
seller would use without a score: **partners serving the customer's country, most case studies
first** (all their public case studies, whatever the industry; ties by organization id).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from cosell.selectors.matching import REGIONS, SPECIALIZATION_AREAS, CustomerNeed, PartnerFacts, rank_partners
from earnings.choices import SolutionArea

__all__ = (
    "Evaluation",
    "LabelledDeal",
    "LabelledSet",
    "SyntheticPartner",
    "baseline_rank",
    "evaluate",
    "facts_for",
    "labelled_deals",
)

COUNTRIES = (
    "DE",
    "AT",
    "CH",
    "GB",
    "IE",
    "FR",
    "BE",
    "NL",
    "SE",
    "DK",
    "ES",
    "IT",
    "PL",
    "US",
    "CA",
    "BR",
    "AU",
)
INDUSTRIES = (
    "Manufacturing",
    "Financial Services",
    "Healthcare",
    "Retail & Consumer Goods",
    "Education",
    "Government",
    "Energy",
    "Media & Communications",
)
AREA_PRODUCTS: dict[str, tuple[str, ...]] = {
    SolutionArea.DATA_AI: ("Azure", "PowerBI", "SQL", "AzureOpenAI"),
    SolutionArea.AZURE_INFRA: ("Azure", "SQL", "WindowsServer"),
    SolutionArea.DIGITAL_APPS: ("Azure", "GitHub", "AzureOpenAI"),
    SolutionArea.BUSINESS_APPS: ("Dynamics365Enterprise", "PowerApps", "PowerBI"),
    SolutionArea.MODERN_WORK: ("Microsoft365", "Teams", "Surface"),
    SolutionArea.SECURITY: ("Defender", "Sentinel", "Entra"),
}
AREAS = tuple(AREA_PRODUCTS)
SPECIALIZATIONS_BY_AREA: dict[str, tuple[str, ...]] = {
    area: tuple(name for name, of in SPECIALIZATION_AREAS.items() if of == area) for area in AREAS
}
_REGION = {country: region for region, countries in REGIONS.items() for country in countries}


@dataclass(frozen=True)
class SyntheticPartner:
    organization_id: int
    countries_served: tuple[str, ...]
    industries: tuple[str, ...]
    products: tuple[str, ...]
    designations: tuple[str, ...]
    specializations: tuple[str, ...]
    #: (industry, products) of each public case study.
    case_studies: tuple[tuple[str, tuple[str, ...]], ...]
    won: int
    lost: int
    median_days_to_accept: float
    #: Hidden: the chance this partner wins a deal it competes for; the win record samples it.
    quality: float


@dataclass(frozen=True)
class LabelledDeal:
    need: CustomerNeed
    winner_id: int


@dataclass(frozen=True)
class LabelledSet:
    partners: tuple[SyntheticPartner, ...]
    deals: tuple[LabelledDeal, ...]


@dataclass(frozen=True)
class Evaluation:
    k: int
    deals: int
    partners: int
    hit_rate: float
    baseline_hit_rate: float

    @property
    def ratio(self) -> float:
        return self.hit_rate / self.baseline_hit_rate if self.baseline_hit_rate else math.inf


def facts_for(need: CustomerNeed, partner: SyntheticPartner) -> PartnerFacts:
    """What `match_partners` would load for this partner and need."""
    requested = set(need.products)
    matching = sum(
        1
        for industry, products in partner.case_studies
        if industry == need.industry or requested & set(products)
    )
    return PartnerFacts(
        organization_id=partner.organization_id,
        organization_name=f"Partner {partner.organization_id}",
        countries_served=partner.countries_served,
        industries=partner.industries,
        products=partner.products,
        designations=partner.designations,
        specializations=partner.specializations,
        matching_case_studies=matching,
        won=partner.won,
        lost=partner.lost,
        median_days_to_accept=partner.median_days_to_accept,
    )


def _partner(organization_id: int, rng: random.Random) -> SyntheticPartner:
    home = rng.choice(COUNTRIES)
    neighbours = [c for c in COUNTRIES if c != home and _REGION.get(c) == _REGION.get(home)]
    others = [c for c in COUNTRIES if c != home and c not in neighbours]
    served = [home]
    served += rng.sample(neighbours, k=min(len(neighbours), rng.randint(0, 2)))
    if rng.random() < 0.3:
        served += rng.sample(others, k=rng.randint(1, 3))
    areas = rng.sample(AREAS, k=rng.choice((1, 1, 2, 2, 3)))
    products = sorted({product for area in areas for product in AREA_PRODUCTS[area] if rng.random() < 0.7})
    industries = tuple(sorted(rng.sample(INDUSTRIES, k=rng.randint(1, 3))))
    designations, specializations = [], []
    for area in areas:
        roll = rng.random()
        if roll < 0.35:
            designations.append(area)
        elif roll < 0.65 and SPECIALIZATIONS_BY_AREA[area]:
            specializations.append(rng.choice(SPECIALIZATIONS_BY_AREA[area]))
    case_studies = []
    for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 6, 9))):
        industry = rng.choice(industries) if rng.random() < 0.8 else rng.choice(INDUSTRIES)
        chosen = tuple(p for p in products if rng.random() < 0.5) or tuple(products[:1])
        case_studies.append((industry, chosen))
    quality = rng.betavariate(2, 3)
    closed = rng.choice((0, 2, 4, 6, 10, 15, 25))
    won = sum(1 for _ in range(closed) if rng.random() < quality)
    return SyntheticPartner(
        organization_id=organization_id,
        countries_served=tuple(sorted(set(served))),
        industries=industries,
        products=tuple(products),
        designations=tuple(sorted(designations)),
        specializations=tuple(sorted(specializations)),
        case_studies=tuple(case_studies),
        won=won,
        lost=closed - won,
        median_days_to_accept=round(rng.uniform(0.5, 10.0), 1),
        quality=quality,
    )


def _utility(need: CustomerNeed, partner: SyntheticPartner, rng: random.Random) -> float:
    """How well the partner really fits: the winner maximises this (weights unlike the score's)."""
    requested = set(need.products)
    product_fit = len(requested & set(partner.products)) / len(requested)
    if need.country in partner.countries_served:
        country = 1.0
    elif any(_REGION.get(c) == _REGION.get(need.country) for c in partner.countries_served):
        country = 0.35
    else:
        country = 0.0
    industry = 1.0 if need.industry in partner.industries else 0.0
    if need.solution_area in partner.designations:
        designation = 1.0
    elif any(SPECIALIZATION_AREAS.get(s) == need.solution_area for s in partner.specializations):
        designation = 0.8
    else:
        designation = 0.0
    cases = sum(
        1
        for industry_, products in partner.case_studies
        if industry_ == need.industry or requested & set(products)
    )
    gumbel = -math.log(-math.log(rng.random() or 1e-12))
    return (
        3.0 * product_fit
        + 3.0 * country
        + 1.2 * industry
        + 1.0 * designation
        + 0.8 * min(cases, 5) / 5
        + 2.0 * partner.quality
        + 0.8 * gumbel
    )


def labelled_deals(*, deals: int = 500, partners: int = 200, seed: int = 7) -> LabelledSet:
    """N past deals, each with its winner among P synthetic partners; the same seed, the same set."""
    rng = random.Random(seed)
    pool = tuple(_partner(organization_id, rng) for organization_id in range(1, partners + 1))
    rows = []
    for _ in range(deals):
        area = rng.choice(AREAS)
        need = CustomerNeed(
            country=rng.choice(COUNTRIES),
            industry=rng.choice(INDUSTRIES),
            products=tuple(rng.sample(AREA_PRODUCTS[area], k=rng.randint(1, 2))),
            solution_area=area,
            size=rng.choice(("51to250employees", "251to1000employees", "1001to5000employees")),
        )
        winner = max(pool, key=lambda partner: (_utility(need, partner, rng), -partner.organization_id))
        rows.append(LabelledDeal(need=need, winner_id=winner.organization_id))
    return LabelledSet(partners=pool, deals=tuple(rows))


def baseline_rank(need: CustomerNeed, partners: tuple[SyntheticPartner, ...]) -> list[SyntheticPartner]:
    """The seller's rule of thumb: partners serving the country, most public case studies first."""
    serving = [partner for partner in partners if need.country in partner.countries_served]
    return sorted(serving, key=lambda partner: (-len(partner.case_studies), partner.organization_id))


def evaluate(*, k: int = 5, deals: int = 500, partners: int = 200, seed: int = 7) -> Evaluation:
    """Hit rate at k of the matching score and of the baseline over the labelled set."""
    labelled = labelled_deals(deals=deals, partners=partners, seed=seed)
    hits = baseline_hits = 0
    for deal in labelled.deals:
        ranked = rank_partners(deal.need, (facts_for(deal.need, p) for p in labelled.partners), limit=k)
        hits += any(match.organization_id == deal.winner_id for match in ranked)
        baseline = baseline_rank(deal.need, labelled.partners)[:k]
        baseline_hits += any(partner.organization_id == deal.winner_id for partner in baseline)
    count = len(labelled.deals) or 1
    return Evaluation(
        k=k,
        deals=len(labelled.deals),
        partners=len(labelled.partners),
        hit_rate=hits / count,
        baseline_hit_rate=baseline_hits / count,
    )
