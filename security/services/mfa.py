"""Customer-tenant data the partner brings in (spec §2.2): customers' MFA figures, one row per
customer (`customer_mfa_upsert`, or a Partner Center export imported through the import pipeline),
and customers' Azure subscriptions with their spending budgets (imported the same way).

Customer-tenant figures cannot be read from here: the partner imports them (the Partner Center
export's columns) or posts them through the API. What the pages and API read is
`security.selectors.mfa`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Organization
from portal.audit import apply_changes, audit_record
from portal.imports import import_start
from portal.iso import is_currency
from portal.jobs import JobRun
from portal.locks import lock, lock_many
from security.imports import (
    AZURE_SUBSCRIPTIONS,
    AZURE_SUBSCRIPTIONS_IMPORTER,
    CUSTOMER_MFA,
    CUSTOMER_MFA_IMPORTER,
)
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


# --- Imports ------------------------------------------------------------------------------------
# The files go through the one import pipeline (portal.imports); their layouts and loaders are
# security.imports.

#: The Partner Center "Customer MFA statistics" export's columns (spec §2.2).
CUSTOMER_MFA_COLUMNS = [column.name for column in CUSTOMER_MFA.columns if column.required]
CUSTOMER_MFA_OPTIONAL_COLUMNS = [column.name for column in CUSTOMER_MFA.columns if not column.required]
AZURE_COLUMNS = [column.name for column in AZURE_SUBSCRIPTIONS.columns if column.required]
AZURE_OPTIONAL_COLUMNS = [column.name for column in AZURE_SUBSCRIPTIONS.columns if not column.required]


@transaction.atomic
def customer_mfa_import(
    *, actor: Any, organization: Organization, upload: UploadedFile, valid_rows_only: bool = False
) -> JobRun:
    """Check the customer MFA file's type and header now and queue its import (CSV, TSV, XLSX or a
    ZIP of one); UploadRejected when it cannot be imported at all.

    The job checks every row: a file with any problem writes nothing unless `valid_rows_only`, and
    the figures written are audited as one import (security.customer_mfa_imported)."""
    return import_start(
        CUSTOMER_MFA_IMPORTER,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )


@transaction.atomic
def azure_subscriptions_import(
    *, actor: Any, organization: Organization, upload: UploadedFile, valid_rows_only: bool = False
) -> JobRun:
    """Check the Azure subscriptions file's type and header now and queue its import; UploadRejected
    when it cannot be imported at all.

    The job checks every row: a file with any problem writes nothing unless `valid_rows_only`, and
    the subscriptions written are audited as one import (security.azure_subscriptions_imported)."""
    return import_start(
        AZURE_SUBSCRIPTIONS_IMPORTER,
        upload,
        actor=actor,
        organization_id=organization.pk,
        valid_rows_only=valid_rows_only,
    )


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
