"""The import pipeline: every file upload of the product, from the form to the result file.

`import_start` (in the request) checks what can be checked at once — the file's type, size and
archive, and its header against the layout — keeps the file and queues a `JobRun`. The job
(`import_run`) reads the file a chunk at a time, checks each chunk vectorised, COPYs it into the
staging table, runs the rules across rows in SQL, then either rejects the whole file (the default,
when any row has a problem) or hands the valid rows to the layout's loader in one transaction, and
writes the result file (the file's rows with `Outcome` and `Errors` columns) through the one file
writer. The same file imported twice changes nothing the second time: loaders upsert on the key.

Errors have one shape everywhere (pages, admin, API, the job's `errors`): line (the header is
line 1), column, value as written, reason — `portal.uploads.RowError`.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from portal.choices import JobStatus
from portal.files import copy_to_file
from portal.imports.layout import HeaderMatch, Layout, check_chunk
from portal.imports.reader import open_table
from portal.imports.staging import CREATED, REJECTED, UNCHANGED, UPDATED, Staging
from portal.jobs import JobRun, job_create, job_finish, job_start
from portal.uploads import RowError, UploadRejected, check_size

logger = logging.getLogger(__name__)

#: Problems listed on the job (and the page); the result file holds every one.
MAX_LISTED_ERRORS = 1000
STAGED_DIR = "imports/staged"
RESULT_DIR = "imports/results"
JOB_KIND_PREFIX = "import:"
RESULT_FILE_LOST = "The result file could not be written; the rows were imported (the counts above)."

#: A loader writes the staged valid rows (`Staging.upsert` or its own SQL) and may return a summary.
Loader = Callable[[Staging, JobRun], dict[str, Any] | None]
#: Checks in Python over the staged rows (e.g. an eligibility engine), after the layout's own rules
#: and before the all-or-nothing decision: the problems it finds count like any other.
Assessor = Callable[[Staging, JobRun], list[RowError]]


@dataclass(frozen=True)
class Importer:
    """A layout and what to do with its valid rows: the unit the pages, the admin and the API use."""

    layout: Layout
    load: Loader
    #: Called once the rows are written and the job finished (signals, summaries).
    after: Callable[[JobRun, dict[str, Any]], None] | None = None
    assess: Assessor | None = None
    #: Writes the result file itself (a vendor's layout, e.g. Microsoft's BAM result): given the
    #: staging, the header, the job and whether the rows were loaded, returns the stored file's path
    #: and what to add to the job's result. Default: the file's rows with `Outcome` and `Errors`.
    write_result: Callable[[Staging, HeaderMatch, JobRun, bool], tuple[str, dict[str, Any]]] | None = None

    @property
    def kind(self) -> str:
        return JOB_KIND_PREFIX + self.layout.name


_IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    """Make an importer known to the job runner (apps register theirs when they load)."""
    _IMPORTERS[importer.layout.name] = importer
    return importer


def importer_for(name: str) -> Importer:
    return _IMPORTERS[name]


def job_layout(importer: Importer, job: JobRun) -> Layout:
    """The layout a job reads: the importer's, with the file columns the person chose, if any."""
    headers = job.parameters.get("headers")
    return importer.layout.with_headers(headers) if headers else importer.layout


# --- In the request ---------------------------------------------------------------------------------


def import_check_header(
    importer: Importer, upload: IO[bytes], *, headers: dict[str, str] | None = None
) -> HeaderMatch:
    """The file opened and its header matched, or UploadRejected saying what is wrong.

    `headers`: which file column the person chose for each layout column (a file with headers of
    its own); without it, columns are matched by their names and aliases.
    """
    layout = importer.layout.with_headers(headers) if headers else importer.layout
    with open_table(upload) as table:
        return layout.match_header(table.header)


def import_start(
    importer: Importer,
    upload,
    *,
    actor: Any,
    organization_id: int | None,
    valid_rows_only: bool = False,
    parameters: dict[str, Any] | None = None,
    max_bytes: int | None = None,
    headers: dict[str, str] | None = None,
) -> JobRun:
    """Check the file's type, size and header now; keep it and queue the import job.

    Raises UploadRejected (nothing kept, no job) when the file cannot be imported at all.
    """
    check_size(upload, max_bytes=max_bytes)
    match = import_check_header(importer, upload, headers=headers)
    upload.seek(0)
    name = getattr(upload, "name", "") or "upload"
    path = default_storage.save(f"{STAGED_DIR}/{secrets.token_hex(16)}", File(upload, name=name))
    job = job_create(
        kind=importer.kind,
        organization_id=organization_id,
        actor=actor,
        parameters={
            **(parameters or {}),
            "layout": importer.layout.name,
            "file_name": name.rsplit("/", 1)[-1],
            "staged_file": path,
            "valid_rows_only": valid_rows_only,
            "unknown_columns": match.unknown,
            **({"headers": headers} if headers else {}),
        },
    )
    from portal.tasks import import_task  # noqa: PLC0415 - tasks import this module

    transaction.on_commit(lambda: import_task.delay(job.pk))
    return job


# --- The job ----------------------------------------------------------------------------------------


def import_run(job_id: int) -> dict[str, Any]:
    """Run an import job to its end; a rerun (a worker lost mid-run) starts again from the file."""
    job = JobRun.objects.get(pk=job_id)
    if job.is_finished:
        if job.result.get("result_file_pending"):
            # The worker was lost between the import and its result file: the rows are in.
            result = {key: value for key, value in job.result.items() if key != "result_file_pending"}
            result["result_file_error"] = RESULT_FILE_LOST
            JobRun.objects.filter(pk=job.pk).update(result=result)
            Staging(
                layout=importer_for(job.parameters["layout"]).layout, job_id=job.pk, organization_id=None
            ).drop()
            return result
        return job.result
    importer = importer_for(job.parameters["layout"])
    job_start(job)
    with default_storage.open(job.parameters["staged_file"], "rb") as source:
        try:
            result = _import(importer, job, source)
        except UploadRejected as exc:
            result = _reject(job, exc.message, exc.errors, total=len(exc.errors))
    if job.parameters.get("keep_file") is not True:
        default_storage.delete(job.parameters["staged_file"])
    return result


class _Phases:
    """Seconds spent in each phase of a run, kept in the job's result (where an import's time goes)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def rounded(self) -> dict[str, float]:
        return {name: round(seconds, 3) for name, seconds in self.seconds.items()}


def _staged_chunks(layout: Layout, header: HeaderMatch, table, staging: Staging, job: JobRun, phase: _Phases):
    """Read, check and stage the file a chunk at a time; yields each chunk's problems and size."""
    chunks = iter(table.chunks)
    rows = 0
    while True:
        with phase("read"):
            chunk = next(chunks, None)
        if chunk is None:
            return
        with phase("check"):
            checked = check_chunk(layout, header, chunk.frame)
        with phase("stage"):
            staging.copy_chunk(checked)
        rows += len(chunk.frame)
        JobRun.objects.filter(pk=job.pk).update(done=rows, total=rows)
        yield checked, len(chunk.frame)


def _import(importer: Importer, job: JobRun, source: IO[bytes]) -> dict[str, Any]:
    layout = job_layout(importer, job)
    phase = _Phases()
    with open_table(source) as table:
        header = layout.match_header(table.header)
        staging = Staging(
            layout=layout,
            job_id=job.pk,
            organization_id=job.organization_id,
            extra_columns=header.unknown if layout.keep_unknown else [],
        )
        staging.create()
        listed: list[RowError] = []
        problems = rows = 0
        key_hashes: list[np.ndarray] = []
        for checked, size in _staged_chunks(layout, header, table, staging, job, phase):
            rows += size
            problems += len(checked.errors)
            listed.extend(checked.errors[: MAX_LISTED_ERRORS - len(listed)])
            with phase("check"):
                key_hashes.append(checked.key_hashes(layout))
    if rows == 0:
        staging.drop()
        raise UploadRejected("The file has a header but no rows.")
    with phase("rules"):
        staging.analyze()  # the planner's row counts for the checks and the load that follow
        checks = [staging.missing_references]
        if _may_repeat(key_hashes):
            checks.insert(0, staging.repeated_keys)
        for check in checks:
            rule_errors, count = check(MAX_LISTED_ERRORS)
            problems += count
            listed.extend(rule_errors)
    if importer.assess is not None:
        with phase("assess"):
            assessed = importer.assess(staging, job)
            staging.mark(assessed)
            problems += len(assessed)
            listed.extend(assessed[:MAX_LISTED_ERRORS])
    listed.sort(key=lambda error: error.row or 0)
    listed = listed[:MAX_LISTED_ERRORS]
    valid_rows_only = bool(job.parameters.get("valid_rows_only"))
    try:
        if problems and not valid_rows_only:
            with phase("result_file"):
                written = _result(importer, staging, header, job, loaded=False)
            return _reject(
                job,
                f"{problems:,} problem(s) found in {rows:,} rows; nothing was imported. Fix them and "
                "upload the file again, or choose to import the valid rows only.",
                listed,
                total=problems,
                extra={"rows": rows, **written, "timings": phase.rounded()},
            )
        with phase("load"):
            summary = _load(importer, staging, job)
        with phase("outcomes"):
            counts = staging.outcome_counts()
        result = {
            "rows": rows,
            "created": counts.get(CREATED, 0),
            "updated": counts.get(UPDATED, 0),
            "unchanged": counts.get(UNCHANGED, 0),
            "rejected": counts.get(REJECTED, 0),
            "problems": problems,
            "unknown_columns": header.unknown,
            "unknown_columns_kept": layout.keep_unknown,
            **(summary or {}),
            "result_file_pending": True,
            "timings": phase.rounded(),
        }
        JobRun.objects.filter(pk=job.pk).update(errors=[error.as_dict() for error in listed])
        # The rows are in: the job is done. The result file follows (its page polls until it is there).
        job_finish(job, result=result)
        if importer.after is not None:
            importer.after(job, result)
        with phase("result_file"):
            try:
                result.update(_result(importer, staging, header, job, loaded=True))
            except Exception:  # the rows are in: a failed result file must not fail the import
                logger.exception("import job %s: the result file could not be written", job.pk)
                result["result_file_error"] = RESULT_FILE_LOST
    finally:
        staging.drop()
    del result["result_file_pending"]
    result["timings"] = phase.rounded()
    JobRun.objects.filter(pk=job.pk).update(result=result)
    return result


def _may_repeat(key_hashes: list[np.ndarray]) -> bool:
    """Whether two rows of the file may share a key: equal hashes (8 bytes a row, in memory)."""
    hashes = np.sort(np.concatenate(key_hashes)) if key_hashes else np.empty(0, dtype=np.uint64)
    return bool((hashes[1:] == hashes[:-1]).any())


def _load(importer: Importer, staging: Staging, job: JobRun) -> dict[str, Any] | None:
    """The valid rows written in one transaction: all of them or none. A rerun after a lost worker
    finds the rows already there and reports them unchanged."""
    with transaction.atomic():
        return importer.load(staging, job)


def _reject(
    job: JobRun, message: str, errors: list[RowError], *, total: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    result = {"rejected_file": True, "message": message, "problems": total, **(extra or {})}
    JobRun.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED,
        errors=[{"message": message}, *(error.as_dict() for error in errors[:MAX_LISTED_ERRORS])],
        result=result,
        finished_at=job.finished_at or _now(),
    )
    return result


def _now():
    from django.utils import timezone  # noqa: PLC0415

    return timezone.now()


def _result(importer: Importer, staging: Staging, header: HeaderMatch, job: JobRun, *, loaded: bool) -> dict:
    """The result file (the importer's own writer, if it has one) and what it adds to the result."""
    if importer.write_result is None:
        return {"result_file": _write_result(staging, header, job, loaded=loaded)}
    path, extra = importer.write_result(staging, header, job, loaded)
    return {**extra, "result_file": path}


def _write_result(staging: Staging, header: HeaderMatch, job: JobRun, *, loaded: bool) -> str:
    """The file's rows with their outcome and problems, through the one file writer."""
    present = {column.name for column in header.matched.values()}
    titles = [
        (column.staged_name, column.name) for column in staging.layout.columns if column.name in present
    ]
    titles += [(f"extra_{position}", name) for position, name in enumerate(staging.extra_columns)]
    sql, params = staging.result_select(titles, loaded=loaded)
    path = f"{RESULT_DIR}/{job.pk}-{secrets.token_hex(8)}.csv"
    with tempfile.TemporaryFile() as target:
        copy_to_file(sql, params, target)
        target.seek(0)
        return default_storage.save(path, File(target, name=path))


def result_file_name(job: JobRun) -> str:
    base = job.parameters.get("file_name", "import").rsplit(".", 1)[0]
    return f"{base}-result.csv"


def max_upload_bytes() -> int:
    return settings.PORTAL_UPLOAD_MAX_BYTES
