"""Microsoft's NCE Batch Migration tool (BAM) files out: the tool's layouts, exactly as it writes them.

The tool writes every file with CsvHelper in the invariant culture and no class map: the header is a
record's property names in declaration order, a comma between cells, CRLF line ends, a cell quoted
only when it must be, booleans `True`/`False`, dates `MM/dd/yyyy HH:mm:ss`, GUIDs lower-case with
hyphens. The one file writer (`portal.files.text_rows`) writes the same, a chunk of rows at a time
(a file of 100,000 rows is never held whole):

- `eligible_rows`: the partner's legacy subscriptions in its `MigrationRequest` layout (HEAD), with
  their eligibility (Microsoft's codes beside each reason), ready to edit and upload again;
- `nce_rows`: new-commerce subscriptions in its `ModernSubscription` layout;
- `status_rows`: a batch's migrations in its `MigrationResult` layout;
- `bam_result_write` / `result_rows`: a BAM upload's result file (the upload's columns in their
  order, then what `MigrationResult` adds and each row's price impact), written when the upload is
  checked and read back with what each migration became.
"""

from __future__ import annotations

import secrets
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q, QuerySet
from psycopg import sql as pgsql

from commerce.codes import EligibilityCode, EligibilityError
from commerce.eligibility import (
    MigrationAssessment,
    MigrationProposal,
    id_array,
    migration_assess,
    migration_context_load,
    migration_subscriptions_prepare,
)
from commerce.models import LegacySubscription, Migration, MigrationBatch, NceSubscription
from commerce.pricing.impact import impact_total
from portal.files import text_rows
from portal.imports import BOOLEAN, DATE, TEXT, Staging
from portal.imports.layout import HeaderMatch, header_key
from portal.imports.reader import open_table
from portal.jobs import JobRun

#: Rows read, assessed and written per step of an export or a result file.
CHUNK_ROWS = 2000

# --- The tool's layouts ------------------------------------------------------------------------------

#: `MigrationRequest` as the tool's first version (7cfd899) declares it; later versions add
#: `AutoRenewEnabled` after `ExpirationDate` (bebe716) and `CustomTermEndDate` after `SeatCount` (HEAD).
REQUEST_V1 = (
    "PartnerTenantId",
    "IndirectResellerMpnId",
    "CustomerName",
    "CustomerTenantId",
    "LegacySubscriptionId",
    "LegacySubscriptionName",
    "LegacyProductName",
    "ExpirationDate",
    "MigrationEligible",
    "NcePsa",
    "CurrentTerm",
    "CurrentBillingPlan",
    "CurrentSeatCount",
    "StartNewTermInNce",
    "Term",
    "BillingPlan",
    "SeatCount",
    "AddOn",
    "BaseSubscriptionId",
    "MigrationIneligibilityReason",
)
_V1 = list(REQUEST_V1)
REQUEST_V2 = (*_V1[:8], "AutoRenewEnabled", *_V1[8:])
#: The tool's current `MigrationRequest` (HEAD): what the eligible-subscriptions export writes.
REQUEST_V3 = (*REQUEST_V2[:18], "CustomTermEndDate", *REQUEST_V2[18:])
#: The variant spec/commerce.md §5.2 reconstructs: v2 with a trailing `CustomTermEndDate`.
REQUEST_SPEC = (*REQUEST_V2, "CustomTermEndDate")

#: The tool's `MigrationResult`: its upload output and its status export.
MIGRATION_RESULT = (
    "PartnerTenantId",
    "IndirectResellerMpnId",
    "CustomerName",
    "CustomerTenantId",
    "LegacySubscriptionId",
    "LegacySubscriptionName",
    "LegacyProductName",
    "ExpirationDate",
    "AddOn",
    "BaseSubscriptionId",
    "MigrationStatus",
    "StartedNewTermInNce",
    "NCETermDuration",
    "NCEBillingPlan",
    "NCESeatCount",
    "CustomTermEndDate",
    "ErrorCode",
    "ErrorReason",
    "NCESubscriptionId",
    "BatchId",
    "MigrationId",
)
#: The tool's `ModernSubscription`: its new-commerce subscriptions export.
MODERN_SUBSCRIPTION = (
    "PartnerTenantId",
    "IndirectResellerMpnId",
    "CustomerName",
    "CustomerTenantId",
    "SubscriptionId",
    "SubscriptionName",
    "ProductName",
    "ExpirationDate",
    "Psa",
    "Term",
    "BillingPlan",
    "SeatCount",
    "MigratedFromSubscriptionId",
)
#: The portal's own columns after the tool's in a result file: each row's price impact.
PRICE_COLUMNS = (
    "Currency",
    "NCEChargePerPeriod",
    "NCEBillingPeriod",
    "NCEChargePerTerm",
    "LegacyCurrency",
    "LegacyChargePerPeriod",
    "LegacyChargePerTerm",
)
#: What the result file adds after the uploaded columns (those the upload lacks, in this order).
RESULT_ADDED = MIGRATION_RESULT[10:]

# Row outcomes of the result file (`MigrationStatus`) before a migration exists.
SKIPPED = "skipped"
STATUS_SKIPPED = "Skipped"
STATUS_REJECTED = "Rejected"
STATUS_SUBMITTED = "Submitted"
STATUS_NOT_SUBMITTED = "NotSubmitted"
NOT_SUBMITTED_REASON = (
    "Not submitted: other rows of the file have problems and the batch was rejected whole "
    "(choose 'Submit the valid rows only' to submit the rows without problems)."
)
SKIPPED_REASON = "MigrationEligible is False: the row was skipped."

#: Dates as CsvHelper writes them in the invariant culture, then Excel's re-saves.
TOOL_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "ISO8601",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
)


def tool_bool(value: bool | None) -> str:
    """A boolean as the tool (.NET's `bool.ToString()`) writes it."""
    return "" if value is None else ("True" if value else "False")


def tool_date(value: date | None) -> str:
    """A date as the tool writes a `DateTime` in the invariant culture (midnight)."""
    return "" if value is None else f"{value:%m/%d/%Y} 00:00:00"


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def price_cells(proposal: MigrationProposal | None) -> list[str]:
    """A line's PRICE_COLUMNS cells (`commerce.pricing.impact`: the charge per billing period and
    over the new term; the legacy subscription's over the same span, blank when unknown)."""
    if proposal is None:
        return [""] * len(PRICE_COLUMNS)
    legacy = (proposal.legacy_charge_per_period, proposal.legacy_charge_per_term)
    legacy_known = any(value is not None for value in legacy)
    return [
        proposal.currency,
        _amount(proposal.charge_per_period),
        proposal.period,
        _amount(proposal.charge_per_term),
        (proposal.legacy_currency or proposal.currency) if legacy_known else "",
        *(_amount(value) for value in legacy),
    ]


def totals_of(proposals: Iterable[MigrationProposal]) -> dict[str, dict[str, Any]]:
    """The batch's price impact per currency (`commerce.pricing.impact.impact_total`, one item per
    migrated line, add-ons included), as JSON-safe text: the charges per billing period (a month's
    and a year's never added together), over the term, and the legacy side for the lines whose
    legacy price is known in the same currency (`compared`)."""
    return {
        currency: {
            "lines": total.count,
            "compared": total.compared,
            "per_period": {period: _amount(amount) for period, amount in total.charge_per_period.items()},
            "legacy_per_period": {
                period: _amount(amount) for period, amount in total.legacy_charge_per_period.items()
            },
            "per_term": _amount(total.charge_per_term),
            "legacy_per_term": _amount(total.legacy_charge_per_term) if total.compared else None,
            "difference_per_term": _amount(total.difference_per_term) if total.compared else None,
        }
        for currency, total in impact_total(proposals).items()
    }


@dataclass
class _Assessed:
    """What a BAM upload's assessment found besides problems, for its loader and result file in the
    same run: each valid row's price impact, each rejected row's first code (Microsoft's number)
    and the primary key of each legacy subscription the file names (read once, by the assessment)."""

    proposals: dict[int, MigrationProposal]
    codes: dict[int, int]
    ids: dict[uuid.UUID, int] = field(default_factory=dict)


#: Per import job: filled by the assessment, read by the loader and the result file of the same run
#: (`portal.imports.pipeline._import` calls all three in one process, in that order).
_ASSESSED: dict[int, _Assessed] = {}
_ASSESSED_KEPT = 16


def assessed_keep(
    job_id: int,
    *,
    proposals: dict[int, MigrationProposal],
    codes: dict[int, int],
    ids: dict[uuid.UUID, int] | None = None,
) -> None:
    if len(_ASSESSED) >= _ASSESSED_KEPT:
        _ASSESSED.pop(next(iter(_ASSESSED)))
    _ASSESSED[job_id] = _Assessed(proposals=proposals, codes=codes, ids=ids or {})


def assessed_proposals(job_id: int) -> dict[int, MigrationProposal]:
    assessed = _ASSESSED.get(job_id)
    return assessed.proposals if assessed else {}


def assessed_ids(job_id: int) -> dict[uuid.UUID, int]:
    """Legacy subscription id → primary key of the subscriptions the job's file names (empty when
    the assessment of this run is not at hand)."""
    assessed = _ASSESSED.get(job_id)
    return assessed.ids if assessed else {}


# --- The result file ------------------------------------------------------------------------------------

#: Rows listed on the job page; the result file holds every one.
OUTCOMES_LISTED = 500


def rows_file_path() -> str:
    """Where an upload's result file will be kept (chosen when the upload starts, so that the batch
    created by the import can name it before it is written)."""
    return f"commerce/bam/{secrets.token_hex(16)}.csv"


@dataclass(frozen=True)
class _Shape:
    """The result file's columns: the upload's, in its order, then what it lacks."""

    header: list[str]
    staged: list[str]  # per uploaded column, its staged name
    filled: dict[str, int]  # result column → position
    kinds: dict[str, str]  # staged name → the layout's kind of cell

    @property
    def index(self) -> dict[str, int]:
        return {name: position for position, name in enumerate(self.staged)}


def _shape(staging: Staging, match: HeaderMatch, header: Sequence[str]) -> _Shape:
    unknown = {name: f"extra_{position}" for position, name in enumerate(match.unknown)}
    names, staged = [], []
    for name in header:
        if name in match.matched:
            names.append(name)
            staged.append(match.matched[name].staged_name)
        elif name in unknown:
            names.append(name)
            staged.append(unknown[name])
    keys = {header_key(name): position for position, name in enumerate(names)}
    filled = {}
    for name in (*RESULT_ADDED, *PRICE_COLUMNS):
        position = keys.get(header_key(name))
        if position is None:
            names.append(name)
            position = len(names) - 1
        filled[name] = position
    kinds = {column.staged_name: column.kind for column in staging.layout.columns}
    return _Shape(header=names, staged=staged, filled=filled, kinds=kinds)


_BOOLEANS = {"true": "True", "false": "False"}


def _tool_cell(value: str | None, kind: str) -> str:
    """A staged (normalised) cell as the tool writes it; a cell staged as written stays as written."""
    if value is None:
        return ""
    if kind == BOOLEAN:
        return _BOOLEANS.get(value, value)
    if kind == DATE and len(value) == 10 and value[4] == "-":
        return tool_date(date.fromisoformat(value))
    return value


def _staged_chunks(staging: Staging, names: Sequence[str]) -> Iterator[list[tuple]]:
    columns = pgsql.SQL(", ").join(pgsql.Identifier(name) for name in ["line", *names, "errors", "outcome"])
    statement = pgsql.SQL("SELECT {} FROM {} ORDER BY line").format(columns, staging.identifier)
    # A server-side cursor: the file is read back a chunk at a time.
    with connection.chunked_cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor))
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            yield chunk


@dataclass(frozen=True)
class _RowOutcome:
    status: str
    reason: str
    code: int | None
    proposal: MigrationProposal | None  # what the line would become and cost, for a valid row


def _result_cells(
    shape: _Shape, values: Sequence[str | None], outcome: _RowOutcome, reference: str
) -> list[str]:
    """One row of the result file: the upload's cells as the tool writes them, then the outcome."""
    index = shape.index
    cells = [
        _tool_cell(value, shape.kinds.get(name, TEXT))
        for name, value in zip(shape.staged, values, strict=True)
    ]
    cells += [""] * (len(shape.header) - len(cells))
    proposal = outcome.proposal

    def asked(name: str) -> str:
        return values[index[name]] or ""

    filled = {
        "MigrationStatus": outcome.status,
        "StartedNewTermInNce": _tool_cell(values[index["start_new_term_in_nce"]], BOOLEAN),
        "NCETermDuration": proposal.term_duration if proposal else asked("term"),
        "NCEBillingPlan": proposal.billing_cycle if proposal else asked("billing_plan"),
        "NCESeatCount": str(proposal.quantity) if proposal else asked("seat_count"),
        "ErrorCode": "" if outcome.code is None else str(outcome.code),
        "ErrorReason": outcome.reason,
        "BatchId": reference if outcome.status == STATUS_SUBMITTED else "",
        **dict(zip(PRICE_COLUMNS, price_cells(proposal), strict=True)),
    }
    if "custom_term_end_date" in index:
        filled["CustomTermEndDate"] = _tool_cell(values[index["custom_term_end_date"]], DATE)
    for name, value in filled.items():
        cells[shape.filled[name]] = value
    return cells


def bam_result_write(
    staging: Staging, match: HeaderMatch, job: JobRun, loaded: bool
) -> tuple[str, dict[str, Any]]:
    """The result file of a BAM upload (the pipeline's `Importer.write_result`): every row as
    uploaded (booleans and dates as the tool writes them), its outcome, Microsoft's code and every
    problem, and its price impact; kept where the batch's own download reads it."""
    shape = _shape(staging, match, job.parameters.get("bam_header") or [*match.matched, *match.unknown])
    assessed = _ASSESSED.pop(job.pk, None) or _Assessed(proposals={}, codes={})
    reference = job.parameters.get("external_reference_id", "")
    key = shape.index["legacy_subscription_id"]
    outcomes: list[dict[str, Any]] = []
    counts = dict.fromkeys((STATUS_SKIPPED, STATUS_REJECTED, STATUS_SUBMITTED, STATUS_NOT_SUBMITTED), 0)

    def lines() -> Iterator[list[str]]:
        yield shape.header
        for chunk in _staged_chunks(staging, shape.staged):
            for line, *values, errors, outcome in chunk:
                result = _outcome(outcome, errors, loaded, assessed, line)
                counts[result.status] += 1
                if len(outcomes) < OUTCOMES_LISTED:
                    row = {
                        "row": line,
                        "key": values[key] or "",
                        "outcome": result.status,
                        "detail": result.reason,
                    }
                    outcomes.append(row)
                yield _result_cells(shape, values, result, reference)

    path = job.parameters.get("bam_rows_file") or rows_file_path()
    with tempfile.TemporaryFile() as target:
        for text in text_rows(lines()):
            target.write(text.encode())
        target.seek(0)
        if default_storage.exists(path):
            default_storage.delete(path)  # a rerun writes the file again
        path = default_storage.save(path, File(target, name=path))
    extra = {
        "skipped": counts[STATUS_SKIPPED],
        "row_outcomes": outcomes,
        "row_outcomes_all": sum(counts.values()) <= OUTCOMES_LISTED,
        # The valid rows': submitted, or what they would have cost had the batch not been rejected.
        "price_totals": totals_of(assessed.proposals.values()),
    }
    return path, extra


def _outcome(
    outcome: str | None, errors: str | None, loaded: bool, assessed: _Assessed, line: int
) -> _RowOutcome:
    if outcome == SKIPPED:
        return _RowOutcome(STATUS_SKIPPED, SKIPPED_REASON, None, None)
    if errors is not None:
        return _RowOutcome(STATUS_REJECTED, errors, assessed.codes.get(line), None)
    proposal = assessed.proposals.get(line)
    if loaded:
        return _RowOutcome(STATUS_SUBMITTED, "", None, proposal)
    return _RowOutcome(STATUS_NOT_SUBMITTED, NOT_SUBMITTED_REASON, None, proposal)


# --- Reading a batch's result back ----------------------------------------------------------------------


def batch_rows_file(batch: MigrationBatch) -> str | None:
    """The kept result file of a batch uploaded as a BAM file, if it has one and it was written."""
    parameters = batch.job.parameters if batch.job_id else {}
    path = (parameters.get("bam") or {}).get("rows_file")
    return path if path and default_storage.exists(path) else None


def batch_totals(batch: MigrationBatch) -> dict[str, dict[str, Any]]:
    """The price impact per currency of the rows a BAM batch submitted (`totals_of`)."""
    parameters = batch.job.parameters if batch.job_id else {}
    return (parameters.get("bam") or {}).get("totals") or {}


def batch_counts(batch: MigrationBatch) -> dict[str, int]:
    """How many rows of a BAM batch's file were submitted, skipped and rejected when it was checked."""
    parameters = batch.job.parameters if batch.job_id else {}
    return (parameters.get("bam") or {}).get("counts") or {}


def _code_number(code: str) -> str:
    try:
        return str(EligibilityCode(code).number)
    except ValueError:
        return ""


def _migrations_of(batch: MigrationBatch, subscription_ids: Sequence[str]) -> dict[str, tuple]:
    """What became of the batch's migrations of these legacy subscriptions (the latest of each)."""
    rows = (
        Migration.objects.filter(
            batch=batch, current_subscription__subscription_id__in=id_array(set(subscription_ids), "uuid")
        )
        .order_by("id")
        .values_list(
            "current_subscription__subscription_id",
            "status",
            "purchase_full_term",
            "term_duration",
            "billing_cycle",
            "quantity",
            "error_code",
            "error_description",
            "new_commerce_subscription__subscription_id",
            "migration_id",
            "parent_migration__migration_id",
        )
    )
    return {str(row[0]): row[1:] for row in rows}


def result_rows(batch: MigrationBatch, *, limit: int | None = None) -> Iterator[list[str]]:
    """A BAM batch's result file, header first: the kept file with each submitted row's migration
    filled in (status, the new-commerce subscription, `MigrationId` — an add-on's is its base's, as
    the tool writes it — and the error of a migration that failed or was refused when it ran).
    Read, looked up and written a chunk at a time."""
    path = batch_rows_file(batch)
    if path is None:
        return
    with default_storage.open(path, "rb") as source, open_table(source, chunk_rows=CHUNK_ROWS) as table:
        header = table.header
        yield header
        at = {header_key(name): position for position, name in enumerate(header)}

        def position(name: str) -> int:
            return at[header_key(name)]

        subscription, status = position("LegacySubscriptionId"), position("MigrationStatus")
        written = 0
        for chunk in table.chunks:
            rows = chunk.frame.to_numpy(dtype=object).tolist()
            if limit is not None:
                rows = rows[: limit - written]
            submitted = [row[subscription] for row in rows if row[status] == STATUS_SUBMITTED]
            found = _migrations_of(batch, submitted) if submitted else {}
            for row in rows:
                migration = found.get(row[subscription].lower()) if row[status] == STATUS_SUBMITTED else None
                if migration is not None:
                    (state, full, term, billing, seats, code, reason, nce, migration_id, base_id) = migration
                    for name, value in (
                        ("MigrationStatus", state),
                        ("StartedNewTermInNce", tool_bool(full)),
                        ("NCETermDuration", term),
                        ("NCEBillingPlan", billing),
                        ("NCESeatCount", str(seats)),
                        ("ErrorCode", _code_number(code)),
                        ("ErrorReason", reason.replace("\n", "; ")),
                        ("NCESubscriptionId", str(nce or "")),
                        ("BatchId", batch.external_reference_id),
                        ("MigrationId", str(base_id or migration_id)),
                    ):
                        row[position(name)] = value
                yield row
            written += len(rows)
            if limit is not None and written >= limit:
                return


@dataclass(frozen=True)
class ResultRow:
    """A row of a BAM batch's result as its page shows it."""

    number: int
    customer: str
    subscription_id: str
    product: str
    add_on: bool
    status: str
    code: str
    reason: str
    currency: str
    charge_per_period: str
    period: str
    charge_per_term: str
    legacy_charge_per_term: str
    migration_id: str


def result_preview(batch: MigrationBatch, *, limit: int) -> list[ResultRow]:
    """The first `limit` rows of a BAM batch's result, for its page."""
    rows = result_rows(batch, limit=limit)
    header = next(rows, None)
    if header is None:
        return []
    at = {header_key(name): position for position, name in enumerate(header)}

    def cell(row: list[str], name: str) -> str:
        position = at.get(header_key(name))
        return row[position] if position is not None else ""

    return [
        ResultRow(
            number=number,
            customer=cell(row, "CustomerName"),
            subscription_id=cell(row, "LegacySubscriptionId"),
            product=cell(row, "LegacyProductName"),
            add_on=cell(row, "AddOn") == "True",
            status=cell(row, "MigrationStatus"),
            code=cell(row, "ErrorCode"),
            reason=cell(row, "ErrorReason"),
            currency=cell(row, "Currency"),
            charge_per_period=cell(row, "NCEChargePerPeriod"),
            period=cell(row, "NCEBillingPeriod"),
            charge_per_term=cell(row, "NCEChargePerTerm"),
            legacy_charge_per_term=cell(row, "LegacyChargePerTerm"),
            migration_id=cell(row, "MigrationId"),
        )
        for number, row in enumerate(rows, start=1)
    ]


# --- Exports ----------------------------------------------------------------------------------------------


def _after(fields: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows after `values` in the order of `fields` (a keyset page's condition)."""
    condition = Q(**{f"{fields[-1]}__gt": values[-1]})
    for name, value in zip(reversed(fields[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{name}__gt": value}) | (Q(**{name: value}) & condition)
    return condition


def keyset_chunks(queryset: QuerySet, fields: Sequence[str], size: int = CHUNK_ROWS) -> Iterator[list]:
    """The queryset's rows in the order of `fields` (unique together), `size` at a time, each chunk
    one query: an export never holds more than a chunk and never keeps a cursor open."""
    queryset = queryset.order_by(*fields)
    after: tuple | None = None
    while True:
        rows = list((queryset.filter(_after(fields, after)) if after else queryset)[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = tuple(getattr(rows[-1], name) for name in fields)


def _reasons(errors: Iterable[EligibilityError]) -> str:
    """The tool's MigrationIneligibilityReason, each reason with Microsoft's code: `Code: description`."""
    return "; ".join(str(error) for error in errors)


def _eligibility(
    subscription: LegacySubscription, assessed: dict[int, MigrationAssessment]
) -> tuple[bool, str, str]:
    """MigrationEligible, NcePsa and MigrationIneligibilityReason of one row. An add-on answers as
    the tool's export does, from its base's validation: eligible when it moves with its base."""
    if subscription.parent_id is None:
        eligibility = assessed[subscription.pk].eligibility
        return eligibility.is_eligible, eligibility.catalog_item_id or "", _reasons(eligibility.errors)
    base = assessed[subscription.parent_id]
    moving = next((proposal for addon, proposal in base.addons if addon.pk == subscription.pk), None)
    if moving is not None:
        return True, moving.catalog_item_id, ""
    own = [
        error
        for error in assessed[subscription.pk].eligibility.errors
        if error.code != EligibilityCode.ADDON_BASE
    ]
    if not base.is_eligible:
        codes = ", ".join(dict.fromkeys(error.code.value for error in base.eligibility.errors))
        own.append(
            EligibilityError(
                EligibilityCode.ADDON_BASE,
                f"The base subscription {base.subscription.subscription_id} cannot migrate ({codes}); "
                "an add-on moves only with its base.",
            )
        )
    return False, "", _reasons(own)


def eligible_rows(subscriptions: QuerySet[LegacySubscription], *, on: date) -> Iterator[list[str]]:
    """The legacy subscriptions in the tool's `MigrationRequest` layout (HEAD), header first, with
    their eligibility on `on`: Term, BillingPlan and SeatCount prefilled with the current values
    (edit them, upload the file). Per chunk a fixed number of queries, whatever its size."""
    yield list(REQUEST_V3)
    for chunk in keyset_chunks(subscriptions, ("term_end", "id")):
        loaded = migration_subscriptions_prepare(chunk)
        ids = {subscription.pk for subscription in loaded}
        # The bases of listed add-ons that the list itself leaves out (same organization: an
        # add-on's base is always its partner's).
        outside = {s.parent_id for s in loaded if s.parent_id} - ids
        bases = migration_subscriptions_prepare(LegacySubscription.objects.filter(pk__in=id_array(outside)))
        everyone = [*loaded, *bases]
        context = migration_context_load(everyone, on=on)
        assessed = {subscription.pk: migration_assess(subscription, context) for subscription in everyone}
        for subscription in loaded:
            eligible, psa, reason = _eligibility(subscription, assessed)
            customer, parent = subscription.customer, subscription.parent
            yield [
                "",  # PartnerTenantId: the organization holds no Microsoft Entra tenant ID
                "",  # IndirectResellerMpnId: not known for a legacy subscription
                customer.name,
                str(customer.tenant_id),
                str(subscription.subscription_id),
                subscription.friendly_name,
                subscription.offer.name,
                tool_date(subscription.term_end),
                tool_bool(subscription.auto_renew),
                tool_bool(eligible),
                psa,
                subscription.term_duration,
                subscription.billing_cycle,
                str(subscription.quantity),
                tool_bool(False),
                subscription.term_duration,
                subscription.billing_cycle,
                str(subscription.quantity),
                "",  # CustomTermEndDate: the partner may choose one
                tool_bool(parent is not None),
                str(parent.subscription_id) if parent is not None else "",
                reason,
            ]


def nce_rows(subscriptions: QuerySet[NceSubscription]) -> Iterator[list[str]]:
    """New-commerce subscriptions in the tool's `ModernSubscription` layout, header first."""
    yield list(MODERN_SUBSCRIPTION)
    related = subscriptions.select_related("customer", "availability__sku", "migrated_from")
    for chunk in keyset_chunks(related, ("term_end", "id")):
        for subscription in chunk:
            legacy = subscription.migrated_from
            product = subscription.availability.sku.title
            yield [
                "",
                "",
                subscription.customer.name,
                str(subscription.customer.tenant_id),
                str(subscription.subscription_id),
                # Partner Center names a subscription after its offer unless renamed; a migrated
                # one keeps the legacy subscription's name.
                subscription.friendly_name or (legacy.friendly_name if legacy else "") or product,
                product,
                tool_date(subscription.term_end),
                subscription.catalog_item_id,
                subscription.term_duration,
                subscription.billing_cycle,
                str(subscription.quantity),
                str(legacy.subscription_id) if legacy else "",
            ]


def status_rows(batch: MigrationBatch) -> Iterator[list[str]]:
    """A batch's migrations in the tool's `MigrationResult` layout (its status export), header first;
    an add-on's row carries its base's `MigrationId`, as the tool writes it."""
    yield list(MIGRATION_RESULT)
    migrations = Migration.objects.filter(batch=batch).select_related(
        "customer",
        "current_subscription__offer",
        "current_subscription__parent",
        "new_commerce_subscription",
        "parent_migration",
    )
    for chunk in keyset_chunks(migrations, ("id",)):
        for migration in chunk:
            legacy, base = migration.current_subscription, migration.parent_migration
            nce = migration.new_commerce_subscription
            yield [
                "",
                "",
                migration.customer.name,
                str(migration.customer.tenant_id),
                str(legacy.subscription_id),
                legacy.friendly_name,
                legacy.offer.name,
                tool_date(legacy.term_end),
                tool_bool(base is not None),
                str(legacy.parent.subscription_id) if base is not None and legacy.parent else "",
                migration.status,
                tool_bool(migration.purchase_full_term),
                migration.term_duration,
                migration.billing_cycle,
                str(migration.quantity),
                tool_date(migration.custom_term_end_date),
                _code_number(migration.error_code),
                migration.error_description.replace("\n", "; "),
                str(nce.subscription_id) if nce else "",
                batch.external_reference_id,
                str((base or migration).migration_id),
            ]


def file_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Rows as the tool's CSV lines (CRLF, quoted only when needed) through the one file writer."""
    return text_rows(rows)
