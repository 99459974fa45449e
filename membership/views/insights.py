"""Membership insights pages (spec/membership.md §6): the Marketplace license and VM image version
reports, Surface insights and skilling insights, each with a CSV download of its filtered rows.

Views parse input and read through `membership.selectors.insights`; invalid filter values come back as a
ValidationError and are shown above the table (the page answers 400, an htmx swap 200 so it shows).
Downloads are streamed by PostgreSQL (COPY, through the file writer `portal.files`) with the
report's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from membership.choices import CertificationLevel, Designation
from membership.filters import SurfaceView
from membership.selectors import insights
from portal.capabilities import Capability
from portal.files import copy_csv, csv_response, select_columns
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.views import capability_required, query_without

PEOPLE_PER_PAGE = 50
INSIGHTS_DENIED = "Your roles don't allow the insights reports."
LEVEL_LABELS = dict(CertificationLevel.choices)
DESIGNATION_LABELS = dict(Designation.choices)


def _error_lines(filterset, exc: ValidationError) -> list[str]:
    """Each problem prefixed by the label of the filter it concerns."""
    fields = filterset.form.fields
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    lines = []
    for name, messages in exc.message_dict.items():
        label = fields[name].label if name in fields else ""
        lines.extend(f"{label}: {message}" if label else message for message in messages)
    return lines


def _render(request, template: str, partial: str, context: dict[str, Any]):
    partial_only = htmx_partial(request)
    status = 400 if context.get("errors") and not partial_only else 200
    return render(request, partial if partial_only else template, context, status=status)


def _base_context(request, filterset) -> dict[str, Any]:
    return {
        "filter": filterset,
        "errors": [],
        "query": query_without(request, "after", "page"),
        "query_without_cursor": query_without(request, "after"),
    }


def _download(request, rows_of: Callable[[Any, Any], QuerySet], columns, name: str, back: str):
    try:
        rows = rows_of(request.user, request.GET)
    except ValidationError:
        # The report page shows what is wrong with the filters.
        query = request.GET.urlencode()
        return redirect(reverse(back) + (f"?{query}" if query else ""))
    sql, params = select_columns(rows, columns)
    return csv_response(copy_csv(sql, params), f"{name}-{timezone.localdate():%Y-%m-%d}.csv")


# --- Marketplace insights: license report -------------------------------------------------------------


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def license_report(request):
    """Licences issued through license-managed offers: purchased vs assigned, by country."""
    filterset = insights.license_filterset(request.user, request.GET)
    context = _base_context(request, filterset)
    try:
        rows = insights.license_rows(request.user, request.GET)
    except ValidationError as exc:
        context["errors"] = _error_lines(filterset, exc)
    else:
        context["page"] = keyset_page(rows, field_name="date", after=request.GET.get("after"))
        context["summary"] = insights.license_summary(rows)
    return _render(
        request,
        "membership/insights/license_report.html",
        "membership/insights/_license_results.html",
        context,
    )


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def license_report_download(request):
    return _download(
        request,
        insights.license_rows,
        insights.LICENSE_COLUMNS,
        "marketplace-licenses",
        "membership:license-report",
    )


# --- Marketplace insights: VM image version report ----------------------------------------------------


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def vm_image_report(request):
    """Usage of the VM offers by image version, with the share still on older versions."""
    filterset = insights.vm_image_filterset(request.user, request.GET)
    context = _base_context(request, filterset)
    try:
        rows = insights.vm_image_rows(request.user, request.GET)
    except ValidationError as exc:
        context["errors"] = _error_lines(filterset, exc)
    else:
        context["page"] = keyset_page(rows, field_name="month", after=request.GET.get("after"))
        context["summary"] = insights.vm_image_summary(rows)
    return _render(
        request,
        "membership/insights/vm_image_report.html",
        "membership/insights/_vm_image_results.html",
        context,
    )


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def vm_image_report_download(request):
    return _download(
        request,
        insights.vm_image_rows,
        insights.VM_IMAGE_COLUMNS,
        "vm-image-versions",
        "membership:vm-image-report",
    )


# --- Surface insights ---------------------------------------------------------------------------------


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def surface_insights(request):
    """Everyone who completed a Surface assessment at any location the viewer sees: the New view
    (the selected month) or the Historical view (all time), with the KPI tiles."""
    filterset = insights.surface_filterset(request.user, request.GET)
    context = _base_context(request, filterset)
    context["views"] = SurfaceView.CHOICES
    context["query_without_view"] = query_without(request, "view", "after")
    try:
        rows = insights.surface_rows(request.user, request.GET)
        context["kpis"] = insights.surface_kpis(request.user, request.GET)
    except ValidationError as exc:
        context["errors"] = _error_lines(filterset, exc)
        context["selected_view"] = request.GET.get("view") or SurfaceView.NEW
    else:
        context["selected_view"] = context["kpis"].view
        context["page"] = keyset_page(rows, field_name="completed_on", after=request.GET.get("after"))
    return _render(
        request,
        "membership/insights/surface_insights.html",
        "membership/insights/_surface_results.html",
        context,
    )


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def surface_insights_download(request):
    return _download(
        request,
        insights.surface_rows,
        insights.SURFACE_COLUMNS,
        "surface-insights",
        "membership:surface-insights",
    )


# --- Skilling insights --------------------------------------------------------------------------------


def _person(row: dict[str, Any]) -> dict[str, Any]:
    certifications = [
        {
            **certification,
            "level_label": LEVEL_LABELS.get(certification["level"], certification["level"]),
            "designation_label": DESIGNATION_LABELS.get(
                certification["designation"], certification["designation"]
            ),
        }
        for certification in row["certifications"]
    ]
    return {**row, "certifications": certifications}


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def skilling_insights(request):
    """Certifications by person and, for the active ones, people per solution area and level."""
    filterset = insights.skilling_filterset(request.user, request.GET)
    context = _base_context(request, filterset)
    context["levels"] = CertificationLevel.choices
    try:
        people = insights.skilling_people(request.user, request.GET)
        context["areas"] = insights.skilling_by_designation(request.user, request.GET)
    except ValidationError as exc:
        context["errors"] = _error_lines(filterset, exc)
    else:
        page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
        context["page_obj"] = page
        context["people"] = [_person(row) for row in page.object_list]
        context["query_without_page"] = query_without(request, "page")
    return _render(
        request,
        "membership/insights/skilling_insights.html",
        "membership/insights/_skilling_results.html",
        context,
    )


@capability_required(Capability.INSIGHTS_VIEW, message=INSIGHTS_DENIED)
def skilling_insights_download(request):
    return _download(
        request,
        insights.skilling_rows,
        insights.skilling_columns(),
        "skilling-by-person",
        "membership:skilling-insights",
    )
