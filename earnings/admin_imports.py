"""Vendor file uploads in the admin through the import pipeline (portal.imports): the upload page
(an organization, the file, "valid rows only"), then the import job's page — its progress, counts,
every problem (row, column, value, reason) and the result file.

The portal's own job page shows a job to the members of its organization; the vendor's staff,
who belong to none, follow the imports they start for an organization here.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import Organization
from portal.imports import Importer
from portal.imports.forms import ImportForm
from portal.imports.pipeline import result_file_name
from portal.jobs import JobRun
from portal.uploads import UploadRejected


class OrganizationImportForm(ImportForm):
    """The pipeline's upload form with the organization whose rows the file holds."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("legal_name"))
    field_order = ["organization", "file", "valid_rows_only"]


def layout_help(importer: Importer) -> str:
    columns = ", ".join(
        column.name if column.required else f"{column.name} (optional)" for column in importer.layout.columns
    )
    return f"CSV, TSV or XLSX (or a ZIP holding one) with the columns: {columns}."


class ImportJobAdminMixin:
    """For a ModelAdmin whose rows come from a file: `import_page` starts an import and sends the
    admin to the job's page, added to the admin's URLs by `import_job_urls`."""

    import_form_class = OrganizationImportForm
    import_template = "admin/import_file.html"

    def import_importer(self, request) -> Importer:
        raise NotImplementedError

    def may_import(self, request) -> bool:
        raise NotImplementedError

    def import_start(self, request, form) -> JobRun:
        """Queue the job for the form's file (UploadRejected when it cannot be imported at all)."""
        raise NotImplementedError

    def _import_url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def import_job_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "import/<int:job_id>/", view(self.import_job_view), name=self._import_url_name("import_job")
            ),
            path(
                "import/<int:job_id>/result/",
                view(self.import_result_view),
                name=self._import_url_name("import_result"),
            ),
        ]

    def import_page(self, request, *, title: str, form_kwargs: dict | None = None):
        """The upload form; a file that cannot be imported at all is shown here with its reasons."""
        if not self.may_import(request):
            raise PermissionDenied
        importer = self.import_importer(request)
        form = self.import_form_class(request.POST or None, request.FILES or None, **(form_kwargs or {}))
        form.fields["file"].help_text = layout_help(importer)
        rejection = None
        if request.method == "POST" and form.is_valid():
            try:
                job = self.import_start(request, form)
            except UploadRejected as exc:
                rejection = exc
            else:
                self.message_user(
                    request, f"Import job #{job.pk}: {job.parameters['file_name']} is being imported."
                )
                return HttpResponseRedirect(
                    reverse(f"admin:{self._import_url_name('import_job')}", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "rejection": rejection,
            "opts": self.opts,
        }
        return TemplateResponse(request, self.import_template, context)

    def _job_or_404(self, request, job_id: int) -> JobRun:
        if not self.may_import(request):
            raise PermissionDenied
        job = JobRun.objects.select_related("organization").filter(pk=job_id).first()
        if job is None or job.kind != self.import_importer(request).kind:
            raise Http404("No import job of this kind has this id.")
        return job

    def import_job_view(self, request, job_id: int):
        job = self._job_or_404(request, job_id)
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import job #{job.pk}: {job.parameters.get('file_name', '')}",
            "job": job,
            "result": job.result or {},
            "result_url": reverse(f"admin:{self._import_url_name('import_result')}", args=[job.pk]),
            "rows_url": f"{changelist}?organization__id__exact={job.organization_id}",
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/import_job.html", context)

    def import_result_view(self, request, job_id: int):
        job = self._job_or_404(request, job_id)
        stored = (job.result or {}).get("result_file")
        if not stored or not default_storage.exists(stored):
            raise Http404("This job has no result file.")
        return FileResponse(
            default_storage.open(stored, "rb"),
            as_attachment=True,
            filename=result_file_name(job),
            content_type="text/csv; charset=utf-8",
        )
