"""Money is Decimal with an ISO 4217 currency code; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.db import models

AMOUNT_MAX_DIGITS = 18
AMOUNT_DECIMAL_PLACES = 6
_CENT = Decimal("0.01")


def AmountField(**kwargs) -> models.DecimalField:  # noqa: N802 - reads like a field class
    kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
    kwargs.setdefault("decimal_places", AMOUNT_DECIMAL_PLACES)
    return models.DecimalField(**kwargs)


def CurrencyField(**kwargs) -> models.CharField:  # noqa: N802 - reads like a field class
    kwargs.setdefault("max_length", 3)
    return models.CharField(**kwargs)


def to_decimal(value: object) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money never comes from float; pass str or Decimal")
    return Decimal(str(value))


def round_money(amount: Decimal, places: Decimal = _CENT) -> Decimal:
    """Banker's rounding to cents, the convention of payment statements."""
    return amount.quantize(places, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount):,.2f} {currency}"
