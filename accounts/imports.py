"""The customer list file: its layout and how its valid rows are written (portal.imports).

Two layouts are read as one: the portal's own (`name,domain,country,segment[,employee_count]
[,tenant_id]`) and the `customers.csv` that Microsoft's NCE Batch Migration tool exports
(`TenantId,Domain,CompanyName`: its `CompanyProfile` records). Country, segment and tenant ID
are optional: a new customer without them gets the organization's country, the commercial
segment and a new tenant; an empty cell leaves a known customer's value as it is.

Re-importing the same file changes nothing: a customer is keyed on its domain within the
organization, and a row equal to the stored customer is left alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from accounts.choices import CustomerSegment
from accounts.models import INVISIBLE_NAMES, Customer, Organization
from accounts.signals import customers_created
from portal.files import FORMULA_TRIGGERS
from portal.imports import (
    CHOICE,
    INTEGER,
    UUID,
    Column,
    Importer,
    Layout,
    Reference,
    Rule,
    SqlCheck,
    Staging,
    register,
    safe_cast,
)
from portal.jobs import JobRun

IMPORT_COLUMNS = ["name", "domain", "country", "segment"]

_FORMULA_START = "^[" + "".join("\\" + c if c in "-\\]^" else c for c in sorted(FORMULA_TRIGGERS)) + "]"


def _formula_message(names: pd.Series) -> pd.Series:
    """The model validator's message (customer_name_validator), for each name at once."""
    first = names.str[0]
    shown = first.map(INVISIBLE_NAMES).fillna('"' + first + '"')
    return "A name can't start with " + shown + ": spreadsheets would run it as a formula."


_DOMAIN = Column(
    "domain",
    aliases=("Domain", "Primary domain", "Domain name"),
    pattern=r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
    pattern_help="is not a domain (e.g. contoso.onmicrosoft.com)",
    max_length=253,
    lower=True,
)
_COUNTRY = Column(
    "country",
    aliases=("Country", "Country/region", "CountryCode"),
    pattern=r"[A-Za-z]{2}",
    pattern_help="is not an ISO 3166-1 alpha-2 country code",
    upper=True,
    required=False,
    blank=True,
)
_SEGMENT = Column(
    "segment",
    kind=CHOICE,
    aliases=("Segment",),
    choices=tuple(CustomerSegment.values),
    required=False,
    blank=True,
)


CUSTOMERS = Layout(
    name="accounts.customers",
    title="Customers",
    columns=(
        Column("name", aliases=("Name", "Company name", "CompanyName", "Customer name"), max_length=200),
        _DOMAIN,
        Column(
            "tenant_id",
            kind=UUID,
            aliases=("TenantId", "Tenant ID", "Customer tenant ID", "CustomerTenantId", "Microsoft ID"),
            required=False,
            blank=True,
        ),
        _COUNTRY,
        _SEGMENT,
        Column(
            "employee_count",
            kind=INTEGER,
            aliases=("Employees", "Employee count"),
            required=False,
            blank=True,
            min_value=0,
            max_value=10_000_000,
        ),
    ),
    key=("domain",),
    checks=(
        SqlCheck(
            "tenant_id",
            "EXISTS (SELECT 1 FROM {staging} o WHERE o.tenant_id = s.tenant_id AND o.line < s.line)",
            "repeats the tenant ID of an earlier row",
        ),
        SqlCheck(
            "tenant_id",
            "EXISTS (SELECT 1 FROM accounts_customer c WHERE c.organization_id = %(organization)s "
            f"AND c.tenant_id = {safe_cast('s.tenant_id', UUID)} AND c.domain <> s.domain)",
            "is the tenant ID of another of your customers (with another domain)",
        ),
    ),
    rules=(
        Rule(
            "name",
            lambda rows: _formula_message(rows["name"]),
            lambda rows: rows["name"].str.contains(_FORMULA_START, regex=True, na=False),
        ),
    ),
)


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    organization = int(job.organization_id)
    created = staging.upsert(
        table=Customer._meta.db_table,
        key=("domain",),
        columns={
            "domain": "domain",
            "name": "name",
            "tenant_id": "tenant_id",
            "country": "country",
            "segment": "segment",
            "employee_count": "employee_count",
        },
        fallbacks={
            "tenant_id": "gen_random_uuid()",
            "country": f"(SELECT country FROM {Organization._meta.db_table} WHERE id = {organization})",
            "segment": f"'{CustomerSegment.COMMERCIAL}'",
        },
        insert_only={"created_at": "now()"},
        returning_created=True,
    )
    if created:
        customers_created.send(
            sender=Customer, organization_id=job.organization_id, customer_ids=created, actor=job.created_by
        )
    return {"customers": Customer.objects.filter(organization_id=job.organization_id).count()}


CUSTOMER_IMPORTER = register(Importer(layout=CUSTOMERS, load=_load))


# --- The vendor's customers feed ---------------------------------------------------------------------

#: What every vendor feed record carries: the partner organization it belongs to, by its partner
#: global account ID; the SQL finding that organization for a staged row; the check that it exists.
ORGANIZATION_OF_ROW = (
    f"(SELECT o.id FROM {Organization._meta.db_table} o WHERE o.partner_global_id = s.partner_id)"
)
PARTNER_ID = Column(
    "partnerId",
    field="partner_id",
    aliases=("PartnerId", "Partner ID", "PartnerGlobalId"),
    pattern=r"\d{7}",
    pattern_help="is not a partner global account ID (seven digits)",
)
PARTNER_EXISTS = Reference(
    "partnerId",
    f"SELECT partner_global_id FROM {Organization._meta.db_table}",
    "is not a partner organization of this portal",
)
#: For a vendor feed row naming `partnerId` and `customerTenantId`: the partner's customer (SQL).
CUSTOMER_OF_ROW = (
    f"(SELECT c.id FROM {Customer._meta.db_table} c WHERE c.organization_id = {ORGANIZATION_OF_ROW} "
    f"AND c.tenant_id = {safe_cast('s.customer_tenant_id', UUID)})"
)
CUSTOMER_OF_PARTNER = SqlCheck(
    "customerTenantId",
    f"{CUSTOMER_OF_ROW} IS NULL AND {ORGANIZATION_OF_ROW} IS NOT NULL "
    f"AND {safe_cast('s.customer_tenant_id', UUID)} IS NOT NULL",
    "is not a customer of this partner (send the customer to the customers feed first)",
)

VENDOR_CUSTOMERS = Layout(
    name="accounts.vendor_customers",
    title="Customers (vendor feed)",
    columns=(
        PARTNER_ID,
        Column("tenantId", kind=UUID, field="tenant_id", aliases=("companyProfile.tenantId", "TenantId")),
        replace(_DOMAIN, aliases=("companyProfile.domain", "Domain")),
        Column(
            "companyName", field="name", aliases=("companyProfile.companyName", "CompanyName"), max_length=200
        ),
        replace(_COUNTRY, aliases=("billingProfile.defaultAddress.country", "Country")),
        replace(_SEGMENT, aliases=()),
    ),
    key=("partnerId", "tenantId"),
    references=(PARTNER_EXISTS,),
    checks=(
        SqlCheck(
            "domain",
            f"EXISTS (SELECT 1 FROM accounts_customer c WHERE c.organization_id = {ORGANIZATION_OF_ROW} "
            f"AND c.domain = s.domain AND c.tenant_id <> {safe_cast('s.tenant_id', UUID)})",
            "is the domain of another customer of this partner (with another tenant ID)",
        ),
    ),
    rules=CUSTOMERS.rules,
)


def _load_vendor_customers(staging: Staging, job: JobRun) -> dict[str, Any]:
    created = staging.upsert(
        table=Customer._meta.db_table,
        key=("tenant_id",),
        columns={
            "tenant_id": "tenant_id",
            "domain": "domain",
            "name": "name",
            "country": "country",
            "segment": "segment",
        },
        fallbacks={
            "country": ORGANIZATION_OF_ROW.replace("o.id", "o.country"),
            "segment": f"'{CustomerSegment.COMMERCIAL}'",
        },
        insert_only={"created_at": "now()"},
        scope_from=ORGANIZATION_OF_ROW,
        returning_created=True,
    )
    by_organization: dict[int, list[int]] = {}
    for organization_id, pk in Customer.objects.filter(pk__in=created).values_list("organization_id", "pk"):
        by_organization.setdefault(organization_id, []).append(pk)
    for organization_id, ids in by_organization.items():
        customers_created.send(
            sender=Customer, organization_id=organization_id, customer_ids=ids, actor=job.created_by
        )
    return {}


VENDOR_CUSTOMER_IMPORTER = register(Importer(layout=VENDOR_CUSTOMERS, load=_load_vendor_customers))
