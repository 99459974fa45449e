"""What the Co-sell workspace tells people about (portal.notifications): an inbound referral that
arrived, one assigned to someone, one about to expire and one that expired. Registered when the app
is ready (`CosellConfig.ready`), so the preferences page lists them; raised by cosell.services."""

from portal.notifications import Category, Channel, register_category

REFERRAL_RECEIVED = register_category(
    Category(
        "cosell.referral_received",
        "Inbound referral received",
        "A lead or co-sell invitation arrived for your organization and your routing rules send it to "
        "you (or you manage the organization's referrals).",
        default=Channel.EMAIL,
    )
)
REFERRAL_ASSIGNED = register_category(
    Category(
        "cosell.referral_assigned",
        "Inbound referral assigned to you",
        "An inbound referral was assigned to you, by a routing rule or by hand.",
        default=Channel.EMAIL,
    )
)
REFERRAL_EXPIRING = register_category(
    Category(
        "cosell.referral_expiring",
        "Referral about to expire",
        "An inbound referral you work (or, unassigned, that your organization must answer) expires in "
        "3 days or 1 day unless it is accepted or declined.",
        default=Channel.EMAIL,
    )
)
REFERRAL_EXPIRED = register_category(
    Category(
        "cosell.referral_expired",
        "Referral expired",
        "An inbound referral nobody accepted or declined in time closed as Expired.",
        default=Channel.EMAIL,
    )
)
