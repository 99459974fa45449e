"""Telling people (design §6): categories registered by the apps, one `notify` that fans an event
out to the people it concerns (in the bell, by e-mail at once or in the daily digest, as each
person chose), and e-mail through one outbox that never sends a message twice.

    from portal.notifications import Category, notify, register_category
"""

from portal.notifications.categories import Category, Channel, categories, category, register_category

__all__ = ("Category", "Channel", "categories", "category", "notify", "email_queue", "register_category")


def __getattr__(name: str):
    # The services read models: import them once Django's apps are ready, not when apps register
    # their categories at import time.
    if name == "notify":
        from portal.notifications.services import notify  # noqa: PLC0415

        return notify
    if name == "email_queue":
        from portal.notifications.email import email_queue  # noqa: PLC0415

        return email_queue
    raise AttributeError(name)
