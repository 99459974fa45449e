"""Customer-tenant data the partner brings in (spec §2.2): customers' MFA figures, one row per
customer (`customer_mfa_upsert`, or a Partner Center export imported whole), and customers' Azure
subscriptions with their spending budgets.

Customer-tenant figures cannot be read from here: the partner imports them (the Partner Center
export's columns) or posts them through the API. What the pages and API read is
`security.selectors.mfa`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Organization
from portal.audit import apply_changes, audit_record
from portal.iso import is_currency
from portal.locks import lock, lock_many
from portal.uploads import RowError, read_table, validate_rows
from security.models import CustomerAzureSubscription, CustomerMfaStat

__all__ = (
    "AZURE_COLUMNS",
    "AZURE_OPTIONAL_COLUMNS",
    "CUSTOMER_MFA_COLUMNS",
    "CUSTOMER_MFA_OPTIONAL_COLUMNS",
    "azure_budget_set",
    "azure_subscriptions_import",
    "customer_mfa_import",
    "customer_mfa_upsert",
)


def _count_errors(
    admins_with_mfa: int,
    admins_total: int,
    non_admins_with_mfa: int,
    users_total: int,
    ca_policies_count: int,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    values = {
        "admins_with_mfa": admins_with_mfa,
        "admins_total": admins_total,
        "non_admins_with_mfa": non_admins_with_mfa,
        "users_total": users_total,
        "ca_policies_count": ca_policies_count,
    }
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors[name] = "Use a whole number, 0 or more."
    if errors:
        return errors
    if admins_with_mfa > admins_total:
        errors["admins_with_mfa"] = (
            f"{admins_with_mfa} admins with MFA is more than the {admins_total} admins in the tenant."
        )
    if admins_total > users_total:
        errors["admins_total"] = f"{admins_total} admins is more than the {users_total} users in the tenant."
    elif non_admins_with_mfa > users_total - admins_total:
        errors["non_admins_with_mfa"] = (
            f"{non_admins_with_mfa} non-admins with MFA is more than the "
            f"{users_total - admins_total} non-admin users ({users_total} users − {admins_total} admins)."
        )
    return errors


@transaction.atomic
def customer_mfa_upsert(
    *,
    actor: Any,
    organization: Organization,
    customer: Customer,
    admins_with_mfa: int,
    admins_total: int,
    non_admins_with_mfa: int,
    users_total: int,
    security_defaults_on: bool = False,
    ca_policies_count: int = 0,
    checked_at: datetime | None = None,
) -> CustomerMfaStat:
    """Record one customer tenant's MFA figures (replacing the previous ones)."""
    if customer.organization_id != organization.pk:
        raise ValidationError({"customer": "This customer does not belong to your organization."})
    errors = _count_errors(admins_with_mfa, admins_total, non_admins_with_mfa, users_total, ca_policies_count)
    if errors:
        raise ValidationError(errors)
    checked_at = checked_at or timezone.now()
    if checked_at > timezone.now():
        raise ValidationError({"checked_at": "The figures cannot have been checked in the future."})
    values = {
        "admins_with_mfa": admins_with_mfa,
        "admins_total": admins_total,
        "non_admins_with_mfa": non_admins_with_mfa,
        "users_total": users_total,
        "security_defaults_on": bool(security_defaults_on),
        "ca_policies_count": ca_policies_count,
    }
    stat = lock_many(CustomerMfaStat.objects.filter(customer=customer)).first()
    if stat is None:
        stat = CustomerMfaStat.objects.create(
            organization=organization, customer=customer, checked_at=checked_at, **values
        )
        changes = {name: [None, value] for name, value in values.items()}
    else:
        changes = apply_changes(stat, values)
        stat.checked_at = checked_at
        stat.save()
    audit_record(
        actor=actor,
        action="security.customer_mfa_recorded",
        organization_id=organization.pk,
        target=stat,
        changes={"customer": customer.name, **changes},
    )
    return stat


# --- Imports --------------------------------------------------------------------------------------

#: The Partner Center "Customer MFA statistics" export's columns (spec §2.2).
CUSTOMER_MFA_COLUMNS = [
    "Customer",
    "Customer tenant ID",
    "Admins with MFA enabled",
    "Admins",
    "Non-admins with MFA enabled",
    "Total users",
]
CUSTOMER_MFA_OPTIONAL_COLUMNS = ["Security defaults", "Conditional access policies"]
AZURE_COLUMNS = ["Customer tenant ID", "Subscription ID", "Subscription name"]
AZURE_OPTIONAL_COLUMNS = ["Budget", "Currency"]

_TRUE = {"yes", "y", "true", "1", "on", "enabled"}
_FALSE = {"no", "n", "false", "0", "off", "disabled", ""}


@dataclass
class _CustomerIndex:
    """Looks up the organization's customers by tenant ID or, failing that, by exact name."""

    organization: Organization
    by_tenant: dict[str, Customer] = field(default_factory=dict)
    by_name: dict[str, list[Customer]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for customer in Customer.objects.filter(organization=self.organization):
            self.by_tenant[str(customer.tenant_id)] = customer
            self.by_name.setdefault(customer.name.strip().lower(), []).append(customer)

    def find(
        self, row_number: int, tenant_text: str, name: str | None
    ) -> tuple[Customer | None, RowError | None]:
        if tenant_text:
            try:
                tenant_id = str(uuid.UUID(tenant_text))
            except ValueError:
                return None, RowError(
                    row_number, "Customer tenant ID", f"{tenant_text!r} is not a tenant ID (a GUID)."
                )
            customer = self.by_tenant.get(tenant_id)
            if customer is None:
                return None, RowError(
                    row_number,
                    "Customer tenant ID",
                    f"No customer of yours has tenant ID {tenant_id}; add the customer first or fix the ID.",
                )
            return customer, None
        if name is None:
            return None, RowError(
                row_number, "Customer tenant ID", "is empty; give the customer's tenant ID."
            )
        if not name:
            return None, RowError(
                row_number, "Customer", "Give the customer tenant ID or the customer's name."
            )
        matches = self.by_name.get(name.lower(), [])
        if not matches:
            return None, RowError(row_number, "Customer", f"No customer of yours is named {name!r}.")
        if len(matches) > 1:
            return None, RowError(
                row_number,
                "Customer",
                f"{len(matches)} customers are named {name!r}; give the tenant ID instead.",
            )
        return matches[0], None


def _whole_number(
    row_number: int, column: str, text: str, errors: list[RowError], *, blank: int | None = None
) -> int:
    if text == "" and blank is not None:
        return blank
    try:
        number = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        errors.append(RowError(row_number, column, f"{text!r} is not a number."))
        return 0
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        errors.append(RowError(row_number, column, f"{text!r} is not a whole number of 0 or more."))
        return 0
    return int(number)


def _yes_no(row_number: int, column: str, text: str, errors: list[RowError]) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        errors.append(
            RowError(row_number, column, f"{text!r} is not yes or no (Enabled/Disabled also work).")
        )
    return False


def _file_name(upload: UploadedFile) -> str:
    return getattr(upload, "name", "") or ""


def _seen_check(seen: dict[Any, int], key: Any, row_number: int, column: str, label: str) -> RowError | None:
    if key in seen:
        return RowError(row_number, column, f"{label} repeats row {seen[key]}.")
    seen[key] = row_number
    return None


def customer_mfa_validate(*, organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    """Every row of a customer MFA file checked; raises UploadRejected listing each problem."""
    frame = read_table(upload, required_columns=CUSTOMER_MFA_COLUMNS)
    customers = _CustomerIndex(organization)
    seen: dict[int, int] = {}

    def check(row_number: int, row: dict[str, str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        errors: list[RowError] = []
        customer, problem = customers.find(row_number, row["Customer tenant ID"], row["Customer"])
        if problem:
            errors.append(problem)
        elif repeat := _seen_check(
            seen, customer.pk, row_number, "Customer tenant ID", f"Customer {customer.name}"
        ):
            errors.append(repeat)
        counts = {
            "admins_with_mfa": _whole_number(
                row_number, "Admins with MFA enabled", row["Admins with MFA enabled"], errors
            ),
            "admins_total": _whole_number(row_number, "Admins", row["Admins"], errors),
            "non_admins_with_mfa": _whole_number(
                row_number, "Non-admins with MFA enabled", row["Non-admins with MFA enabled"], errors
            ),
            "users_total": _whole_number(row_number, "Total users", row["Total users"], errors),
            "ca_policies_count": _whole_number(
                row_number,
                "Conditional access policies",
                row.get("Conditional access policies", ""),
                errors,
                blank=0,
            ),
        }
        security_defaults = _yes_no(row_number, "Security defaults", row.get("Security defaults", ""), errors)
        if not errors:
            columns = {
                "admins_with_mfa": "Admins with MFA enabled",
                "admins_total": "Admins",
                "non_admins_with_mfa": "Non-admins with MFA enabled",
                "ca_policies_count": "Conditional access policies",
                "users_total": "Total users",
            }
            for name, message in _count_errors(**counts).items():
                errors.append(RowError(row_number, columns[name], message))
        value = {"customer": customer, "security_defaults_on": security_defaults, **counts}
        return value, errors

    return validate_rows(frame, check)


@transaction.atomic
def customer_mfa_import(*, actor: Any, organization: Organization, upload: UploadedFile) -> int:
    """Import customer MFA figures (CSV or XLSX); the whole file is checked before anything is
    written, and a file with any bad row writes nothing. Returns how many customers were recorded."""
    rows = customer_mfa_validate(organization=organization, upload=upload)
    now = timezone.now()
    CustomerMfaStat.objects.bulk_create(
        [
            CustomerMfaStat(
                organization=organization,
                customer=row["customer"],
                admins_with_mfa=row["admins_with_mfa"],
                admins_total=row["admins_total"],
                non_admins_with_mfa=row["non_admins_with_mfa"],
                users_total=row["users_total"],
                security_defaults_on=row["security_defaults_on"],
                ca_policies_count=row["ca_policies_count"],
                checked_at=now,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=[
            "admins_with_mfa",
            "admins_total",
            "non_admins_with_mfa",
            "users_total",
            "security_defaults_on",
            "ca_policies_count",
            "checked_at",
        ],
    )
    audit_record(
        actor=actor,
        action="security.customer_mfa_imported",
        organization_id=organization.pk,
        changes={"file_name": _file_name(upload), "customers": len(rows)},
    )
    return len(rows)


def azure_subscriptions_validate(*, organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    """Every row of an Azure subscriptions file checked; raises UploadRejected listing each problem."""
    frame = read_table(upload, required_columns=AZURE_COLUMNS)
    customers = _CustomerIndex(organization)
    known = dict(
        CustomerAzureSubscription.objects.filter(organization=organization).values_list(
            "subscription_id", "customer_id"
        )
    )
    seen: dict[uuid.UUID, int] = {}

    def check(row_number: int, row: dict[str, str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        errors: list[RowError] = []
        customer, problem = customers.find(row_number, row["Customer tenant ID"], None)
        if problem:
            errors.append(problem)
        subscription_id = None
        try:
            subscription_id = uuid.UUID(row["Subscription ID"])
        except ValueError:
            errors.append(
                RowError(
                    row_number,
                    "Subscription ID",
                    f"{row['Subscription ID']!r} is not a subscription ID (a GUID).",
                )
            )
        if subscription_id is not None:
            if repeat := _seen_check(
                seen, subscription_id, row_number, "Subscription ID", f"Subscription {subscription_id}"
            ):
                errors.append(repeat)
            elif customer is not None and known.get(subscription_id, customer.pk) != customer.pk:
                errors.append(
                    RowError(
                        row_number,
                        "Subscription ID",
                        f"Subscription {subscription_id} is already recorded for another customer.",
                    )
                )
        name = row["Subscription name"]
        if not name:
            errors.append(RowError(row_number, "Subscription name", "is empty."))
        elif len(name) > 200:
            errors.append(RowError(row_number, "Subscription name", "is longer than 200 characters."))
        amount, currency = _budget(row_number, row.get("Budget", ""), row.get("Currency", ""), errors)
        value = {
            "customer": customer,
            "subscription_id": subscription_id,
            "display_name": name,
            "budget_amount": amount,
            "budget_currency": currency,
        }
        return value, errors

    return validate_rows(frame, check)


def _budget(
    row_number: int, amount_text: str, currency_text: str, errors: list[RowError]
) -> tuple[Decimal | None, str]:
    currency = currency_text.strip().upper()
    if not amount_text:
        if currency and not is_currency(currency):
            errors.append(
                RowError(row_number, "Currency", f"{currency_text!r} is not an ISO 4217 currency code.")
            )
        return None, ""
    try:
        amount = Decimal(amount_text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        errors.append(RowError(row_number, "Budget", f"{amount_text!r} is not an amount."))
        return None, ""
    if not amount.is_finite() or amount <= 0:
        errors.append(
            RowError(
                row_number,
                "Budget",
                f"{amount_text!r}: a budget must be more than 0 (leave it empty for none).",
            )
        )
    elif amount.as_tuple().exponent < -6 or amount.adjusted() >= 12:
        errors.append(RowError(row_number, "Budget", f"{amount_text!r} has too many digits."))
    if not currency:
        errors.append(RowError(row_number, "Currency", "is empty; a budget needs its currency (e.g. EUR)."))
    elif not is_currency(currency):
        errors.append(
            RowError(row_number, "Currency", f"{currency_text!r} is not an ISO 4217 currency code.")
        )
    return amount, currency


@transaction.atomic
def azure_subscriptions_import(*, actor: Any, organization: Organization, upload: UploadedFile) -> int:
    """Import customers' Azure subscriptions with their budgets (CSV or XLSX); nothing is written
    when any row is bad. Returns how many subscriptions were recorded."""
    rows = azure_subscriptions_validate(organization=organization, upload=upload)
    now = timezone.now()
    CustomerAzureSubscription.objects.bulk_create(
        [CustomerAzureSubscription(organization=organization, checked_at=now, **row) for row in rows],
        update_conflicts=True,
        unique_fields=["customer", "subscription_id"],
        update_fields=["display_name", "budget_amount", "budget_currency", "checked_at"],
    )
    audit_record(
        actor=actor,
        action="security.azure_subscriptions_imported",
        organization_id=organization.pk,
        changes={
            "file_name": _file_name(upload),
            "subscriptions": len(rows),
            "with_budget": sum(row["budget_amount"] is not None for row in rows),
        },
    )
    return len(rows)


@transaction.atomic
def azure_budget_set(
    *, actor: Any, subscription: CustomerAzureSubscription, amount: Decimal | None, currency: str
) -> CustomerAzureSubscription:
    """Set (or, with amount None, remove) a subscription's spending budget."""
    subscription = lock(subscription)
    currency = (currency or "").strip().upper()
    if amount is None:
        currency = ""
    else:
        errors = {}
        if isinstance(amount, float):
            errors["amount"] = "Give the budget as a decimal amount, not a float."
        else:
            try:
                amount = Decimal(str(amount))
            except InvalidOperation:
                errors["amount"] = f"{amount!r} is not an amount."
            else:
                if not amount.is_finite() or amount <= 0:
                    errors["amount"] = "A budget must be more than 0; remove the budget instead of setting 0."
                elif amount.as_tuple().exponent < -6 or amount.adjusted() >= 12:
                    errors["amount"] = "The amount has too many digits."
        if not currency:
            errors["currency"] = "A budget needs its currency (e.g. EUR)."
        elif not is_currency(currency):
            errors["currency"] = f"{currency!r} is not an ISO 4217 currency code."
        if errors:
            raise ValidationError(errors)
    before = [
        str(subscription.budget_amount) if subscription.budget_amount is not None else None,
        subscription.budget_currency,
    ]
    after = [str(amount) if amount is not None else None, currency]
    if subscription.budget_amount == amount and subscription.budget_currency == currency:
        return subscription
    subscription.budget_amount = amount
    subscription.budget_currency = currency
    subscription.checked_at = timezone.now()
    subscription.save(update_fields=["budget_amount", "budget_currency", "checked_at"])
    audit_record(
        actor=actor,
        action="security.azure_budget_set" if amount is not None else "security.azure_budget_removed",
        organization_id=subscription.organization_id,
        target=subscription,
        changes={"budget": [before, after]},
    )
    return subscription
