"""Co-sell insights (spec §8): pipeline by stage and month, win rate, deal value, time in each stage,
and the same figures as CSV, for a period of whole months (the last six by default)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.shortcuts import render
from django.utils import timezone

from cosell.choices import ReferralSubstatus
from cosell.forms import InsightFilterForm
from cosell.selectors import insights as insight_selectors
from cosell.views.referrals import DENIED, REFERRAL_ACCESS
from earnings.periods import add_months, month_start
from portal.files import csv_response
from portal.views import capability_required

#: Without a start month, the figures cover this many months up to the current one.
DEFAULT_MONTHS = 6


def default_period_start(today: date) -> date:
    return add_months(month_start(today), 1 - DEFAULT_MONTHS)


def insight_filters(form: InsightFilterForm, today: date) -> insight_selectors.InsightFilters:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    solution = data.get("solution_id")
    owner = data.get("owner")
    return insight_selectors.InsightFilters(
        solution_area=data.get("solution_area", ""),
        solution_id=solution.solution_id if solution else "",
        country=data.get("country", ""),
        owner_id=owner.pk if owner else None,
        deal_kind=data.get("deal_kind", ""),
        period_from=data.get("period_from") or default_period_start(today),
        period_to=data.get("period_to"),
    )


def pipeline_charts(rows: list) -> dict[str, Any]:
    """Chart.js data of the pipeline rows: deals per month stacked by stage, and win rate per month."""
    months = sorted({row.month for row in rows})
    stages = sorted({(row.status, row.substatus) for row in rows})
    counts = {(row.month, row.status, row.substatus): row for row in rows}
    labels = [month.strftime("%Y-%m") for month in months]
    pipeline = {
        "labels": labels,
        "datasets": [
            {
                "label": f"{status} · {substatus}",
                "data": [
                    counts[(m, status, substatus)].deals if (m, status, substatus) in counts else 0
                    for m in months
                ],
                "stack": "deals",
            }
            for status, substatus in stages
        ],
    }
    win_rates = []
    for month in months:
        won = sum(r.deals for r in rows if r.month == month and r.substatus == ReferralSubstatus.WON)
        lost = sum(r.deals for r in rows if r.month == month and r.substatus == ReferralSubstatus.LOST)
        win_rates.append(round(100 * won / (won + lost), 1) if won + lost else None)
    win_rate = {"labels": labels, "datasets": [{"label": "Win rate (%)", "data": win_rates}]}
    return {"pipeline": pipeline, "win_rate": win_rate}


def _filter_form(request) -> InsightFilterForm:
    initial = {"period_from": default_period_start(timezone.localdate()).strftime("%Y-%m")}
    return InsightFilterForm(request.GET or None, initial=initial, organization=request.user.organization)


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def insights(request):
    """Pipeline by stage and month, win rate, deal value, time in each stage; the same as CSV."""
    form = _filter_form(request)
    filters = insight_filters(form, timezone.localdate())
    user = request.user
    figures = insight_selectors.insights_figures(user=user, filters=filters)
    durations = insight_selectors.lifecycle_durations(user=user, filters=filters)
    context = {
        "form": form,
        "filters": filters,
        "rows": figures.rows,
        "summary": figures.summary,
        "durations": durations,
        "durations_sampled": any(row.sampled for row in durations),
        "duration_sample": insight_selectors.DURATION_SAMPLE,
        "charts": pipeline_charts(figures.rows),
        "query": request.GET.urlencode(),
    }
    return render(request, "cosell/insights.html", context)


@capability_required(*REFERRAL_ACCESS, message=DENIED)
def insights_csv(request):
    filters = insight_filters(_filter_form(request), timezone.localdate())
    content = insight_selectors.insights_csv(user=request.user, filters=filters)
    return csv_response(content, f"cosell-insights-{timezone.localdate():%Y-%m-%d}.csv")
