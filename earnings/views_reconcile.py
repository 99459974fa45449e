"""Reconciliation pages: upload the partner's records, map their columns, follow the import job
that reads and matches them, see and download the result.

Between the upload and the mapping step the file waits in the default storage under a random
name; the session holds that name and a token the mapping form must send back. Confirming the
mapping starts an import job (portal.imports, earnings.imports_reconcile); its page shows the
progress, every problem of the file and the result file, and links to the reconciliation it made.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from earnings import selectors
from earnings.choices import ReconciliationLineKind
from earnings.forms_reconcile import ReconcileMappingForm, ReconcileUploadForm
from earnings.models import Reconciliation
from earnings.reconciliation import FIELDS, mapping_guess
from earnings.services.reconciliation import reconciliation_start, staged_delete, staged_open, staged_save
from portal.capabilities import Capability
from portal.files import csv_response
from portal.imports.pipeline import result_file_name
from portal.models import JobRun
from portal.paging import keyset_page
from portal.tenancy import tenant_route
from portal.uploads import UploadRejected
from portal.views import TenantDetailView, capability_required, query_without

C = Capability
SESSION_KEY = "earnings.reconcile"
LINES_PER_PAGE = 100
RECONCILIATIONS_PER_PAGE = 20


def _reconciliation_or_404(request, pk: int) -> Reconciliation:
    reconciliation = selectors.reconciliation_for_page(user=request.user, pk=pk)
    if reconciliation is None:
        raise Http404("No reconciliation of your organization has this id.")
    return reconciliation


def _kind(request) -> str | None:
    kind = request.GET.get("kind")
    return kind if kind in ReconciliationLineKind.values else None


@capability_required(C.EARNINGS_VIEW)
def reconcile_list(request):
    """The organization's reconciliations, newest first."""
    page = keyset_page(
        selectors.reconciliations(user=request.user),
        field_name="created_at",
        after=request.GET.get("after"),
        size=RECONCILIATIONS_PER_PAGE,
    )
    context = {
        "page": page,
        "query_without_cursor": query_without(request, "after"),
        "unfinished": selectors.reconciliation_jobs_unfinished(user=request.user),
    }
    return render(request, "earnings/reconcile_list.html", context)


class ReconcileDetailView(TenantDetailView):
    """Counts, totals per side and currency, and the lines of one kind (a tab) or all of them."""

    model = Reconciliation
    capability = C.EARNINGS_VIEW
    template_name = "earnings/reconcile_detail.html"
    context_object_name = "reconciliation"

    def get_object(self, queryset=None):
        return _reconciliation_or_404(self.request, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reconciliation, user, kind = self.object, self.request.user, _kind(self.request)
        counts = {
            ReconciliationLineKind.MATCHED: reconciliation.matched_count,
            ReconciliationLineKind.AMOUNT_DIFFERENCE: reconciliation.difference_count,
            ReconciliationLineKind.PARTNER_ONLY: reconciliation.partner_only_count,
            ReconciliationLineKind.PORTAL_ONLY: reconciliation.portal_only_count,
        }
        lines = selectors.reconciliation_lines(user=user, reconciliation=reconciliation, kind=kind)
        context.update(
            kind=kind,
            tabs=[(value, label, counts[value]) for value, label in ReconciliationLineKind.choices],
            total_count=sum(counts.values()),
            totals=selectors.reconciliation_totals(
                selectors.reconciliation_lines(user=user, reconciliation=reconciliation)
            ),
            page_obj=Paginator(lines.select_related("earning"), LINES_PER_PAGE).get_page(
                self.request.GET.get("page")
            ),
            query_without_page=f"kind={kind}" if kind else "",
            mapping=_mapping_shown(reconciliation.column_mapping),
            job=(
                selectors.reconciliation_job_for_page(user=user, pk=reconciliation.job_id)
                if reconciliation.job_id
                else None
            ),
        )
        return context


def _mapping_shown(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return [(field.label, mapping[field.name]) for field in FIELDS if mapping.get(field.name)]


@tenant_route(Reconciliation)
@require_GET
@capability_required(C.EARNINGS_VIEW, message="Your roles don't allow this download.")
def reconcile_csv(request, pk: int):
    """The result (or one kind of line with `?kind=`) as CSV, streamed from PostgreSQL."""
    reconciliation = _reconciliation_or_404(request, pk)
    kind = _kind(request)
    lines = selectors.reconciliation_lines(user=request.user, reconciliation=reconciliation, kind=kind)
    name = f"reconciliation-{reconciliation.pk}{f'-{kind}' if kind else ''}.csv"
    return csv_response(selectors.reconciliation_csv(lines), name)


@capability_required(C.EARNINGS_RECONCILE, message="Your roles don't allow reconciling earnings.")
def reconcile_new(request):
    """Step 1 (upload) and step 2 (map the columns, `?token=`), then the import job's page."""
    token = request.POST.get("token") or request.GET.get("token")
    if token is not None:
        return _mapping_step(request, token)
    form = ReconcileUploadForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            staged = staged_save(upload=form.cleaned_data["file"])
        except UploadRejected as exc:
            rejection = exc
        else:
            _staged_discard(request)
            token = secrets.token_urlsafe(16)
            request.session[SESSION_KEY] = {
                "token": token,
                "organization_id": request.user.organization_id,
                **staged.as_session(),
            }
            return redirect(f"{request.path}?token={token}")
    return render(request, "earnings/reconcile_form.html", {"form": form, "rejection": rejection})


def _mapping_step(request, token: str):
    staged = request.session.get(SESSION_KEY)
    if (
        not staged
        or not secrets.compare_digest(staged["token"], token)
        or staged["organization_id"] != request.user.organization_id
    ):
        messages.error(request, "That file is no longer here; upload it again.")
        return redirect("earnings:reconcile-new")
    if request.method != "POST":
        initial = ReconcileMappingForm.initial_for(token, mapping_guess(staged["columns"]))
        form = ReconcileMappingForm(initial=initial, columns=staged["columns"])
        return _mapping_page(request, form, staged)
    form = ReconcileMappingForm(request.POST, columns=staged["columns"])
    if not form.is_valid():
        return _mapping_page(request, form, staged)
    data = form.cleaned_data
    try:
        with staged_open(staged["path"]) as upload:
            job = reconciliation_start(
                actor=request.user,
                upload=upload,
                file_name=staged["file_name"],
                mapping=form.mapping,
                tolerance=data["amount_tolerance"],
                payment_month=data["payment_month"],
                payment_id=data["payment_id"],
                valid_rows_only=data["valid_rows_only"],
            )
    except FileNotFoundError:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, "That file is no longer here; upload it again.")
        return redirect("earnings:reconcile-new")
    except UploadRejected as exc:
        # The file stays staged: a wrong column choice is fixed here without uploading again.
        return _mapping_page(request, form, staged, rejection=exc)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _mapping_page(request, form, staged)
    # The job keeps its own copy of the file.
    _staged_discard(request)
    return redirect("earnings:reconcile-job", pk=job.pk)


def _mapping_page(request, form, staged, rejection=None):
    context = {"form": form, "staged": staged, "rejection": rejection}
    return render(request, "earnings/reconcile_mapping.html", context)


def _staged_discard(request) -> None:
    staged = request.session.pop(SESSION_KEY, None)
    if staged:
        staged_delete(staged.get("path"))


# --- The import job -------------------------------------------------------------------------------


def _job_or_404(request, pk: int) -> JobRun:
    job = selectors.reconciliation_job_for_page(user=request.user, pk=pk)
    if job is None:
        raise Http404("No reconciliation job of your organization has this id.")
    return job


class ReconcileJobView(TenantDetailView):
    """The import job reading a file: progress, then every problem found or the counts, the
    result file (each row with its outcome) and the link to the reconciliation it made."""

    model = JobRun
    capability = C.EARNINGS_VIEW
    template_name = "earnings/reconcile_job.html"
    context_object_name = "job"

    def get_object(self, queryset=None):
        return _job_or_404(self.request, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        reconciliation_id = (job.result or {}).get("reconciliation")
        context.update(
            reconciliation=(
                selectors.reconciliation_for_page(user=self.request.user, pk=reconciliation_id)
                if reconciliation_id
                else None
            ),
            mapping=_mapping_shown(job.parameters.get("headers") or {}),
            failure=next(
                (error["message"] for error in job.errors if "row" not in error and error.get("message")),
                None,
            ),
        )
        return context


class ReconcileJobProgressView(ReconcileJobView):
    """The job's progress and outcome alone, polled by htmx until the job and its result file are done."""

    template_name = "earnings/reconcile_job_progress.html"


@tenant_route(JobRun)
@require_GET
@capability_required(C.EARNINGS_VIEW, message="Your roles don't allow this download.")
def reconcile_job_result(request, pk: int):
    """The file as read: each row with its outcome (matched, amount differs, …) and its problems."""
    job = _job_or_404(request, pk)
    path = (job.result or {}).get("result_file")
    if not path or not default_storage.exists(path):
        raise Http404("This job has no result file.")
    response = FileResponse(
        default_storage.open(path, "rb"), as_attachment=True, filename=result_file_name(job)
    )
    response["Content-Type"] = "text/csv; charset=utf-8"
    return response
