"""Reconciliation pages: upload the partner's records, map their columns, see and download the result.

Between the upload and the mapping step the file waits in the default storage under a random
name; the session holds that name and a token the mapping form must send back.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from earnings import reconciliation as service
from earnings.choices import ReconciliationLineKind
from earnings.forms_reconcile import ReconcileMappingForm, ReconcileUploadForm
from earnings.models import Reconciliation, ReconciliationLine
from portal.capabilities import Capability, can
from portal.files import csv_response
from portal.tenancy import get_visible_or_404, tenant_route
from portal.uploads import UploadRejected
from portal.views import TenantDetailView, TenantListView

C = Capability
SESSION_KEY = "earnings.reconcile"
LINES_PER_PAGE = 100


def _lines(user, reconciliation: Reconciliation, kind: str | None = None):
    lines = ReconciliationLine.objects.visible_to(user).filter(reconciliation=reconciliation)
    return lines.filter(kind=kind) if kind else lines


def _kind(request) -> str | None:
    kind = request.GET.get("kind")
    return kind if kind in ReconciliationLineKind.values else None


class ReconcileListView(TenantListView):
    model = Reconciliation
    capability = C.EARNINGS_VIEW
    template_name = "earnings/reconcile_list.html"

    def get_queryset(self):
        self.filterset = None
        return Reconciliation.objects.visible_to(self.request.user).select_related("created_by")


class ReconcileDetailView(TenantDetailView):
    """Counts, totals per side and the lines of one kind (a tab) or all of them."""

    model = Reconciliation
    capability = C.EARNINGS_VIEW
    template_name = "earnings/reconcile_detail.html"
    context_object_name = "reconciliation"

    def get_object(self, queryset=None):
        queryset = Reconciliation.objects.visible_to(self.request.user).select_related("created_by")
        return get_visible_or_404(queryset, self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reconciliation, user, kind = self.object, self.request.user, _kind(self.request)
        counts = {
            ReconciliationLineKind.MATCHED: reconciliation.matched_count,
            ReconciliationLineKind.AMOUNT_DIFFERENCE: reconciliation.difference_count,
            ReconciliationLineKind.PARTNER_ONLY: reconciliation.partner_only_count,
            ReconciliationLineKind.PORTAL_ONLY: reconciliation.portal_only_count,
        }
        lines = (
            _lines(user, reconciliation, kind).select_related("earning").order_by("kind", "row_number", "id")
        )
        context.update(
            kind=kind,
            tabs=[(value, label, counts[value]) for value, label in ReconciliationLineKind.choices],
            total_count=sum(counts.values()),
            totals=service.reconciliation_totals(_lines(user, reconciliation)),
            page_obj=Paginator(lines, LINES_PER_PAGE).get_page(self.request.GET.get("page")),
            query_without_page=f"kind={kind}" if kind else "",
            mapping=[
                (field.label, reconciliation.column_mapping[field.name])
                for field in service.FIELDS
                if field.name in reconciliation.column_mapping
            ],
        )
        return context


@tenant_route(Reconciliation)
@require_GET
def reconcile_csv(request, pk: int):
    """The result (or one kind of line with `?kind=`) as CSV, streamed from PostgreSQL."""
    if not can(request.user, C.EARNINGS_VIEW):
        raise PermissionDenied("Your roles don't allow this download.")
    reconciliation = get_visible_or_404(Reconciliation, request.user, pk=pk)
    kind = _kind(request)
    lines = _lines(request.user, reconciliation, kind)
    name = f"reconciliation-{reconciliation.pk}{f'-{kind}' if kind else ''}.csv"
    return csv_response(service.reconciliation_csv(lines), name)


def reconcile_new(request):
    """Step 1 (upload) and step 2 (map the columns, `?token=`), then the result page."""
    if not can(request.user, C.EARNINGS_RECONCILE):
        raise PermissionDenied("Your roles don't allow reconciling earnings.")
    token = request.POST.get("token") or request.GET.get("token")
    if token is not None:
        return _mapping_step(request, token)
    form = ReconcileUploadForm(request.POST or None, request.FILES or None)
    rejection = None
    if request.method == "POST" and form.is_valid():
        try:
            staged = service.staged_save(upload=form.cleaned_data["file"])
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
        initial = ReconcileMappingForm.initial_for(token, service.mapping_guess(staged["columns"]))
        form = ReconcileMappingForm(initial=initial, columns=staged["columns"])
        return _mapping_page(request, form, staged)
    form = ReconcileMappingForm(request.POST, columns=staged["columns"])
    if not form.is_valid():
        return _mapping_page(request, form, staged)
    data = form.cleaned_data
    try:
        with service.staged_open(staged["path"]) as upload:
            reconciliation = service.reconciliation_create(
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
        service.staged_delete(staged.get("path"))
