"""The co-sell catalogue of each demo organization (spec §6): its capability profile (solution
areas, industries, products and services from spec §2's legacy tag catalogues, countries served,
designations, certifications), customer references and published solutions (`SOL-…`, some
co-sell ready, some Azure IP co-sell eligible); `cosell_demo_catalogue` upserts them with the
routing rules."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Organization
from cosell.demo.organizations import CONTOSO, DOMAINS, FABRIKAM, NORTHWIND, TAILWIND
from cosell.demo.routing import DEMO_ACTOR, ROUTING_RULES, demo_rule_upsert
from cosell.models import CaseStudy, Solution
from cosell.services.profile import capability_profile_save, case_study_save, solution_save
from earnings.choices import SolutionArea

__all__ = ("CASE_STUDIES", "PROFILES", "SOLUTIONS", "cosell_demo_catalogue")


@dataclass(frozen=True)
class DemoProfile:
    solution_areas: tuple[str, ...]
    industries: tuple[str, ...]
    products: tuple[str, ...]
    services: tuple[str, ...]
    countries_served: tuple[str, ...]
    languages: tuple[str, ...]
    designations: tuple[str, ...]
    specializations: tuple[str, ...]
    certifications: dict[str, int]
    deal_size_band: str


PROFILES: dict[str, DemoProfile] = {
    FABRIKAM: DemoProfile(
        (SolutionArea.DATA_AI, SolutionArea.MODERN_WORK, SolutionArea.BUSINESS_APPS),
        ("Manufacturing", "Financial Services", "Retail & Consumer Goods"),
        ("Azure", "PowerBI", "SQL", "Microsoft365", "Teams", "Dynamics365Enterprise"),
        ("ConsultingAndProfessional", "DeploymentOrMigration", "Integration", "ManagedServices"),
        ("DE", "AT", "CH", "GB"),
        ("de", "en"),
        (SolutionArea.DATA_AI, SolutionArea.MODERN_WORK),
        ("Analytics on Microsoft Azure", "Data Warehouse Migration to Microsoft Azure"),
        {"DP-203": 6, "PL-300": 4, "MS-102": 3, "MB-240": 2},
        "50,000–250,000 USD",
    ),
    CONTOSO: DemoProfile(
        (SolutionArea.MODERN_WORK, SolutionArea.SECURITY),
        ("Education", "Healthcare", "Financial Services"),
        ("Microsoft365", "Teams", "Azure", "Surface"),
        ("LearningAndCertification", "Licensing", "ManagedServices", "DeploymentOrMigration"),
        ("GB", "IE"),
        ("en",),
        (SolutionArea.MODERN_WORK, SolutionArea.SECURITY),
        ("Teams Meetings and Meeting Rooms", "Identity and Access Management"),
        {"MS-102": 5, "SC-300": 3, "MS-700": 4},
        "10,000–100,000 USD",
    ),
    NORTHWIND: DemoProfile(
        (SolutionArea.DIGITAL_APPS, SolutionArea.DATA_AI),
        ("Retail & Consumer Goods", "Manufacturing"),
        ("Azure", "SQL", "PowerBI"),
        ("CustomSolution(ISV)", "IPServices(ISV)", "Integration"),
        ("US", "CA"),
        ("en", "fr"),
        (SolutionArea.DIGITAL_APPS,),
        ("Kubernetes on Microsoft Azure",),
        {"AZ-204": 7, "AZ-305": 2},
        "100,000–1,000,000 USD",
    ),
    TAILWIND: DemoProfile(
        (SolutionArea.AZURE_INFRA, SolutionArea.MODERN_WORK),
        ("Retail & Consumer Goods", "Education"),
        ("Azure", "Microsoft365", "Surface", "Teams"),
        ("Licensing", "Hardware", "ProjectServices"),
        ("US", "CA", "MX"),
        ("en", "es"),
        (SolutionArea.AZURE_INFRA,),
        ("Azure Virtual Desktop",),
        {"AZ-104": 5, "MS-900": 8},
        "5,000–50,000 USD",
    ),
}


@dataclass(frozen=True)
class DemoCaseStudy:
    partner_global_id: str
    title: str
    customer_name: str
    industry: str
    products: tuple[str, ...]
    outcome_text: str
    is_public: bool = True


CASE_STUDIES = [
    DemoCaseStudy(
        FABRIKAM,
        "Predictive maintenance for a machine builder",
        "Alpine Maschinenbau AG",
        "Manufacturing",
        ("Azure", "PowerBI"),
        "Unplanned downtime down 18 % within six months of moving sensor data to Azure.",
    ),
    DemoCaseStudy(
        FABRIKAM,
        "Data warehouse migration for a regional bank",
        "Woodgrove Bank Europe",
        "Financial Services",
        ("Azure", "SQL"),
        "An on-premises warehouse of 40 TB moved to Azure in twelve weeks; reports run four times faster.",
    ),
    DemoCaseStudy(
        FABRIKAM,
        "Store analytics for a fashion retailer",
        "VanArsdel Fashion GmbH",
        "Retail & Consumer Goods",
        ("PowerBI",),
        "Daily sell-through dashboards for 120 stores.",
        is_public=False,
    ),
    DemoCaseStudy(
        CONTOSO,
        "Hybrid classrooms for a university",
        "Lamna University",
        "Education",
        ("Teams", "Surface"),
        "Teams Rooms in 60 lecture halls; 9,000 students trained in the first term.",
    ),
    DemoCaseStudy(
        CONTOSO,
        "Zero-trust identity for a hospital group",
        "Humongous Health Trust",
        "Healthcare",
        ("Microsoft365",),
        "Phishing-resistant sign-in for 14,000 clinical staff.",
    ),
    DemoCaseStudy(
        NORTHWIND,
        "Inventory optimisation on Azure Kubernetes Service",
        "Wide World Importers",
        "Retail & Consumer Goods",
        ("Azure", "SQL"),
        "Stock-outs down 22 % across 300 stores.",
    ),
    DemoCaseStudy(
        TAILWIND,
        "Virtual desktops for a school district",
        "Tailspin School District",
        "Education",
        ("Azure", "Surface"),
        "4,000 Azure Virtual Desktop seats rolled out through 25 resellers.",
    ),
]


@dataclass(frozen=True)
class DemoSolution:
    partner_global_id: str
    solution_id: str
    name: str
    solution_area: str
    co_sell_ready: bool
    azure_ip_co_sell_eligible: bool


SOLUTIONS = [
    DemoSolution(FABRIKAM, "SOL-ABC-001", "Fabrikam Data Platform", SolutionArea.DATA_AI, True, True),
    DemoSolution(
        FABRIKAM, "SOL-ABC-002", "Copilot Adoption Accelerator", SolutionArea.MODERN_WORK, True, False
    ),
    DemoSolution(
        FABRIKAM, "SOL-ABC-003", "Field Service Quick Start", SolutionArea.BUSINESS_APPS, False, False
    ),
    DemoSolution(CONTOSO, "SOL-52300-CCS", "Contoso Secure Classroom", SolutionArea.MODERN_WORK, True, False),
    DemoSolution(CONTOSO, "SOL-52301-CCS", "Contoso Identity Guard", SolutionArea.SECURITY, False, False),
    DemoSolution(NORTHWIND, "SOL-73100-NWS", "Northwind Inventory AI", SolutionArea.DIGITAL_APPS, True, True),
    DemoSolution(
        TAILWIND, "SOL-84200-TWD", "Tailwind Desktop as a Service", SolutionArea.AZURE_INFRA, True, False
    ),
]


def cosell_demo_catalogue(organizations: list[Organization]) -> None:
    """Profiles, case studies, solutions and routing rules of the demo organizations, written by
    their services; idempotent (a row that already has the demo's values is not written again)."""
    by_id = {organization.partner_global_id: organization for organization in organizations}
    for partner_global_id, demo in PROFILES.items():
        organization = by_id.get(partner_global_id)
        if organization is None:
            continue
        capability_profile_save(
            organization=organization,
            actor=DEMO_ACTOR,
            values={
                "solution_areas": list(demo.solution_areas),
                "industries": list(demo.industries),
                "products": list(demo.products),
                "services": list(demo.services),
                "countries_served": list(demo.countries_served),
                "languages": list(demo.languages),
                "designations": list(demo.designations),
                "specializations": list(demo.specializations),
                "certifications": dict(demo.certifications),
                "deal_size_band": demo.deal_size_band,
            },
        )
    for study in CASE_STUDIES:
        organization = by_id.get(study.partner_global_id)
        if organization is None:
            continue
        slug = study.customer_name.lower().replace(" ", "-").replace("'", "")
        case_study_save(
            organization=organization,
            actor=DEMO_ACTOR,
            case_study=CaseStudy.objects.filter(organization=organization, title=study.title).first(),
            values={
                "title": study.title,
                "customer_name": study.customer_name,
                "industry": study.industry,
                "products": list(study.products),
                "outcome_text": study.outcome_text,
                "url": f"https://{DOMAINS[study.partner_global_id]}/customers/{slug}"
                if study.is_public
                else "",
                "is_public": study.is_public,
            },
        )
    for solution in SOLUTIONS:
        organization = by_id.get(solution.partner_global_id)
        if organization is None:
            continue
        solution_save(
            organization=organization,
            actor=DEMO_ACTOR,
            solution=Solution.objects.filter(
                organization=organization, solution_id=solution.solution_id
            ).first(),
            values={
                "solution_id": solution.solution_id,
                "name": solution.name,
                "solution_area": solution.solution_area,
                "co_sell_ready": solution.co_sell_ready,
                "azure_ip_co_sell_eligible": solution.azure_ip_co_sell_eligible,
            },
        )
    for rule in ROUTING_RULES:
        organization = by_id.get(rule.partner_global_id)
        if organization is None:
            continue
        demo_rule_upsert(organization, rule)
