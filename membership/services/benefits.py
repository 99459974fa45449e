"""Benefit packages, their activation and consumption (spec/membership.md §5).

A package is granted by copying the `BenefitTemplate` rows of its code (designations, ISV Success,
Marketplace Rewards, purchases); it runs one year and its benefits expire with it. A partner
activates a benefit before using it; the vendor's usage feed (or the partner) records how much was
consumed as of a day, one row per day, the latest row being the current figure.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization
from membership.choices import ActivationStatus, PackageSource
from membership.models import Benefit, BenefitConsumption, BenefitPackage, BenefitTemplate
from portal.audit import audit_record
from portal.locks import lock

__all__ = (
    "benefit_activate",
    "benefit_consumption_record",
    "package_end",
    "package_grant",
)

_CENT = Decimal("0.01")


def package_end(start: date) -> date:
    """The last day of a package starting on `start`: one year later, minus one day."""
    return start + relativedelta(years=1) - timedelta(days=1)


@transaction.atomic
def package_grant(
    *, organization: Organization, code: str, source: str, start: date, actor: Any = None
) -> BenefitPackage:
    """Grant the package `code` from `start` for one year: its benefits are copied from the
    catalogue and expire at the package's end. Granting the same code and start again returns the
    package already granted (designation renewals, replayed jobs)."""
    if source not in PackageSource.values:
        raise ValidationError({"source": f"Unknown package source {source!r}."})
    if not isinstance(start, date):
        raise ValidationError({"start": "The start of a package must be a date."})
    templates = list(BenefitTemplate.objects.filter(package_code=code).order_by("id"))
    if not templates:
        raise ValidationError({"code": f"The benefit catalogue has no package {code!r}."})
    existing = BenefitPackage.objects.filter(organization=organization, code=code, start=start).first()
    if existing is not None:
        return existing
    end = package_end(start)
    package = BenefitPackage(
        organization=organization,
        code=code,
        name=templates[0].package_name,
        source=source,
        start=start,
        end=end,
    )
    try:
        with transaction.atomic():
            package.save(force_insert=True)
    except IntegrityError:
        # Another run granted the same package a moment ago.
        return BenefitPackage.objects.get(organization=organization, code=code, start=start)
    Benefit.objects.bulk_create(
        Benefit(
            organization=organization,
            package=package,
            kind=template.kind,
            product=template.product,
            quantity=template.quantity,
            unit=template.unit,
            expires_at=end,
        )
        for template in templates
    )
    audit_record(
        actor=actor,
        action="membership.package.granted",
        organization_id=organization.pk,
        target=package,
        changes={"code": code, "source": source, "start": start.isoformat(), "end": end.isoformat()},
    )
    return package


def _describe(benefit: Benefit) -> str:
    return f"{benefit.product} ({benefit.package.name})"


@transaction.atomic
def benefit_activate(*, actor: Any, benefit: Benefit) -> Benefit:
    """Activate a benefit of a running package (spec §5: benefits are activated in Partner Center)."""
    benefit = lock(benefit, "package")
    today = timezone.localdate()
    if benefit.activation_status == ActivationStatus.ACTIVATED:
        raise ValidationError(
            {
                "activation_status": (
                    f"{_describe(benefit)} was already activated on "
                    f"{timezone.localtime(benefit.activated_at).date().isoformat()}."
                )
            }
        )
    if benefit.activation_status == ActivationStatus.EXPIRED or benefit.expires_at < today:
        raise ValidationError(
            {"activation_status": f"{_describe(benefit)} expired on {benefit.expires_at.isoformat()}."}
        )
    if benefit.package.start > today:
        raise ValidationError(
            {
                "activation_status": (
                    f"{_describe(benefit)} can be activated from {benefit.package.start.isoformat()}, "
                    "when its package starts."
                )
            }
        )
    benefit.activation_status = ActivationStatus.ACTIVATED
    benefit.activated_at = timezone.now()
    benefit.activated_by = actor if getattr(actor, "pk", None) else None
    benefit.save(update_fields=["activation_status", "activated_at", "activated_by"])
    audit_record(
        actor=actor,
        action="membership.benefit.activated",
        organization_id=benefit.organization_id,
        target=benefit,
        changes={"activation_status": [ActivationStatus.NOT_ACTIVATED, ActivationStatus.ACTIVATED]},
    )
    return benefit


def _quantity(value: Any) -> Decimal:
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"consumed_quantity": f"{value!r} is not a number."}) from exc
    if not quantity.is_finite():
        raise ValidationError({"consumed_quantity": f"{value!r} is not a number."})
    if quantity < 0:
        raise ValidationError({"consumed_quantity": "The consumed quantity cannot be negative."})
    if quantity != quantity.quantize(_CENT):
        raise ValidationError({"consumed_quantity": "The consumed quantity has at most two decimal places."})
    return quantity


@transaction.atomic
def benefit_consumption_record(
    *, actor: Any, benefit: Benefit, consumed_quantity: Decimal, as_of: date
) -> BenefitConsumption:
    """Record how much of an activated benefit was consumed as of `as_of` (one row per day: a
    second figure for the same day replaces the first). `actor=None` is the vendor's usage feed."""
    quantity = _quantity(consumed_quantity)
    if not isinstance(as_of, date):
        raise ValidationError({"as_of": "The consumption date must be a date."})
    benefit = lock(benefit, "package")
    if benefit.activation_status != ActivationStatus.ACTIVATED or benefit.activated_at is None:
        raise ValidationError(
            {"as_of": f"{_describe(benefit)} is not activated: consumption starts with the activation."}
        )
    if quantity > benefit.quantity:
        raise ValidationError(
            {
                "consumed_quantity": (
                    f"{quantity.normalize():f} {benefit.get_unit_display()} exceeds the "
                    f"{benefit.quantity.normalize():f} {benefit.get_unit_display()} the benefit grants."
                )
            }
        )
    activated_on = timezone.localtime(benefit.activated_at).date()
    if as_of < activated_on:
        raise ValidationError(
            {
                "as_of": (
                    f"The benefit was activated on {activated_on.isoformat()}; consumption cannot be earlier."
                )
            }
        )
    if as_of > timezone.localdate():
        raise ValidationError({"as_of": "Consumption cannot be recorded for a future day."})
    if as_of > benefit.expires_at:
        raise ValidationError(
            {
                "as_of": (
                    f"The benefit expired on {benefit.expires_at.isoformat()}; consumption cannot be later."
                )
            }
        )
    before = (
        BenefitConsumption.objects.filter(benefit=benefit, as_of=as_of)
        .values_list("consumed_quantity", flat=True)
        .first()
    )
    consumption, _ = BenefitConsumption.objects.update_or_create(
        benefit=benefit,
        as_of=as_of,
        defaults={"organization_id": benefit.organization_id, "consumed_quantity": quantity},
    )
    audit_record(
        actor=actor,
        action="membership.benefit.consumption_recorded",
        organization_id=benefit.organization_id,
        target=benefit,
        changes={
            "as_of": as_of.isoformat(),
            "consumed_quantity": [str(before) if before is not None else None, str(quantity)],
        },
    )
    return consumption
