"""Benefit packages, their activation and consumption (spec/membership.md §5).

A package is granted by copying the `BenefitTemplate` rows of its code (designations, ISV Success,
Marketplace Rewards, purchases); it runs one year and its benefits expire with it. A partner
activates a benefit before using it; the vendor's usage feed (or the partner) records how much was
consumed as of a day, one row per day, the latest row being the current figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone

from accounts.models import Organization
from membership.choices import ActivationStatus, PackageSource
from membership.models import Benefit, BenefitConsumption, BenefitPackage, BenefitTemplate
from portal.audit import audit_record
from portal.capabilities import Capability, can, is_vendor_staff

__all__ = (
    "EXPIRING_SOON_DAYS",
    "BenefitLine",
    "benefit_activate",
    "benefit_consumption_record",
    "benefit_lines",
    "package_end",
    "package_grant",
    "require_manager",
)

#: A benefit expiring within this many days is flagged on the benefits page.
EXPIRING_SOON_DAYS = 60
_CENT = Decimal("0.01")


def require_manager(actor: Any, organization_id: int, *, vendor_allowed: bool = True) -> None:
    """The AI Cloud Partner Program partner admin or Global admin of the organization
    (MEMBERSHIP_MANAGE); vendor staff too unless `vendor_allowed` is False."""
    if vendor_allowed and is_vendor_staff(actor):
        return
    if can(actor, Capability.MEMBERSHIP_MANAGE, organization_id):
        return
    raise PermissionDenied(
        "Membership is managed by the AI Cloud Partner Program partner admin or Global admin."
    )


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


def _lock(benefit: Benefit) -> Benefit:
    return Benefit.objects.select_for_update().select_related("package").get(pk=benefit.pk)


def _describe(benefit: Benefit) -> str:
    return f"{benefit.product} ({benefit.package.name})"


@transaction.atomic
def benefit_activate(*, actor: Any, benefit: Benefit) -> Benefit:
    """Activate a benefit of a running package (spec §5: benefits are activated in Partner Center)."""
    require_manager(actor, benefit.organization_id)
    benefit = _lock(benefit)
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
    if actor is not None:
        require_manager(actor, benefit.organization_id)
    quantity = _quantity(consumed_quantity)
    if not isinstance(as_of, date):
        raise ValidationError({"as_of": "The consumption date must be a date."})
    benefit = _lock(benefit)
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


@dataclass
class BenefitLine:
    """One benefit as the benefits page shows it (spec §5): entitled, activated, consumed,
    remaining, expiry."""

    benefit: Benefit
    entitled: Decimal
    activated: bool
    consumed: Decimal
    remaining: Decimal
    #: consumed / entitled in whole percent (half up): 19 of 25 seats = 76.
    percent_used: int
    expires_at: date
    expiring_soon: bool
    expired: bool = False


def _line(benefit: Benefit, consumed: Decimal | None, today: date) -> BenefitLine:
    consumed = consumed or Decimal(0)
    entitled = benefit.quantity
    percent = (
        int((consumed * 100 / entitled).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if entitled > 0 else 0
    )
    expired = benefit.expires_at < today or benefit.activation_status == ActivationStatus.EXPIRED
    return BenefitLine(
        benefit=benefit,
        entitled=entitled,
        activated=benefit.activation_status == ActivationStatus.ACTIVATED,
        consumed=consumed,
        remaining=max(Decimal(0), entitled - consumed),
        percent_used=percent,
        expires_at=benefit.expires_at,
        expiring_soon=not expired and benefit.expires_at <= today + timedelta(days=EXPIRING_SOON_DAYS),
        expired=expired,
    )


def benefit_lines(
    organization: Organization, *, today: date | None = None
) -> list[tuple[BenefitPackage, list[BenefitLine]]]:
    """Every package of the organization with its benefit lines: current packages first (newest
    start first), then upcoming, then ended ones. The consumption is the latest figure on or
    before `today`; two queries whatever the number of benefits."""
    today = today or timezone.localdate()
    latest = (
        BenefitConsumption.objects.filter(benefit=OuterRef("pk"), as_of__lte=today)
        .order_by("-as_of")
        .values("consumed_quantity")[:1]
    )
    benefits = Benefit.objects.annotate(latest_consumed=Subquery(latest)).order_by("id")
    packages = list(
        BenefitPackage.objects.filter(organization=organization).prefetch_related(
            Prefetch("benefits", queryset=benefits)
        )
    )

    def order(package: BenefitPackage) -> tuple[int, int, str]:
        if package.start <= today <= package.end:
            rank = 0
        elif package.start > today:
            rank = 1
        else:
            rank = 2
        return rank, -package.start.toordinal(), package.code

    return [
        (package, [_line(benefit, benefit.latest_consumed, today) for benefit in package.benefits.all()])
        for package in sorted(packages, key=order)
    ]
