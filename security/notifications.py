"""What the Security workspace tells people about (portal.notifications): GDAP relationships ending
soon or ended, the security score falling, a mandatory requirement failing, the review of a
verification document, and compliance training due. The services raise them
(`security.services.notices`)."""

from portal.notifications import Category, Channel, register_category

GDAP_EXPIRING = register_category(
    Category(
        "security.gdap_expiring",
        "GDAP relationship ending soon",
        "A GDAP relationship that does not auto-extend ends soon: told when the warning window opens "
        "(30 days by default), a week before and on the last day.",
        default=Channel.EMAIL,
    )
)
GDAP_ENDED = register_category(
    Category(
        "security.gdap_ended",
        "GDAP relationship ended",
        "A GDAP relationship expired or was terminated: access to the customer's tenant stopped.",
        default=Channel.EMAIL,
    )
)
SCORE_DROPPED = register_category(
    Category(
        "security.score_dropped",
        "Security score dropped",
        "The daily security score is lower than the day before.",
        default=Channel.EMAIL,
    )
)
REQUIREMENT_FAILED = register_category(
    Category(
        "security.requirement_failed",
        "Security requirement not met",
        "A mandatory security requirement stopped being met (it is needed to keep the CSP authorization).",
        default=Channel.EMAIL,
    )
)
VERIFICATION_RESULT = register_category(
    Category(
        "security.verification_result",
        "Verification document reviewed",
        "A verification document was accepted, rejected or needs another document.",
        default=Channel.EMAIL,
    )
)
TRAINING_DUE = register_category(
    Category(
        "security.training_due",
        "Compliance training due",
        "A compliance training assigned to you is due within 7 days or overdue.",
        default=Channel.EMAIL,
    )
)
