"""Why a legacy subscription cannot move to new commerce: Microsoft's eligibility codes.

The names are Microsoft's `NewCommerceEligibilityErrorCode` (the NCE Batch Migration tool's enum);
the numbers are what Partner Center's validate call carries in `errors[].code`. Reasons Microsoft
has no code for are the portal's own, named in the same style and numbered from 1001.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ("NO_EQUIVALENT_OFFER", "EligibilityCode", "EligibilityError")


class EligibilityCode(enum.StrEnum):
    """Why a migration is blocked: Microsoft's `NewCommerceEligibilityErrorCode` names where one
    exists (the Batch Migration tool's enum), the portal's own in the same style otherwise.

    `number` is what Partner Center's API carries in `errors[].code`; the portal's own reasons
    number from 1001, clear of Microsoft's range.
    """

    NOT_ACTIVE = "SubscriptionStatusNotActive"
    OPEN_MIGRATION = "SubscriptionBeingProcessingInOms"
    TOO_CLOSE_TO_TERM_END = "SubscriptionTooCloseToTermEnd"
    PROMOTIONS = "SubscriptionPromotionsPresent"
    ADDON = "SubscriptionAddOnsPresent"
    NO_EQUIVALENT = "NewCommerceProductUnavailable"
    TERM_BILLING = "TermDurationBillingCycleCombinationNotSupported"
    ACTIVE_LESS_THAN_A_MONTH = "SubscriptionActiveForLessThanOneMonth"
    TRADE_STATUS = "TradeStatusNotAllowed"
    LAST_DAY_FULL_TERM_ONLY = "MigrationsWithinLast24hOfTermOnlyAllowedForFullTerm"
    CUSTOM_TERM_END = "InvalidCustomTermEndDate"
    CUSTOM_TERM_END_ALIGNMENT = "CustomTermEndDateMustAlignWithExistingSubscriptionOrCalendarMonth"
    # The portal's own.
    TRIAL = "SubscriptionIsTrial"
    QUANTITY = "QuantityOutOfRange"
    SEAT_LIMIT = "SeatLimitExceeded"
    NO_PRICE = "PriceNotInPriceList"
    ADDON_BASE = "AddOnBaseNotMigrating"
    SCHEDULED = "MigrationAlreadyScheduled"
    TERM_END = "LegacyTermEndsAfterNewTerm"

    @property
    def number(self) -> int:
        return _CODE_NUMBERS[self]

    @property
    def is_microsoft(self) -> bool:
        return self.number < 1000


_CODE_NUMBERS = {
    EligibilityCode.NOT_ACTIVE: 0,
    EligibilityCode.OPEN_MIGRATION: 1,
    EligibilityCode.TOO_CLOSE_TO_TERM_END: 2,
    EligibilityCode.PROMOTIONS: 3,
    EligibilityCode.ADDON: 4,
    EligibilityCode.NO_EQUIVALENT: 5,
    EligibilityCode.TERM_BILLING: 6,
    EligibilityCode.ACTIVE_LESS_THAN_A_MONTH: 7,
    EligibilityCode.TRADE_STATUS: 8,
    # 9, InvalidPartnerIdOnRecord, has no counterpart: every subscription asked about is the
    # asking organization's own.
    EligibilityCode.LAST_DAY_FULL_TERM_ONLY: 10,
    EligibilityCode.CUSTOM_TERM_END: 11,
    EligibilityCode.CUSTOM_TERM_END_ALIGNMENT: 12,
    EligibilityCode.TRIAL: 1001,
    EligibilityCode.QUANTITY: 1002,
    EligibilityCode.SEAT_LIMIT: 1003,
    EligibilityCode.NO_PRICE: 1004,
    EligibilityCode.ADDON_BASE: 1005,
    EligibilityCode.SCHEDULED: 1006,
    EligibilityCode.TERM_END: 1007,
}

#: Partner Center's text for error code 5, verbatim.
NO_EQUIVALENT_OFFER = (
    "Subscription cannot be migrated to New Commerce because the equivalent offer is not yet "
    "available in New Commerce"
)


@dataclass(frozen=True)
class EligibilityError:
    code: EligibilityCode
    description: str

    @property
    def number(self) -> int:
        return self.code.number

    def __str__(self) -> str:
        """How files and row errors carry it: Microsoft's code beside the plain description."""
        return f"{self.code}: {self.description}"
