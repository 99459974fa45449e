"""Downloads of the Earnings reports and the background exports (spec/earnings.md §2, §6).

A download takes the page's query string as its filters: the same FilterSet, the same rows.
CSV streams from PostgreSQL COPY; a report too large to stream from a web worker is refused
with a button that starts the same report as a background export.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from earnings import selectors
from earnings.choices import ExportFormat, ExportStatus
from earnings.exports import (
    REPORTS,
    ReportFilterError,
    export_is_expired,
    export_path,
    report_filename,
    report_has_more_than,
    report_rows,
    report_select,
    report_xlsx,
    xlsx_too_large_message,
)
from earnings.models import ExportJob
from earnings.services.exports import export_create
from portal.capabilities import Capability
from portal.files import copy_csv, csv_response
from portal.htmx import htmx_partial
from portal.paging import keyset_page
from portal.tenancy import tenant_route
from portal.views import capability_required, query_without

C = Capability
EXPORT_FIELDS = ("report", "format", "csrfmiddlewaretoken")
EXPORTS_PER_PAGE = 10

viewing = capability_required(C.EARNINGS_VIEW)


@require_GET
@viewing
def download(request, report: str, fmt: str):
    layout = REPORTS.get(report)
    if layout is None or fmt not in ExportFormat.values:
        raise Http404("No such report or format.")
    try:
        rows = report_rows(layout, request.user, request.GET)
    except ReportFilterError as exc:
        return _refused(request, layout, fmt, str(exc), status=400)
    if fmt == ExportFormat.XLSX and report_has_more_than(rows, settings.EARNINGS_XLSX_MAX_ROWS):
        return _refused(request, layout, fmt, xlsx_too_large_message(), status=422, can_export=True)
    if fmt == ExportFormat.CSV and report_has_more_than(rows, settings.EARNINGS_DOWNLOAD_STREAM_MAX_ROWS):
        message = (
            f"This report has more than {settings.EARNINGS_DOWNLOAD_STREAM_MAX_ROWS:,} rows, too many to "
            "download directly. Run it as a background export: you get a link when the file is ready."
        )
        return _refused(request, layout, fmt, message, status=422, can_export=True)
    sql, params = report_select(layout, rows)
    filename = report_filename(layout, fmt, request.GET)
    if fmt == ExportFormat.CSV:
        return csv_response(copy_csv(sql, params), filename)
    return FileResponse(report_xlsx(layout, sql, params), as_attachment=True, filename=filename)


def _export_page(request, **context):
    page = keyset_page(
        selectors.exports(user=request.user),
        field_name="requested_at",
        after=request.GET.get("after"),
        size=EXPORTS_PER_PAGE,
    )
    return {
        "page": page,
        "query_without_cursor": query_without(request, "after"),
        "reports": REPORTS.values(),
        "formats": ExportFormat.choices,
        **context,
    }


@viewing
def export_list(request):
    """The person's background exports, newest first, and the form that starts one."""
    template = "earnings/_export_table.html" if htmx_partial(request) else "earnings/export_list.html"
    return render(request, template, _export_page(request))


@require_POST
@viewing
def export_new(request):
    filters = {name: value for name, value in request.POST.items() if name not in EXPORT_FIELDS}
    try:
        export = export_create(
            report=request.POST.get("report", ""),
            file_format=request.POST.get("format", ExportFormat.CSV),
            filters=filters,
            actor=request.user,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        return render(request, "earnings/export_list.html", _export_page(request, errors=errors), status=400)
    return redirect("earnings:export-detail", pk=export.pk)


@tenant_route(ExportJob)
@viewing
def export_detail(request, pk: int):
    export = _export_or_404(request, pk)
    template = "earnings/_export_progress.html" if htmx_partial(request) else "earnings/export_detail.html"
    return render(request, template, _export_context(export))


@tenant_route(ExportJob)
@viewing
def export_progress(request, pk: int):
    """The htmx progress fragment, polled until the export is Completed or Failed."""
    export = _export_or_404(request, pk)
    return render(request, "earnings/_export_progress.html", _export_context(export))


@tenant_route(ExportJob)
@viewing
def export_file(request, pk: int):
    export = _export_or_404(request, pk)
    if export.status != ExportStatus.COMPLETED:
        raise Http404("This export has no file yet.")
    path = export_path(export)
    if export_is_expired(export) or not export.file_path or not path.exists():
        return render(request, "earnings/export_expired.html", {"export": export}, status=410)
    filename = f"{export.report}-{export.export_id}.{export.file_format}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename)


# --- Helpers ----------------------------------------------------------------------------------------


def _export_or_404(request, pk: int) -> ExportJob:
    export = selectors.export_for_page(user=request.user, pk=pk)
    if export is None:
        raise Http404("No export of yours has this id.")
    return export


def _export_context(export: ExportJob) -> dict:
    return {
        "export": export,
        "report": REPORTS.get(export.report),
        "finished": export.status in (ExportStatus.COMPLETED, ExportStatus.FAILED),
        "expired": export_is_expired(export),
    }


def _refused(request, layout, fmt: str, message: str, *, status: int, can_export: bool = False):
    context = {
        "report": layout,
        "fmt": fmt,
        "message": message,
        "can_export": can_export,
        "filters": [(name, value) for name, value in request.GET.items() if value],
        "query": request.GET.urlencode(),
    }
    return render(request, "earnings/export_refused.html", context, status=status)
