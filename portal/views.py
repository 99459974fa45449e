"""Shared view pieces: tenant-scoped list/detail views, the status page and the job pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.generic import DetailView, ListView

from portal.capabilities import Capability, can_any
from portal.htmx import htmx_partial
from portal.imports.pipeline import result_file_name
from portal.models import JobRun
from portal.paging import LIST_PAGE_SIZE, LookaheadPaginator
from portal.status import run_checks
from portal.tenancy import get_visible_or_404

T = TypeVar("T")
DENIED = "Your roles don't allow this page."


def require_capability(request, *capabilities: str, message: str = DENIED) -> None:
    """The one page check: 403 unless the person's roles grant one of `capabilities`.

    The same table the API's policy reads (`portal.capabilities`). Views that decide on the row
    (e.g. a referral the person owns) call it with the capability the row needs.
    """
    if not can_any(request.user, *capabilities):
        raise PermissionDenied(message)


def capability_required(*capabilities: str, message: str = DENIED) -> Callable:
    """Function-view decorator: `require_capability(request, *capabilities)` before the view.

    The view carries `required_capabilities`, which the route walk reads to prove every page
    names what it needs (tests/portal/test_page_capabilities.py).
    """
    if not capabilities:
        raise ValueError("Name at least one capability; use @member_page for a page open to every member.")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(request, *args: Any, **kwargs: Any):
            require_capability(request, *capabilities, message=message)
            return view(request, *args, **kwargs)

        checked.required_capabilities = capabilities
        return checked

    return decorator


def member_page(view: Callable) -> Callable:
    """Marks a page open to every signed-in member who passed the second factor (e.g. their profile)."""
    view.required_capabilities = ()
    return view


class CapabilityRequiredMixin:
    """Class views: `capability` (or `capabilities`, any of them) checked by `require_capability`.

    `capabilities = ()` on a class marks a page open to every member, as `@member_page` does.
    """

    capability: str | None = None
    capabilities: tuple[str, ...] | None = None
    denied_message: str = DENIED

    @classmethod
    def required(cls) -> tuple[str, ...] | None:
        if cls.capabilities is not None:
            return tuple(cls.capabilities)
        return (cls.capability,) if cls.capability else None

    def dispatch(self, request, *args, **kwargs):
        required = self.required()
        if required:
            require_capability(request, *required, message=self.denied_message)
        return super().dispatch(request, *args, **kwargs)


class TenantListView(CapabilityRequiredMixin, ListView):
    """A filtered, paginated list of the user's organization's rows.

    One view, two renderings: htmx requests get `partial_template_name` (the table only).
    """

    filterset_class: Any = None
    partial_template_name: str | None = None
    paginate_by = LIST_PAGE_SIZE
    paginator_class = LookaheadPaginator
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
        context["query_without_page"] = query_without(self.request, "page")
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


@member_page
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

    def get_queryset(self):
        # A job's parameters and result can hold whole uploads (an import's rows): the list shows
        # neither, so it never loads them.
        return super().get_queryset().defer("parameters", "result", "errors")


class JobDetailView(TenantDetailView):
    model = JobRun
    capability = Capability.JOBS_VIEW
    template_name = "portal/job_detail.html"


class JobResultFileView(TenantDetailView):
    """An import's result file: the rows of the file with their outcome and problems."""

    model = JobRun
    capability = Capability.JOBS_VIEW

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        path = (job.result or {}).get("result_file")
        if not path or not default_storage.exists(path):
            raise Http404("This job has no result file.")
        response = FileResponse(default_storage.open(path, "rb"), as_attachment=True)
        response["Content-Type"] = "text/csv; charset=utf-8"
        response["Content-Disposition"] = f'attachment; filename="{result_file_name(job)}"'
        return response


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


def post_action(
    request,
    action: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    back: str | Callable[[T | None], str],
) -> HttpResponse:
    """The shape of a POST action on a page: call the service, show its ValidationError or the
    success message, and redirect (POST/redirect/GET) to `back`.

    `success` and `back` may be callables of the service's result (`back` gets None on an error).
    """
    try:
        result = action()
    except ValidationError as exc:
        show_errors(request, exc)
        return redirect(back(None) if callable(back) else back)
    messages.success(request, success(result) if callable(success) else success)
    return redirect(back(result) if callable(back) else back)


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
