"""Vendor data every installation starts with (spec/membership.md): the scoring rules of FY26 and
FY27, the certification catalogue, the benefit packages and the Marketplace Rewards tiers.
Migration 0002 loads it; tests whose database flush empties the tables load it again.

Weights follow spec §2.2; thresholds are the spec's DESIGN placeholders (§2.4 worked example for
Business Applications SMB). Rows marked UNVERIFIED in the spec are data, corrected in the admin.
"""

from __future__ import annotations

from datetime import date

DAI, INFRA, APPS = "Data & AI", "Infra", "Digital & App Innovation"
BA, MW, SEC, TRAINING = "Business Applications", "Modern Work", "Security", "Training Services"

#: (designation, track, metric, weight, unit)
WEIGHTS = [
    *[
        (area, "all", metric, weight, unit)
        for area in (DAI, INFRA, APPS)
        for metric, weight, unit in (
            ("nca", 30, "customers"),
            ("int_cert", 25, "people"),
            ("adv_cert", 15, "people"),
            ("usage_growth", 15, "percent"),
            ("deployments", 15, "deployments"),
        )
    ],
    *[
        (area, track, metric, weight, unit)
        for area, weights in (
            (
                BA,
                (("nca", 15), ("int_cert", 20), ("adv_cert", 15), ("usage_growth", 30), ("deployments", 20)),
            ),
            (
                MW,
                (("nca", 20), ("int_cert", 10), ("adv_cert", 15), ("usage_growth", 30), ("deployments", 25)),
            ),
            (SEC, (("nca", 20), ("int_cert", 40), ("usage_growth", 20), ("deployments", 20))),
        )
        for track in ("enterprise", "smb")
        for metric, weight in weights
        for unit in [
            {"nca": "customers", "usage_growth": "percent", "deployments": "deployments"}.get(
                metric, "people"
            )
        ]
    ],
    (TRAINING, "all", "trainers", 40, "people"),
    (TRAINING, "all", "courses", 30, "courses"),
    (TRAINING, "all", "satisfaction", 30, "percent"),
]

#: Thresholds of FY27 by (designation, track): metric -> threshold.
FY27_THRESHOLDS = {
    (DAI, "all"): {"nca": 8, "int_cert": 10, "adv_cert": 4, "usage_growth": 20, "deployments": 10},
    (INFRA, "all"): {"nca": 10, "int_cert": 10, "adv_cert": 4, "usage_growth": 20, "deployments": 10},
    (APPS, "all"): {"nca": 6, "int_cert": 8, "adv_cert": 3, "usage_growth": 20, "deployments": 8},
    (BA, "enterprise"): {"nca": 5, "int_cert": 15, "adv_cert": 6, "usage_growth": 20, "deployments": 15},
    (BA, "smb"): {"nca": 10, "int_cert": 10, "adv_cert": 4, "usage_growth": 20, "deployments": 10},
    (MW, "enterprise"): {"nca": 5, "int_cert": 12, "adv_cert": 4, "usage_growth": 20, "deployments": 10},
    (MW, "smb"): {"nca": 10, "int_cert": 8, "adv_cert": 3, "usage_growth": 20, "deployments": 15},
    (SEC, "enterprise"): {"nca": 10, "int_cert": 6, "usage_growth": 20, "deployments": 10},
    (SEC, "smb"): {"nca": 10, "int_cert": 4, "usage_growth": 20, "deployments": 10},
    (TRAINING, "all"): {"trainers": 2, "courses": 12, "satisfaction": 80},
}

#: FY26 asked less skilling: its certification thresholds are two people lower.
FY26_THRESHOLDS = {
    key: {
        metric: max(1, value - 2) if metric in ("int_cert", "adv_cert") else value
        for metric, value in thresholds.items()
    }
    for key, thresholds in FY27_THRESHOLDS.items()
}

RULE_SETS = [("FY26", date(2025, 7, 1), FY26_THRESHOLDS), ("FY27", date(2026, 7, 1), FY27_THRESHOLDS)]

#: (code, name, designation, level)
CERTIFICATIONS = [
    ("DP-100", "Azure Data Scientist Associate", DAI, "intermediate"),
    ("DP-300", "Azure Database Administrator Associate", DAI, "intermediate"),
    ("AI-102", "Azure AI Engineer Associate", DAI, "intermediate"),
    ("DP-420", "Azure Cosmos DB Developer Specialty", DAI, "advanced"),
    ("AZ-104", "Azure Administrator Associate", INFRA, "intermediate"),
    ("AZ-700", "Azure Network Engineer Associate", INFRA, "intermediate"),
    ("AZ-305", "Azure Solutions Architect Expert", INFRA, "advanced"),
    ("AZ-204", "Azure Developer Associate", APPS, "intermediate"),
    ("AZ-400", "DevOps Engineer Expert", APPS, "advanced"),
    ("PL-200", "Power Platform Functional Consultant Associate", BA, "intermediate"),
    ("PL-400", "Power Platform Developer Associate", BA, "intermediate"),
    ("MB-210", "Dynamics 365 Sales Functional Consultant Associate", BA, "intermediate"),
    ("PL-600", "Power Platform Solution Architect Expert", BA, "advanced"),
    ("MB-700", "Dynamics 365 Finance and Operations Apps Solution Architect Expert", BA, "advanced"),
    ("MD-102", "Endpoint Administrator Associate", MW, "intermediate"),
    ("MS-700", "Teams Administrator Associate", MW, "intermediate"),
    ("MS-102", "Microsoft 365 Administrator Expert", MW, "advanced"),
    ("SC-200", "Security Operations Analyst Associate", SEC, "intermediate"),
    ("SC-300", "Identity and Access Administrator Associate", SEC, "intermediate"),
    ("AZ-500", "Azure Security Engineer Associate", SEC, "intermediate"),
    ("SC-100", "Cybersecurity Architect Expert", SEC, "advanced"),
    ("MCT", "Microsoft Certified Trainer", TRAINING, "trainer"),
    ("AZ-900", "Azure Fundamentals", INFRA, "fundamentals"),
]

#: package code -> (package name, [(kind, product, quantity, unit)])
_DESIGNATION_BENEFITS = [
    ("product_license", "Microsoft 365 E5 (internal use)", 25, "seats"),
    ("azure_credit", "Azure credits", 4000, "usd"),
    ("technical_consult", "Technical presales and deployment consultations", 25, "hours"),
    ("support_hours", "Advanced support incidents", 20, "incidents"),
]
PACKAGES = {
    **{
        f"solutions_partner_{slug}": (f"Solutions Partner for {name} benefits", _DESIGNATION_BENEFITS)
        for slug, name in (
            ("data_ai", "Data & AI (Azure)"),
            ("infrastructure", "Infrastructure (Azure)"),
            ("digital_app_innovation", "Digital & App Innovation (Azure)"),
            ("business_applications", "Business Applications"),
            ("modern_work", "Modern Work"),
            ("security", "Security"),
            ("training_services", "Training Services"),
        )
    },
    "isv_success": (
        "ISV Success benefits",
        [
            ("azure_credit", "Azure credits (first grant)", 5000, "usd"),
            ("product_license", "Visual Studio Enterprise subscriptions", 5, "seats"),
            ("product_license", "GitHub Enterprise", 10, "seats"),
            ("product_license", "Microsoft 365 and Dynamics 365 sandbox licences", 25, "seats"),
            ("technical_consult", "Technical consultations", 10, "hours"),
            ("marketing", "Go-to-market resources", 1, "items"),
        ],
    ),
    "partner_launch": (
        "Partner Launch Benefits",
        [
            ("product_license", "Microsoft 365 Business Premium", 1, "seats"),
            ("azure_credit", "Azure credits", 100, "usd"),
        ],
    ),
    "partner_success_core": (
        "Partner Success Core Benefits",
        [
            ("product_license", "Microsoft 365 E3", 5, "seats"),
            ("azure_credit", "Azure credits", 1000, "usd"),
            ("support_hours", "Product support incidents", 5, "incidents"),
        ],
    ),
    "partner_success_expanded": (
        "Partner Success Expanded Benefits",
        [
            ("product_license", "Microsoft 365 E5", 15, "seats"),
            ("azure_credit", "Azure credits", 3500, "usd"),
            ("support_hours", "Product support incidents", 20, "incidents"),
            ("technical_consult", "Technical consultations", 10, "hours"),
        ],
    ),
    "marketplace_rewards_tier_0": (
        "Marketplace Rewards Tier 0",
        [("marketing", "Listing optimisation", 1, "items"), ("marketing", "Marketing toolkit", 1, "items")],
    ),
    "marketplace_rewards_tier_1": (
        "Marketplace Rewards Tier 1",
        [
            ("marketing", "Customer case study", 1, "items"),
            ("azure_credit", "Azure Sponsorship", 5000, "usd"),
        ],
    ),
    "marketplace_rewards_tier_2": (
        "Marketplace Rewards Tier 2",
        [
            ("marketing", "Co-marketing campaign", 1, "items"),
            ("azure_credit", "Azure Sponsorship", 25000, "usd"),
        ],
    ),
    "marketplace_rewards_tier_3": (
        "Marketplace Rewards Tier 3",
        [
            ("marketing", "Sales enablement with field sellers", 1, "items"),
            ("azure_credit", "Azure Sponsorship", 50000, "usd"),
        ],
    ),
    "marketplace_rewards_tier_4": (
        "Marketplace Rewards Tier 4",
        [
            ("marketing", "Premium campaign", 1, "items"),
            ("technical_consult", "Dedicated advisor", 40, "hours"),
        ],
    ),
}

#: (tier, name, minimum MBS over twelve months in USD) — spec §4
REWARD_TIERS = [
    (0, "Tier 0", 0),
    (1, "Tier 1", 25_000),
    (2, "Tier 2", 100_000),
    (3, "Tier 3", 500_000),
    (4, "Tier 4", 4_000_000),
]


def seed_vendor_data(apps) -> None:
    """Load the rows above; rows already there are kept (idempotent)."""
    rule_set_model = apps.get_model("membership", "ScoreRuleSet")
    definition_model = apps.get_model("membership", "ScoreMetricDefinition")
    for fiscal_year, effective_from, thresholds in RULE_SETS:
        rule_set, _ = rule_set_model.objects.get_or_create(
            fiscal_year=fiscal_year, defaults={"effective_from": effective_from}
        )
        for designation, track, metric, weight, unit in WEIGHTS:
            definition_model.objects.get_or_create(
                rule_set=rule_set,
                designation=designation,
                track=track,
                metric=metric,
                defaults={
                    "weight": weight,
                    "unit": unit,
                    "threshold": thresholds[designation, track][metric],
                },
            )
    certification_model = apps.get_model("membership", "Certification")
    for code, name, designation, level in CERTIFICATIONS:
        certification_model.objects.get_or_create(
            code=code, defaults={"name": name, "designation": designation, "level": level}
        )
    template_model = apps.get_model("membership", "BenefitTemplate")
    for code, (package_name, benefits) in PACKAGES.items():
        if template_model.objects.filter(package_code=code).exists():
            continue
        template_model.objects.bulk_create(
            template_model(
                package_code=code,
                package_name=package_name,
                kind=kind,
                product=product,
                quantity=quantity,
                unit=unit,
            )
            for kind, product, quantity, unit in benefits
        )
    tier_model = apps.get_model("membership", "MarketplaceRewardTier")
    for tier, name, minimum in REWARD_TIERS:
        tier_model.objects.get_or_create(tier=tier, defaults={"name": name, "min_mbs_usd": minimum})
