"""What the portal tells people about: one `Category` per kind of event, registered by the app that
raises it, with who cannot silence it and how it reaches people unless they choose otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Channel(models.TextChoices):
    """How a category reaches a person."""

    EMAIL = "email", "In the portal and by e-mail at once"
    DIGEST = "digest", "In the portal and in the daily digest"
    IN_APP = "in_app", "In the portal only"
    OFF = "off", "Off"


@dataclass(frozen=True)
class Category:
    code: str  # "cosell.referral_received"
    label: str  # "Inbound referral received"
    description: str = ""
    #: Security-critical: always e-mailed at once, whatever the preferences (they cannot be off).
    critical: bool = False
    default: str = Channel.EMAIL

    @property
    def workspace(self) -> str:
        return self.code.split(".", 1)[0]


_CATEGORIES: dict[str, Category] = {}


def register_category(category: Category) -> Category:
    """Make a category known (apps register theirs in their `notifications` module)."""
    if category.critical and category.default != Channel.EMAIL:
        raise ValueError(f"{category.code}: a critical category is e-mailed at once")
    _CATEGORIES[category.code] = category
    return category


def category(code: str) -> Category:
    try:
        return _CATEGORIES[code]
    except KeyError:
        raise LookupError(f"{code!r} is not a notification category") from None


def categories() -> list[Category]:
    return sorted(_CATEGORIES.values(), key=lambda c: (c.workspace, c.label))


def effective_channel(found: Category, chosen: str | None) -> str:
    """The channel a person gets: their choice (or the organization's default, or the category's),
    except that a critical category is always e-mailed at once."""
    if found.critical:
        return Channel.EMAIL
    return chosen or found.default
