"""Vendor file uploads in the admin through the import pipeline (portal.imports), one way for every
admin: the upload page (the file, "valid rows only", and whatever the admin's form adds, such as
the organization whose rows the file holds), then the import job's page — its progress, counts,
every problem (row, column, value, reason), what the job made, and the result file.

The portal's own job page shows a job to the members of its organization; the vendor's staff,
who belong to none, follow the imports they start here.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from portal.imports import Importer
from portal.imports.forms import ImportForm
from portal.imports.pipeline import result_file_name
from portal.jobs import JobRun
from portal.uploads import UploadRejected


def layout_help(importer: Importer) -> str:
    columns = ", ".join(
        column.name if column.required else f"{column.name} (optional)" for column in importer.layout.columns
    )
    return f"CSV, TSV or XLSX (or a ZIP holding one) with the columns: {columns}."


class ImportJobAdminMixin:
    """For a ModelAdmin whose rows come from a file: `import_page` starts an import and sends the
    admin to the job's page, added to the admin's URLs by `import_job_urls`."""

    import_form_class = ImportForm
    import_template = "admin/import_file.html"

    def import_importer(self, request) -> Importer:
        raise NotImplementedError

    def may_import(self, request) -> bool:
        return self.has_add_permission(request)

    def import_next(self, job: JobRun) -> dict[str, str] | None:
        """What the job made, as {"url", "label"} for its page (default: the loader's `next`)."""
        return (job.result or {}).get("next")

    def import_rows_url(self, job: JobRun) -> str | None:
        """Where the imported rows are listed: the changelist (of the job's organization, if any)."""
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        if job.organization_id and any(f.name == "organization" for f in self.opts.fields):
            return f"{changelist}?organization__id__exact={job.organization_id}"
        return changelist

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
        if form.fields["file"].help_text == ImportForm.base_fields["file"].help_text:
            form.fields["file"].help_text = layout_help(importer)  # unless the form says more
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
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import job #{job.pk}: {job.parameters.get('file_name', '')}",
            "job": job,
            "result": job.result or {},
            "result_url": reverse(f"admin:{self._import_url_name('import_result')}", args=[job.pk]),
            "rows_url": self.import_rows_url(job),
            "next": self.import_next(job) if job.is_finished else None,
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
