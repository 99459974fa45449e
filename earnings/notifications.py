"""What the Earnings workspace tells people about (portal.notifications): a payment sent, payments put
on hold (and why), and a background export that finished. Found by `autodiscover_modules` when the
portal is ready, so the preferences page lists them; raised by `earnings.services.notices`."""

from portal.notifications import Category, Channel, register_category

PAYMENT_SENT = register_category(
    Category(
        "earnings.payment_sent",
        "Payment sent",
        "A payment order reached Sent: the money is on its way to the enrollment's bank account.",
        default=Channel.EMAIL,
    )
)
PAYMENT_ON_HOLD = register_category(
    Category(
        "earnings.payment_on_hold",
        "Payments put on hold",
        "Payments to one of your enrollments were put on hold: no payment order is made for it until "
        "the hold is lifted. Told with the reason and what else blocks its payments.",
        default=Channel.EMAIL,
    )
)
EXPORT_READY = register_category(
    Category(
        "earnings.export_ready",
        "Earnings export finished",
        "A background export you asked for finished: its file is ready to download (or it failed, "
        "with the reason).",
        default=Channel.EMAIL,
    )
)
