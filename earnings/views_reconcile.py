"""Reconciliation pages: upload the partner's records, map their columns, see and download the result.

Between the upload and the mapping step the file waits in the default storage under a random
name; the session holds that name and a token the mapping form must send back.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from earnings import selectors
from earnings.choices import ReconciliationLineKind
from earnings.forms_reconcile import ReconcileMappingForm, ReconcileUploadForm
from earnings.models import Reconciliation
from earnings.reconciliation import FIELDS, mapping_guess
from earnings.services.reconciliation import reconciliation_create, staged_delete, staged_open, staged_save
from portal.capabilities import Capability
from portal.files import csv_response
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
    context = {"page": page, "query_without_cursor": query_without(request, "after")}
    return render(request, "earnings/reconcile_list.html", context)


class ReconcileDetailView(TenantDetailView):
    """Counts, totals per side and the lines of one kind (a tab) or all of them."""

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
            mapping=[
                (field.label, reconciliation.column_mapping[field.name])
                for field in FIELDS
                if field.name in reconciliation.column_mapping
            ],
        )
        return context


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
    """Step 1 (upload) and step 2 (map the columns, `?token=`), then the result page."""
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
            reconciliation = reconciliation_create(
                actor=request.user,
                upload=upload,
                file_name=staged["file_name"],
                mapping=form.mapping,
                tolerance=data["amount_tolerance"],
                payment_month=data["payment_month"],
                payment_id=data["payment_id"],
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
    _staged_discard(request)
    messages.success(request, f"{staged['file_name']} is reconciled.")
    return redirect("earnings:reconcile-detail", pk=reconciliation.pk)


def _mapping_page(request, form, staged, rejection=None):
    context = {"form": form, "staged": staged, "rejection": rejection}
    return render(request, "earnings/reconcile_mapping.html", context)


def _staged_discard(request) -> None:
    staged = request.session.pop(SESSION_KEY, None)
    if staged:
        staged_delete(staged.get("path"))
