"""Fixtures shared by the Commerce tests: the demo catalog (spec/commerce.md §4.3, with a current
price list per market), a US commercial customer of organization A and legacy subscriptions on the
demo's legacy offers. A test module's own fixture of the same name takes precedence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from accounts.choices import CustomerSegment
from commerce.choices import BillingCycle, TermDuration
from commerce.demo import commerce_demo_catalog, offer_id_for
from commerce.models import LegacySubscription
from tests.factories import CustomerFactory


@pytest.fixture
def catalog(db):
    return commerce_demo_catalog()


@pytest.fixture
def us_customer(org_a):
    return CustomerFactory(organization=org_a, country="US", segment=CustomerSegment.COMMERCIAL)


@pytest.fixture
def customer(org_a, catalog):
    """A US commercial customer of organization A, with the catalog loaded."""
    return CustomerFactory(organization=org_a, country="US", segment=CustomerSegment.COMMERCIAL)


@pytest.fixture
def api(api_for, org_a):
    """Organization A's API client with the Commerce scopes."""
    return api_for(org_a, scopes=("commerce:read", "commerce:write"))


def legacy_subscription(customer, offer: str, **fields) -> LegacySubscription:
    """A legacy subscription of `customer` on one of the demo's legacy offers (`LEGACY_OFFERS` keys):
    10 seats, a one-year term billed monthly ending 14 September 2025 unless told otherwise."""
    defaults = {
        "quantity": 10,
        "term_duration": TermDuration.P1Y,
        "billing_cycle": BillingCycle.MONTHLY,
        "term_end": date(2025, 9, 14),
    }
    defaults.update(fields)
    defaults.setdefault("term_start", defaults["term_end"] - timedelta(days=364))
    return LegacySubscription.objects.create(
        organization_id=customer.organization_id,
        customer=customer,
        offer_id=offer_id_for(offer),
        **defaults,
    )


@pytest.fixture
def legacy() -> Callable[..., LegacySubscription]:
    """`legacy(customer, offer, **fields)`: see `legacy_subscription`."""
    return legacy_subscription
