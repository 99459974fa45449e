"""The default GDAP relationship of a new customer (spec/security.md §3.3): the eleven least-privileged
roles, two years, auto-extended by 180 days — made once per customer, and managed like any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from accounts.models import Customer
from accounts.services.customers import customer_create
from accounts.signals import customers_created
from portal.models import AuditEvent
from security.choices import GDAP_DISPLAY_NAME_MAX, GLOBAL_ADMINISTRATOR_ROLE_ID, GdapStatus
from security.models import EntraRole, GdapRelationship
from security.services.gdap import (
    gdap_auto_extend_set,
    gdap_default_grant,
    gdap_relationship_update,
    gdap_terminate,
)
from security.services.gdap_daily import gdap_daily
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_template_is_the_eleven_roles_of_the_spec_without_global_administrator():
    template = set(EntraRole.objects.filter(in_default_template=True).values_list("display_name", flat=True))
    assert template == {
        "Directory Readers",
        "Directory Writers",
        "License Administrator",
        "Service Support Administrator",
        "User Administrator",
        "Privileged Role Administrator",
        "Helpdesk Administrator",
        "Privileged Authentication Administrator",
        "Cloud Application Administrator",
        "Application Administrator",
        "Global Reader",
    }
    assert not EntraRole.objects.get(pk=GLOBAL_ADMINISTRATOR_ROLE_ID).in_default_template


def test_the_grant_makes_one_active_relationship_per_customer(org_a, alice):
    customers = CustomerFactory.create_batch(3, organization=org_a)
    with freeze_time("2025-01-12T09:30:00Z"):
        made = gdap_default_grant(
            organization_id=org_a.pk, customer_ids=[c.pk for c in customers], actor=alice
        )

    assert made == 3
    for customer in customers:
        relationship = GdapRelationship.objects.get(customer=customer)
        assert relationship.status == GdapStatus.ACTIVE
        assert relationship.is_default_template
        assert relationship.roles.count() == 11
        assert not relationship.roles.filter(pk=GLOBAL_ADMINISTRATOR_ROLE_ID).exists()
        assert (relationship.duration, relationship.auto_extend_duration) == (
            timedelta(days=730),
            timedelta(days=180),
        )
        assert relationship.activated_at == datetime(2025, 1, 12, 9, 30, tzinfo=UTC)
        assert relationship.end_at == datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
        assert relationship.created_by == alice
    assert AuditEvent.objects.filter(action="gdap.default_granted").count() == 3


def test_the_grant_is_idempotent_and_stays_in_its_organization(org_a, org_b):
    mine = CustomerFactory(organization=org_a)
    theirs = CustomerFactory(organization=org_b)
    assert gdap_default_grant(organization_id=org_a.pk, customer_ids=[mine.pk, theirs.pk]) == 1
    assert gdap_default_grant(organization_id=org_a.pk, customer_ids=[mine.pk]) == 0
    assert GdapRelationship.objects.filter(customer=mine).count() == 1
    assert not GdapRelationship.objects.filter(customer=theirs).exists()


def test_default_names_are_unique_and_at_most_fifty_characters(org_a):
    long_name = "Northwind Traders International Holdings and Subsidiaries Limited"
    twins = [CustomerFactory(organization=org_a, name=long_name) for _ in range(2)]
    gdap_default_grant(organization_id=org_a.pk, customer_ids=[c.pk for c in twins])

    names = [GdapRelationship.objects.get(customer=c).display_name for c in twins]
    assert len(set(names)) == 2
    assert all(len(name) <= GDAP_DISPLAY_NAME_MAX for name in names)
    assert all(name.startswith("Default_Northwind") for name in names)


def test_the_signal_of_customer_create_grants_it(alice):
    customer = customer_create(
        actor=alice,
        organization=alice.organization,
        name="Contoso",
        domain="contoso.example",
        country="DE",
        segment="commercial",
    )
    assert GdapRelationship.objects.get(customer=customer).is_default_template
    # The signal sent again (a replayed import chunk) changes nothing.
    customers_created.send(
        sender=Customer, organization_id=alice.organization_id, customer_ids=[customer.pk], actor=alice
    )
    assert GdapRelationship.objects.filter(customer=customer).count() == 1


def test_the_default_relationship_is_managed_like_any_other(alice, org_a):
    customer = CustomerFactory(organization=org_a)
    with freeze_time("2025-01-12T09:30:00Z"):
        gdap_default_grant(organization_id=org_a.pk, customer_ids=[customer.pk])
    relationship = GdapRelationship.objects.get(customer=customer)

    # Active: roles are fixed, the auto-extension is not.
    with pytest.raises(ValidationError):
        gdap_relationship_update(
            actor=alice, relationship=relationship, role_ids=[GLOBAL_ADMINISTRATOR_ROLE_ID]
        )
    with freeze_time("2027-01-12T02:00:00Z"):
        assert gdap_daily()["extended"] == 1
    relationship.refresh_from_db()
    assert relationship.end_at == datetime(2027, 7, 11, 9, 30, tzinfo=UTC)

    gdap_auto_extend_set(actor=alice, relationship=relationship, enabled=False)
    with freeze_time("2027-06-20T02:00:00Z"):
        assert gdap_daily()["expiring"] == 1
    gdap_terminate(actor=alice, relationship=relationship)
    relationship.refresh_from_db()
    assert relationship.status == GdapStatus.TERMINATED
