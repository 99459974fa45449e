"""Alert rules on earnings: "earnings of customer X fall more than <percent> month over month"
(checked daily, on the last two complete months)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Customer
from earnings.models import Earning
from portal.capabilities import Capability
from portal.notifications.models import AlertRule
from portal.notifications.rules import PERCENT, TEXT, Firing, RuleKind, RuleParameter, register_rule_kind


def _months_back(today: date, count: int) -> date:
    year, month = today.year, today.month - count
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def _customer(actor, tenant_id: str) -> Customer | None:
    return Customer.objects.visible_to(actor).filter(tenant_id=tenant_id).first()


def _check(actor, parameters: dict) -> None:
    try:
        found = _customer(actor, parameters["customer_tenant_id"])
    except (ValueError, ValidationError):
        found = None
    if found is None:
        given = parameters["customer_tenant_id"]
        raise ValidationError(
            {"customer_tenant_id": f"{given!r} is not the tenant ID of one of your customers."}
        )


def _earnings_drop(rule: AlertRule, _context) -> list[Firing]:
    customer = _customer(rule.owner, rule.parameters["customer_tenant_id"])
    if customer is None:
        return []
    today = timezone.localdate()
    last, before = _months_back(today, 1), _months_back(today, 2)
    totals = dict(
        Earning.objects.visible_to(rule.owner)
        .filter(customer=customer, earning_date__gte=before, earning_date__lt=_months_back(today, 0))
        .annotate(month=TruncMonth("earning_date"))
        .values_list("month")
        .annotate(total=Sum("earning_amount_usd"))
        .values_list("month", "total")
    )
    previous, latest = totals.get(before), totals.get(last) or Decimal(0)
    if not previous or previous <= 0:
        return []
    drop = (previous - latest) / previous * 100
    threshold = Decimal(rule.parameters["percent"])
    if drop <= threshold:
        return []
    return [
        Firing(
            key=f"{customer.tenant_id}:{last.isoformat()}",
            title=f"earnings of {customer.name} fell {drop:.0f} % in {last:%B %Y}",
            body=f"{latest:,.2f} USD in {last:%B %Y} against {previous:,.2f} USD in {before:%B %Y}.",
            url=reverse("earnings:index") + "?" + urlencode({"customerName": customer.name}),
            data={
                "customerTenantId": customer.tenant_id,
                "previousUSD": previous,
                "latestUSD": latest,
                "dropPercent": drop,
            },
        )
    ]


EARNINGS_DROP = register_rule_kind(
    RuleKind(
        code="earnings.customer_drop",
        label="A customer's earnings fall month over month",
        description="Checked every day on the last two complete months (amounts in USD).",
        capability=Capability.EARNINGS_VIEW,
        parameters=(
            RuleParameter("customer_tenant_id", "Customer tenant ID", TEXT),
            RuleParameter("percent", "Fall of more than (%)", PERCENT),
        ),
        evaluate=_earnings_drop,
        scheduled=True,
        check=_check,
    )
)
