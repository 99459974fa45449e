"""The demo organizations the co-sell demo seeds (accounts.demo's), by Partner global ID, and
their e-mail domains."""

from __future__ import annotations

from accounts.demo import ORGANIZATIONS
from accounts.models import Organization

FABRIKAM, CONTOSO, NORTHWIND, TAILWIND = "4812345", "5230001", "7310001", "8420001"

#: The demo organizations' e-mail domains (their users' and case study links').
DOMAINS = {demo.partner_global_id: demo.domain for demo in ORGANIZATIONS}


def demo_organizations() -> list[Organization]:
    """The demo organizations that exist (accounts seeds them), by Partner global ID."""
    ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    return list(Organization.objects.filter(partner_global_id__in=ids).order_by("partner_global_id"))
