"""Customers: one at a time (the customer import job is accounts.services.customer_import)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Customer, Organization
from accounts.signals import customers_created
from portal.audit import audit_record
from portal.locks import lock


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
    tenant_id: uuid.UUID | None = None,
) -> Customer:
    """Add a customer; `tenant_id` is its directory tenant (a new one is generated when not given)."""
    customer = Customer(organization=organization, tenant_id=tenant_id or uuid.uuid4())
    _fill(customer, name=name, domain=domain, country=country, segment=segment, employee_count=employee_count)
    customer.save()
    audit_record(actor=actor, action="customer.created", organization_id=organization.pk, target=customer)
    customers_created.send(
        sender=Customer, organization_id=organization.pk, customer_ids=[customer.pk], actor=actor
    )
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: Any,
    customer: Customer,
    name: str,
    domain: str,
    country: str,
    segment: str,
    employee_count: int | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Customer:
    """Change a customer's details, its tenant ID included (what the portal holds for the customer
    follows it: rows refer to the customer, not to the ID)."""
    customer = lock(customer)
    before = {field: getattr(customer, field) for field in _FIELDS}
    if tenant_id:
        customer.tenant_id = tenant_id
    _fill(customer, name=name, domain=domain, country=country, segment=segment, employee_count=employee_count)
    customer.save()
    changes = {
        field: [str(before[field]), str(getattr(customer, field))]
        for field in _FIELDS
        if before[field] != getattr(customer, field)
    }
    if changes:
        audit_record(
            actor=actor,
            action="customer.updated",
            organization_id=customer.organization_id,
            target=customer,
            changes=changes,
        )
    return customer


_FIELDS = ("name", "domain", "tenant_id", "country", "segment", "employee_count")


def _fill(customer: Customer, **values: Any) -> None:
    domain = values["domain"].strip().lower()
    others = Customer.objects.filter(organization_id=customer.organization_id).exclude(pk=customer.pk)
    errors = {}
    if others.filter(domain=domain).exists():
        errors["domain"] = f"A customer with domain {domain} already exists."
    if others.filter(tenant_id=customer.tenant_id).exists():
        errors["tenant_id"] = f"Another customer already has tenant ID {customer.tenant_id}."
    if errors:
        raise ValidationError(errors)
    customer.name = values["name"].strip()
    customer.domain = domain
    customer.country = values["country"].strip().upper()
    customer.segment = values["segment"]
    customer.employee_count = values["employee_count"]
    customer.full_clean(validate_unique=False, validate_constraints=False)
