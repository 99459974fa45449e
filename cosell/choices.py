"""Partner Center's Referrals API values (spec/cosell.md §2) and our deal workflow's."""

from django.db import models


class ReferralStatus(models.TextChoices):
    NONE = "None", "None"
    NEW = "New", "New"
    ACTIVE = "Active", "Active"
    CLOSED = "Closed", "Closed"


class ReferralSubstatus(models.TextChoices):
    NONE = "None", "None"
    PENDING = "Pending", "Pending"
    RECEIVED = "Received", "Received"
    ACCEPTED = "Accepted", "Accepted"
    WON = "Won", "Won"
    LOST = "Lost", "Lost"
    DECLINED = "Declined", "Declined"
    EXPIRED = "Expired", "Expired"


#: spec §2.1: the status a referral may move to, and the substatus each status allows.
STATUS_MOVES: dict[str, frozenset[str]] = {
    ReferralStatus.NEW: frozenset({ReferralStatus.NEW, ReferralStatus.ACTIVE, ReferralStatus.CLOSED}),
    ReferralStatus.ACTIVE: frozenset({ReferralStatus.ACTIVE, ReferralStatus.CLOSED}),
    ReferralStatus.CLOSED: frozenset({ReferralStatus.CLOSED}),
}
#: A New referral in these substatuses still awaits an answer (accept or decline) before it expires.
AWAITING_ANSWER = (ReferralSubstatus.PENDING, ReferralSubstatus.RECEIVED)
SUBSTATUSES: dict[str, frozenset[str]] = {
    ReferralStatus.NEW: frozenset({ReferralSubstatus.PENDING, ReferralSubstatus.RECEIVED}),
    ReferralStatus.ACTIVE: frozenset({ReferralSubstatus.ACCEPTED}),
    ReferralStatus.CLOSED: frozenset(
        {ReferralSubstatus.WON, ReferralSubstatus.LOST, ReferralSubstatus.DECLINED, ReferralSubstatus.EXPIRED}
    ),
}


class ReferralType(models.TextChoices):
    INDEPENDENT = "Independent", "Independent"
    SHARED = "Shared", "Shared"


class ReferralQualification(models.TextChoices):
    NONE = "None", "None"
    DIRECT = "Direct", "Direct"
    MARKETING_QUALIFIED = "MarketingQualified", "Marketing qualified"
    SALES_QUALIFIED = "SalesQualified", "Sales qualified"


class DealKind(models.TextChoices):
    """spec §3: the three kinds of partner-created deal."""

    PRIVATE = "Private", "Private (not shared with the vendor)"
    PARTNER_LED = "PartnerLed", "Partner-led (shared, no help needed)"
    CO_SELL = "CoSell", "Co-sell (shared, help requested)"


class MicrosoftStatus(models.TextChoices):
    """spec §3: the vendor-side status of a shared deal, read-only for partners."""

    NONE = "", "—"
    PENDING = "Pending", "Pending"
    ACCEPTED = "Accepted", "Accepted"
    ENGAGED = "Engaged", "Engaged"
    DECLINED = "Declined", "Declined"
    WON = "Won", "Won"
    LOST = "Lost", "Lost"
    EXPIRED = "Expired", "Expired"
    ERROR = "Error", "Error"


class MarketplaceIntent(models.TextChoices):
    NONE = "", "—"
    YES = "Yes", "Yes"
    NO = "No", "No"
    UNDECIDED = "Have not decided", "Have not decided"


class CustomerSize(models.TextChoices):
    S_1_50 = "1to50employees", "1–50 employees"
    S_51_500 = "51to500employees", "51–500 employees"
    S_500_PLUS = "Morethan500employees", "More than 500 employees"
    S_1_9 = "1to9employees", "1–9 employees"
    S_10_50 = "10to50employees", "10–50 employees"
    S_51_250 = "51to250employees", "51–250 employees"
    S_251_1000 = "251to1000employees", "251–1,000 employees"
    S_1001_5000 = "1001to5000employees", "1,001–5,000 employees"
    S_5001_10000 = "5001to10000employees", "5,001–10,000 employees"
    S_10001_20000 = "10001to20000employees", "10,001–20,000 employees"
    S_20000_PLUS = "Morethan20000employees", "More than 20,000 employees"


class LeadTemperature(models.TextChoices):
    NONE = "", "—"
    COLD = "cold", "Cold"
    WARM = "warm", "Warm"
    HOT = "hot", "Hot"


class LossReason(models.TextChoices):
    """Numbered decline/lost reasons as the bulk CSV writes them (spec §3)."""

    BUDGET = "1", "Project budget insufficient"
    NO_DECISION = "2", "Customer made no decision"
    COMPETITOR = "3", "Customer chose a competitor"
    NOT_A_FIT = "4", "Not a fit for our solutions"
    NO_CAPACITY = "5", "No capacity to take it on"
    TIMING = "6", "Timing does not work"
    DUPLICATE = "7", "Duplicate of another deal"
    OTHER = "8", "Other"


class HistorySource(models.TextChoices):
    UI = "ui", "Page"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    CSV = "csv", "CSV import"
    ROUTING = "routing", "Routing"
    EXPIRY_JOB = "expiry_job", "Expiry job"
    SYSTEM = "system", "System"
