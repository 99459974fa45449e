"""What the Membership workspace tells people about (portal.notifications): a Solutions Partner
designation gained (the capability score crossed the qualifying line) and a designation at risk
(held but no longer qualifying, due for renewal without qualifying, or lapsed). The nightly
recompute raises them (`membership.services.designations`)."""

from portal.notifications import Category, Channel, register_category

DESIGNATION_GAINED = register_category(
    Category(
        "membership.designation_gained",
        "Designation gained",
        "Your capability score qualifies for a Solutions Partner designation you do not hold: enroll to "
        "unlock its benefits.",
        default=Channel.EMAIL,
    )
)
DESIGNATION_AT_RISK = register_category(
    Category(
        "membership.designation_at_risk",
        "Designation at risk",
        "A designation you hold no longer qualifies, is due for renewal without qualifying, or lapsed.",
        default=Channel.EMAIL,
    )
)
