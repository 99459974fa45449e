"""Shared view pieces: tenant-scoped list/detail views, the status page and the job pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.generic import DetailView, ListView

from accounts.capabilities import Capability, can
from portal.htmx import htmx_partial
from portal.models import JobRun
from portal.status import run_checks
from portal.tenancy import get_visible_or_404


def require_capability(request, capability: str, message: str = "Your roles don't allow this page.") -> None:
    """Refuses (403) a person whose roles lack `capability`; the same table the API uses."""
    if not can(request.user, capability):
        raise PermissionDenied(message)


class CapabilityRequiredMixin:
    """Refuses (403) people whose roles lack `capability`; the same table the API uses."""

    capability: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if self.capability:
            require_capability(request, self.capability)
        return super().dispatch(request, *args, **kwargs)


class TenantListView(CapabilityRequiredMixin, ListView):
    """A filtered, paginated list of the user's organization's rows.

    One view, two renderings: htmx requests get `partial_template_name` (the table only).
    """

    filterset_class: Any = None
    partial_template_name: str | None = None
    paginate_by = 50
    select_related: tuple[str, ...] = ()

    def get_queryset(self):
        queryset = self.model.objects.visible_to(self.request.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET, queryset=queryset, request=self.request)
            queryset = self.filterset.qs
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context

    def get_template_names(self):
        if self.partial_template_name and htmx_partial(self.request):
            return [self.partial_template_name]
        return super().get_template_names()


class TenantDetailView(CapabilityRequiredMixin, DetailView):
    """One row of the user's organization; any other row is a 404."""

    select_related: tuple[str, ...] = ()

    def get_object(self, queryset=None):
        queryset = self.model.objects.all()
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        return get_visible_or_404(queryset, self.request.user, pk=self.kwargs["pk"])


def status_page(request):
    return render(request, "portal/status.html", {"checks": run_checks()})


def status_health(request):
    """Liveness for load balancers and docker-compose: 200 when the database and Redis answer."""
    checks = run_checks(include_workers=request.GET.get("workers") == "1")
    healthy = all(check.ok for check in checks)
    body = {"status": "ok" if healthy else "error", "checks": {c.name: c.ok for c in checks}}
    return JsonResponse(body, status=200 if healthy else 503)


class JobListView(TenantListView):
    model = JobRun
    capability = Capability.JOBS_VIEW
    template_name = "portal/job_list.html"
    paginate_by = 50


class JobDetailView(TenantDetailView):
    model = JobRun
    capability = Capability.JOBS_VIEW
    template_name = "portal/job_detail.html"


class JobProgressView(TenantDetailView):
    """The htmx progress bar: polled until the run finishes."""

    model = JobRun
    capability = Capability.JOBS_VIEW
    template_name = "portal/_job_progress.html"
    context_object_name = "job"


def _api_problem(request, status: int, title: str, detail: str) -> JsonResponse:
    body = {
        "type": f"https://partner-portal.example/problems/{title.lower().replace(' ', '_')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.get_full_path(),
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def page_not_found(request, exception):
    """API callers get a problem+json 404 even for URLs no route matches; people get the page."""
    if request.path.startswith("/api/"):
        return _api_problem(request, 404, "Not Found", "No such resource.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return _api_problem(request, 500, "Internal Server Error", "Something went wrong on our side.")
    return defaults.server_error(request)


def show_errors(request, exc) -> None:
    """A service's ValidationError as messages on the next page."""
    for message in exc.messages:
        messages.error(request, message)


def form_errors(form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's ValidationError on the form: field-keyed messages on their fields (`aliases`
    maps a service field to the form's name for it), the rest at the top of the form."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for field, messages_ in exc.message_dict.items():
        name = (aliases or {}).get(field, field)
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


def query_without(request, *names: str) -> str:
    """The page's query string minus `names` (e.g. the cursor, so filters survive paging)."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
