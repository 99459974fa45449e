"""Partner Center's real values (spec/commerce.md) where they exist."""

from django.db import models


class Segment(models.TextChoices):
    COMMERCIAL = "Commercial", "Commercial"
    EDUCATION = "Education", "Education"
    GOVERNMENT = "Government", "Government"
    CHARITY = "Charity", "Charity"


#: Segments migrated in the public-sector wave (Academic, GCC, NFP/Charity).
PUBLIC_SECTOR_SEGMENTS = frozenset({Segment.EDUCATION, Segment.GOVERNMENT, Segment.CHARITY})


class TermDuration(models.TextChoices):
    P1M = "P1M", "1 month"
    P1Y = "P1Y", "1 year"
    P3Y = "P3Y", "3 years"


class BillingCycle(models.TextChoices):
    MONTHLY = "Monthly", "Monthly"
    ANNUAL = "Annual", "Annual"
    TRIENNIAL = "Triennial", "Triennial"
    NONE = "None", "None (trial)"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"
    DELETED = "deleted", "Deleted"


class MigrationStatus(models.TextChoices):
    VALIDATING = "Validating", "Validating"
    REJECTED = "Rejected", "Rejected"
    PROCESSING = "Processing", "Processing"
    COMPLETED = "Completed", "Completed"
    FAILED = "Failed", "Failed"


NON_TERMINAL_MIGRATION_STATUSES = (MigrationStatus.VALIDATING, MigrationStatus.PROCESSING)


class MigrationInitiator(models.TextChoices):
    PARTNER = "PARTNER", "Partner"
    MICROSOFT = "MICROSOFT", "Vendor-led wave"
    SCHEDULE = "SCHEDULE", "Schedule"


class PriceListStatus(models.TextChoices):
    IMPORTING = "importing", "Importing"
    READY = "ready", "Ready"
    #: A corrected file for the same market, month and kind replaced it (`PriceList.replaced_by`).
    SUPERSEDED = "superseded", "Replaced by a corrected file"
    FAILED = "failed", "Failed"


class TradeStatus(models.TextChoices):
    """The vendor's trade-compliance standing of a subscription (Microsoft's `TradeStatusNotAllowed`)."""

    ALLOWED = "Allowed", "Allowed"
    NOT_ALLOWED = "NotAllowed", "Not allowed"


class ScheduleStatus(models.TextChoices):
    """A migration schedule's states (Partner Center's schedule resource; `Created` is documented)."""

    CREATED = "Created", "Created"
    PROCESSING = "Processing", "Processing"
    COMPLETED = "Completed", "Completed"
    FAILED = "Failed", "Failed"
    CANCELLED = "Cancelled", "Cancelled"


class SubscriptionChangeKind(models.TextChoices):
    SEATS_ADDED = "seats_added", "Seats added"
    SEATS_REDUCED = "seats_reduced", "Seats reduced"
    CANCELLED = "cancelled", "Cancelled"
    RENEWED = "renewed", "Renewed"
