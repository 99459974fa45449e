"""What the Commerce workspace tells people about (portal.notifications): a migration batch that
finished (done, or failed), the vendor-led migration wave about to take legacy subscriptions, and a
new price list. Found by `autodiscover_modules` when the portal is ready, so the preferences page
lists them; raised by `commerce.services.notices`."""

from portal.notifications import Category, Channel, register_category

MIGRATION_BATCH_DONE = register_category(
    Category(
        "commerce.migration_batch_done",
        "Migration batch done",
        "A batch of legacy → new commerce migrations you started (or of your organization, if you place "
        "orders) finished: how many moved, and how many were refused as ineligible.",
        default=Channel.EMAIL,
    )
)
MIGRATION_BATCH_FAILED = register_category(
    Category(
        "commerce.migration_batch_failed",
        "Migration batch failed",
        "A batch of migrations finished with migrations that failed, or its job stopped with an error: "
        "the subscriptions that did not move stay active on the legacy platform.",
        default=Channel.EMAIL,
    )
)
WAVE_WARNING = register_category(
    Category(
        "commerce.wave_warning",
        "Vendor-led migration wave ahead",
        "The vendor will migrate some of your legacy subscriptions at renewal in its migration wave, "
        "with an annual term and the same billing plan and seats, unless you migrate them first.",
        default=Channel.EMAIL,
    )
)
PRICE_LIST_PUBLISHED = register_category(
    Category(
        "commerce.price_list_published",
        "New price list published",
        "The vendor published a new-commerce price list (current or preview) for a market.",
        default=Channel.EMAIL,
    )
)
