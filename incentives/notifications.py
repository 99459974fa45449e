"""What the Incentives workspace tells people about (portal.notifications): a claim the reviewer
sent back for more information, approved, rejected, and paid. Registered when the app is ready
(`IncentivesConfig.ready`), so the preferences page lists them; raised by incentives.services."""

from portal.notifications import Category, Channel, register_category

CLAIM_INFO_REQUESTED = register_category(
    Category(
        "incentives.claim_info_requested",
        "Claim needs more information",
        "The vendor's reviewer asked for more information on a claim you own, submitted or manage; "
        "answer within 15 days or it is finally rejected.",
        default=Channel.EMAIL,
    )
)
CLAIM_APPROVED = register_category(
    Category(
        "incentives.claim_approved",
        "Claim approved",
        "A claim you own, submitted or manage was approved, with its approved payout.",
        default=Channel.EMAIL,
    )
)
CLAIM_REJECTED = register_category(
    Category(
        "incentives.claim_rejected",
        "Claim rejected",
        "A claim you own, submitted or manage was rejected (with the reason), or finally rejected.",
        default=Channel.EMAIL,
    )
)
CLAIM_PAID = register_category(
    Category(
        "incentives.claim_paid",
        "Claim paid",
        "The payment carrying a claim's earnings was sent: the claim is Completed.",
        default=Channel.EMAIL,
    )
)
