"""Customers: one at a time (the customer import job is accounts.services.customer_import)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Customer, Organization
from accounts.signals import customers_created
from portal.audit import audit_record


@transaction.atomic
def customer_create(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    domain: str,
    country: str,
    segment: str,
    employee_count: int | None = None,
) -> Customer:
    domain = domain.strip().lower()
    if Customer.objects.filter(organization=organization, domain=domain).exists():
        raise ValidationError({"domain": f"A customer with domain {domain} already exists."})
    customer = Customer(
        organization=organization,
        name=name.strip(),
        domain=domain,
        country=country.strip().upper(),
        segment=segment,
        employee_count=employee_count,
    )
    customer.full_clean()
    customer.save()
    audit_record(actor=actor, action="customer.created", organization_id=organization.pk, target=customer)
    customers_created.send(
        sender=Customer, organization_id=organization.pk, customer_ids=[customer.pk], actor=actor
    )
    return customer
