"""Choices of the Membership workspace (spec/membership.md)."""

from __future__ import annotations

from django.db import models

from earnings.choices import SolutionArea

#: The fiscal year starts on 1 July (spec §2.5): FY27 runs 1 Jul 2026 – 30 Jun 2027.
FISCAL_YEAR_START_MONTH = 7
#: Months of the rolling qualification window before the current month (spec §2.1).
QUALIFICATION_WINDOW_MONTHS = 5
#: Days of notice in the Action Center before a designation lapses (spec §2.5).
LAPSE_GRACE_DAYS = 30
#: Points a designation needs (spec §2.1).
QUALIFYING_POINTS = 70
#: A customer counts for net customer adds with at least this monthly revenue (spec §2.3).
NCA_MIN_MONTHLY_USD = 1000
#: Customers with more employees than this belong to the Enterprise track (spec §2.3, PAU > 300).
ENTERPRISE_MIN_EMPLOYEES = 301


class Designation(models.TextChoices):
    """The six Solutions Partner areas plus the training services designation (spec §2.1, §2.6)."""

    DATA_AI = SolutionArea.DATA_AI.value, "Solutions Partner for Data & AI (Azure)"
    AZURE_INFRA = SolutionArea.AZURE_INFRA.value, "Solutions Partner for Infrastructure (Azure)"
    DIGITAL_APPS = SolutionArea.DIGITAL_APPS.value, "Solutions Partner for Digital & App Innovation (Azure)"
    BUSINESS_APPS = SolutionArea.BUSINESS_APPS.value, "Solutions Partner for Business Applications"
    MODERN_WORK = SolutionArea.MODERN_WORK.value, "Solutions Partner for Modern Work"
    SECURITY = SolutionArea.SECURITY.value, "Solutions Partner for Security"
    TRAINING_SERVICES = "Training Services", "Solutions Partner for Training Services"


SOLUTION_AREAS = [d for d in Designation if d != Designation.TRAINING_SERVICES]
#: URL and package-code slug of each designation.
DESIGNATION_SLUGS = {
    Designation.DATA_AI: "data-ai",
    Designation.AZURE_INFRA: "infrastructure",
    Designation.DIGITAL_APPS: "digital-app-innovation",
    Designation.BUSINESS_APPS: "business-applications",
    Designation.MODERN_WORK: "modern-work",
    Designation.SECURITY: "security",
    Designation.TRAINING_SERVICES: "training-services",
}
DESIGNATION_BY_SLUG = {slug: designation for designation, slug in DESIGNATION_SLUGS.items()}


def designation_package_code(designation: str) -> str:
    """The benefit package a designation grants, e.g. `solutions_partner_modern_work`."""
    return "solutions_partner_" + DESIGNATION_SLUGS[Designation(designation)].replace("-", "_")


#: Areas evaluated on two tracks, the higher total used (spec §2.1).
TRACKED_AREAS = {Designation.BUSINESS_APPS, Designation.MODERN_WORK, Designation.SECURITY}


class Track(models.TextChoices):
    ALL = "all", "All customers"
    ENTERPRISE = "enterprise", "Enterprise"
    SMB = "smb", "SMB"


class Metric(models.TextChoices):
    NCA = "nca", "Net customer adds"
    INT_CERT = "int_cert", "Intermediate certifications"
    ADV_CERT = "adv_cert", "Advanced certifications"
    USAGE_GROWTH = "usage_growth", "Usage growth"
    DEPLOYMENTS = "deployments", "Deployments"
    # Training services (spec §2.6, configurable criteria)
    TRAINERS = "trainers", "Microsoft Certified Trainers"
    COURSES = "courses", "Courses delivered (12 months)"
    SATISFACTION = "satisfaction", "Learner satisfaction"


class MetricCategory(models.TextChoices):
    PERFORMANCE = "performance", "Performance"
    SKILLING = "skilling", "Skilling"
    CUSTOMER_SUCCESS = "customer_success", "Customer success"


METRIC_CATEGORY = {
    Metric.NCA: MetricCategory.PERFORMANCE,
    Metric.INT_CERT: MetricCategory.SKILLING,
    Metric.ADV_CERT: MetricCategory.SKILLING,
    Metric.USAGE_GROWTH: MetricCategory.CUSTOMER_SUCCESS,
    Metric.DEPLOYMENTS: MetricCategory.CUSTOMER_SUCCESS,
    Metric.TRAINERS: MetricCategory.SKILLING,
    Metric.COURSES: MetricCategory.PERFORMANCE,
    Metric.SATISFACTION: MetricCategory.CUSTOMER_SUCCESS,
}


class MetricUnit(models.TextChoices):
    CUSTOMERS = "customers", "customers"
    PEOPLE = "people", "people"
    PERCENT = "percent", "%"
    DEPLOYMENTS = "deployments", "deployments"
    COURSES = "courses", "courses"


class CertificationLevel(models.TextChoices):
    FUNDAMENTALS = "fundamentals", "Fundamentals"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"
    TRAINER = "trainer", "Microsoft Certified Trainer"


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LAPSED = "lapsed", "Lapsed"
    PENDING = "pending", "Pending"


class EnrollmentStatus(models.TextChoices):
    """A designation's state for one partner (spec §7 `DesignationEnrollment`)."""

    ELIGIBLE = "eligible", "Eligible"
    ENROLLED = "enrolled", "Enrolled"
    LAPSED = "lapsed", "Lapsed"


class IsvStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


ISV_TRANSITIONS = {
    IsvStatus.DRAFT: {IsvStatus.SUBMITTED},
    IsvStatus.SUBMITTED: {IsvStatus.IN_REVIEW, IsvStatus.APPROVED, IsvStatus.REJECTED},
    IsvStatus.IN_REVIEW: {IsvStatus.APPROVED, IsvStatus.REJECTED},
    IsvStatus.APPROVED: set(),
    IsvStatus.REJECTED: {IsvStatus.DRAFT},
}


class PackageSource(models.TextChoices):
    DESIGNATION = "designation", "Solutions Partner designation"
    PURCHASE = "purchase", "Purchased package"
    ISV_SUCCESS = "isv_success", "ISV Success"
    REWARDS = "rewards", "Marketplace Rewards"


class BenefitKind(models.TextChoices):
    PRODUCT_LICENSE = "product_license", "Product license"
    AZURE_CREDIT = "azure_credit", "Azure credit"
    SUPPORT_HOURS = "support_hours", "Support hours"
    TECHNICAL_CONSULT = "technical_consult", "Technical consultation"
    MARKETING = "marketing", "Marketing"


class BenefitUnit(models.TextChoices):
    SEATS = "seats", "seats"
    USD = "usd", "USD"
    HOURS = "hours", "hours"
    INCIDENTS = "incidents", "incidents"
    ITEMS = "items", "items"


class ActivationStatus(models.TextChoices):
    NOT_ACTIVATED = "not_activated", "Not activated"
    ACTIVATED = "activated", "Activated"
    EXPIRED = "expired", "Expired"


class LicenseStatus(models.TextChoices):
    ACTIVE = "Active", "Active"
    SUSPENDED = "Suspended", "Suspended"
    CANCELLED = "Cancelled", "Cancelled"
    EXPIRED = "Expired", "Expired"


class OsType(models.TextChoices):
    LINUX = "Linux", "Linux"
    WINDOWS = "Windows", "Windows"


class AssessmentStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
