"""Microsoft's NCE Batch Migration tool (BAM) file on the one import pipeline (spec/commerce.md §5.2).

The tool (`nce-bulk-migration-tool` in microsoft/Partner-Center-DotNet-Samples) exports a partner's
legacy subscriptions as `subscriptions.csv`: CsvHelper, invariant culture, no class map, so the header
is its `MigrationRequest` record's property names in declaration order, booleans `True`/`False`,
dates `MM/dd/yyyy HH:mm:ss`, `NcePsa` = `ProductId:SkuId:AvailabilityId`. Its versions differ only by
`AutoRenewEnabled` and `CustomTermEndDate`; columns are matched by name in any order, and columns
this layout does not know are kept and written back. Excel's re-saves (`9/14/2025 0:00`,
`2025-09-14`) are read too.

The partner changes only `StartNewTermInNce`, `Term`, `BillingPlan`, `SeatCount` and
`CustomTermEndDate`; every other column is a fact checked against the portal's own rows. A row with
`MigrationEligible` False is skipped (an outcome, not a problem). An add-on row migrates inside its
base's migration (the engine moves a base's active add-ons with it), so it is checked against its base
row instead of being submitted: its base must be in the batch and its term, billing plan and seats
must be what moving with the base gives. Every other row is assessed by the eligibility engine as the
batch will migrate it, and each problem carries Microsoft's code beside the plain description.

The result file (`commerce.bam_files.bam_result_write`) is the uploaded columns in their order plus
the tool's `MigrationResult` columns the upload lacks (`BatchId`, `MigrationId`, …) and each row's
price impact; it is kept, and the batch's own download fills in what its migrations became.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from psycopg import sql as pgsql

from accounts.models import Customer
from commerce.bam_files import (
    SKIPPED,
    TOOL_DATE_FORMATS,
    assessed_ids,
    assessed_keep,
    assessed_proposals,
    bam_result_write,
    tool_date,
    totals_of,
)
from commerce.choices import BillingCycle, TermDuration
from commerce.codes import EligibilityCode, EligibilityError
from commerce.eligibility import (
    SEGMENT_FOR_CUSTOMER,
    MigrationAssessment,
    MigrationContext,
    MigrationProposal,
    MigrationRequest,
    gc_paused,
    migration_request,
)
from commerce.eligibility_lines import offer_of
from commerce.imports import RowRequest, batch_of_import, batch_rows_load, rows_assess, rows_subscriptions
from commerce.models import LegacySubscription
from portal.imports import (
    BOOLEAN,
    CHOICE,
    DATE,
    INTEGER,
    TEXT,
    UUID,
    Column,
    Importer,
    Layout,
    Rule,
    SqlCheck,
    Staging,
    register,
    safe_cast,
)
from portal.imports.layout import header_key
from portal.jobs import JobRun
from portal.uploads import RowError

_TENANT = safe_cast("s.customer_tenant_id", UUID)
_SUBSCRIPTION = safe_cast("s.legacy_subscription_id", UUID)
_LEGACY = LegacySubscription._meta.db_table
_CUSTOMERS = Customer._meta.db_table
#: Ownership is checked on the rows to migrate; a skipped row is only echoed back.
_MIGRATING = "s.migration_eligible = 'true' AND "


def _optional(name: str, **options: Any) -> Column:
    return Column(name, required=False, blank=True, **options)


BAM = Layout(
    name="commerce.bam_batch",
    title="NCE Batch Migration tool file",
    columns=(
        _optional("PartnerTenantId", max_length=100),
        _optional("IndirectResellerMpnId", max_length=100),
        _optional("CustomerName", max_length=200),
        Column("CustomerTenantId", kind=UUID),
        Column("LegacySubscriptionId", kind=UUID),
        _optional("LegacySubscriptionName", max_length=200),
        _optional("LegacyProductName", max_length=200),
        # Facts the portal does not act on: kept as written and written back.
        _optional("ExpirationDate", kind=TEXT, max_length=40),
        _optional("AutoRenewEnabled", kind=BOOLEAN),
        Column("MigrationEligible", kind=BOOLEAN),
        Column(
            "NcePsa",
            blank=True,
            pattern=r"[A-Za-z0-9]{1,20}:[A-Za-z0-9]{1,10}:[A-Za-z0-9]{1,20}",
            pattern_help="is not ProductId:SkuId:AvailabilityId (e.g. CFQ7TTC0LCHC:0002:CFQ7TTC0KFFN)",
        ),
        _optional("CurrentTerm", max_length=10),
        _optional("CurrentBillingPlan", max_length=20),
        _optional("CurrentSeatCount", max_length=10),
        Column("StartNewTermInNce", kind=BOOLEAN, blank=True),
        Column("Term", kind=CHOICE, choices=tuple(TermDuration.values), blank=True),
        Column("BillingPlan", kind=CHOICE, choices=tuple(BillingCycle.values), blank=True),
        Column("SeatCount", kind=INTEGER, blank=True, min_value=1, max_value=1_000_000),
        _optional("CustomTermEndDate", kind=DATE, formats=TOOL_DATE_FORMATS),
        Column("AddOn", kind=BOOLEAN, blank=True),
        Column("BaseSubscriptionId", kind=UUID, blank=True),
        _optional("MigrationIneligibilityReason", max_length=4000),
    ),
    key=("LegacySubscriptionId",),
    keep_unknown=True,
    rules=(
        Rule(
            "BaseSubscriptionId",
            "is required for an add-on (AddOn is True): the legacy subscription it is an add-on of",
            lambda f: f["add_on"].eq(True) & f["base_subscription_id"].isna(),
        ),
        Rule(
            "BaseSubscriptionId",
            "must be empty when AddOn is False",
            lambda f: f["add_on"].ne(True) & f["base_subscription_id"].notna(),
        ),
    ),
    checks=(
        SqlCheck(
            "CustomerTenantId",
            f"{_MIGRATING}({_TENANT} IS NULL OR NOT EXISTS (SELECT 1 FROM {_CUSTOMERS} c "
            f"WHERE c.organization_id = %(organization)s AND c.tenant_id = {_TENANT}))",
            "is not a customer of your organization",
        ),
        SqlCheck(
            "LegacySubscriptionId",
            f"{_MIGRATING}({_SUBSCRIPTION} IS NULL OR NOT EXISTS (SELECT 1 FROM {_LEGACY} l "
            f"WHERE l.organization_id = %(organization)s AND l.subscription_id = {_SUBSCRIPTION}))",
            "is not a legacy subscription of your organization",
        ),
        SqlCheck(
            "LegacySubscriptionId",
            f"{_MIGRATING}EXISTS (SELECT 1 FROM {_LEGACY} l JOIN {_CUSTOMERS} c ON c.id = l.customer_id "
            f"WHERE l.organization_id = %(organization)s AND l.subscription_id = {_SUBSCRIPTION} "
            f"AND c.tenant_id <> {_TENANT})",
            "belongs to another customer than CustomerTenantId",
        ),
    ),
)


def is_bam_header(header: Iterable[str]) -> bool:
    """Whether a file's header is the tool's (it names LegacySubscriptionId or NcePsa) rather than
    the portal's camelCase batch layout (`commerce.imports.BATCH`)."""
    keys = {header_key(name) for name in header if name}
    return bool(keys & {header_key("LegacySubscriptionId"), header_key("NcePsa")})


# --- Assessing the rows ---------------------------------------------------------------------------------


@dataclass
class _StagedRow:
    """A staged row as the file has it, whatever its problems (a base row an add-on row names)."""

    line: int
    subscription_id: str | None
    eligible: bool
    valid: bool


class _Problems:
    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.codes: dict[int, int] = {}

    def add(self, line: int, column: str, value: Any, message: str | EligibilityError) -> None:
        if isinstance(message, EligibilityError):
            self.codes.setdefault(line, message.number)
        self.errors.append(RowError(line, column, str(message), value="" if value is None else str(value)))

    def lines(self) -> set[int]:
        return {error.row for error in self.errors}


def _staged_rows(staging: Staging, subscription_ids: Iterable[str]) -> list[_StagedRow]:
    """The staged rows of these subscriptions (a cell with a problem is staged as written, so only
    valid GUIDs match)."""
    statement = pgsql.SQL(
        "SELECT line, legacy_subscription_id, migration_eligible = 'true', errors IS NULL "
        "FROM {} WHERE legacy_subscription_id = ANY(%s::text[]) ORDER BY line"
    ).format(staging.identifier)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), [list(subscription_ids)])
        return [_StagedRow(*row) for row in cursor.fetchall()]


def _request(row: dict[str, Any]) -> MigrationRequest:
    return migration_request(
        row["term"],
        row["billing_plan"],
        row["seat_count"],
        bool(row["start_new_term_in_nce"]),
        row["custom_term_end_date"],
    )


def _current_catalog_item(subscription: LegacySubscription, context: MigrationContext) -> str | None:
    """The catalog item of the subscription's current term: what an export (the tool's validate with
    the default request) wrote in NcePsa, before the partner chose another term."""
    sku = subscription.offer.equivalent_sku
    if sku is None:
        return None
    customer = subscription.customer
    segment = SEGMENT_FOR_CUSTOMER.get(customer.segment)
    # Where the SKU stands for this segment, market and term (decided once per key in the context).
    availability = offer_of(context, sku, segment, customer.country, subscription.term_duration).availability
    return availability.catalog_item_id if availability is not None else None


def _check_psa(problems: _Problems, line: int, written: str | None, target: str, current: str | None) -> None:
    if written and written.upper() not in {target.upper(), (current or target).upper()}:
        problems.add(
            line,
            "NcePsa",
            written,
            f"is not the new-commerce item this subscription moves to ({target}); NcePsa is the "
            "portal's catalog fact and cannot be changed: change Term or BillingPlan instead",
        )


def _check_facts(problems: _Problems, row: dict[str, Any], subscription: LegacySubscription) -> None:
    """AddOn and BaseSubscriptionId must say what the portal knows of the subscription."""
    line, parent = row["line"], subscription.parent
    if row["add_on"] and parent is None:
        problems.add(
            line,
            "AddOn",
            "True",
            f"is True, but {subscription.subscription_id} is not an add-on: it has no base subscription",
        )
    elif not row["add_on"] and parent is not None:
        problems.add(
            line,
            "AddOn",
            "False",
            f"is False, but {subscription.subscription_id} is an add-on of {parent.subscription_id}: "
            f"write AddOn True and BaseSubscriptionId {parent.subscription_id}",
        )
    elif parent is not None and row["base_subscription_id"] != parent.subscription_id:
        problems.add(
            line,
            "BaseSubscriptionId",
            row["base_subscription_id"],
            f"is not the base of this add-on: its base subscription is {parent.subscription_id}",
        )


def _check_add_on(
    problems: _Problems,
    row: dict[str, Any],
    base_row: dict[str, Any],
    base: MigrationAssessment,
    addon: MigrationProposal,
) -> None:
    """An add-on row must ask for what moving with its base gives it."""
    line, base_line, proposal = row["line"], base_row["line"], base.eligibility.proposal
    same = f"an add-on moves inside its base's migration (line {base_line})"
    for column, name, wanted in (
        ("Term", "term", proposal.term_duration),
        ("BillingPlan", "billing_plan", proposal.billing_cycle),
    ):
        if row[name] and row[name] != wanted:
            problems.add(
                line,
                column,
                row[name],
                f"is {row[name]}, but {same} on {wanted}: write {wanted} or leave it empty",
            )
    if row["seat_count"] is not None and row["seat_count"] != addon.quantity:
        problems.add(
            line,
            "SeatCount",
            row["seat_count"],
            f"is {row['seat_count']}, but {same} with its current {addon.quantity} seats: write "
            f"{addon.quantity} (change the seats once it has migrated)",
        )
    if row["start_new_term_in_nce"] and not base_row["start_new_term_in_nce"]:
        problems.add(
            line,
            "StartNewTermInNce",
            "True",
            f"is True, but {same}, which keeps the legacy term end (StartNewTermInNce False there)",
        )
    custom = row["custom_term_end_date"]
    if custom and custom != base_row["custom_term_end_date"]:
        problems.add(
            line,
            "CustomTermEndDate",
            tool_date(custom),
            f"is {tool_date(custom)}, but {same}, which ends "
            f"{tool_date(base_row['custom_term_end_date']) or 'as its base'}: leave it empty",
        )


def _assess(staging: Staging, job: JobRun) -> list[RowError]:
    """Skipped rows set aside, facts checked, bases assessed as the batch will migrate them (in file
    order, pooled seats counted), add-on rows checked against their base's assessment."""
    with gc_paused():
        return _assess_rows(staging, job)


def _assess_rows(staging: Staging, job: JobRun) -> list[RowError]:
    valid = staging.valid_rows()
    problems = _Problems()
    _set_aside_skipped(staging, valid, problems)
    wanted = [row for row in valid if row["migration_eligible"]]
    subscriptions = rows_subscriptions(job.organization_id, (row["legacy_subscription_id"] for row in wanted))
    wanted = [row for row in wanted if row["legacy_subscription_id"] in subscriptions]
    for row in wanted:
        _check_facts(problems, row, subscriptions[row["legacy_subscription_id"]])
    checked = problems.lines()
    # A rerun of an import whose batch was created before its worker was lost: the rows that batch
    # holds stand (they may have migrated since); only the others are assessed again.
    batch = batch_of_import(job)
    submitted = (
        {entry["id"] for entry in batch.job.parameters.get("rows", [])} if batch and batch.job else set()
    )
    bases: dict[uuid.UUID, tuple[dict[str, Any], MigrationAssessment | None]] = {}
    proposals: dict[int, MigrationProposal] = {}
    requests = []
    for row in wanted:
        subscription = subscriptions[row["legacy_subscription_id"]]
        if row["add_on"] or row["line"] in checked:
            continue
        if subscription.pk in submitted:
            bases[subscription.subscription_id] = (row, None)
        else:
            requests.append(RowRequest(row["line"], row["legacy_subscription_id"], _request(row)))
    context, assessed = rows_assess(requests, subscriptions, on=timezone.localdate())
    lines = {row["line"]: row for row in valid}
    for request, assessment in assessed:
        row = lines[request.line]
        for error in assessment.eligibility.errors:
            problems.add(request.line, "LegacySubscriptionId", request.subscription_id, error)
        if assessment.is_eligible:
            proposal, written = assessment.eligibility.proposal, row["nce_psa"]
            current = None
            if written and written.upper() != proposal.catalog_item_id.upper():
                current = _current_catalog_item(assessment.subscription, context)
            _check_psa(problems, request.line, written, proposal.catalog_item_id, current)
            proposals[request.line] = proposal
            bases[assessment.subscription.subscription_id] = (row, assessment)
    add_ons = [row for row in wanted if row["add_on"] and row["line"] not in checked]
    # The rows of the add-ons' bases as the file has them, to say why a base is missing.
    bases_named = {str(row["base_subscription_id"]) for row in add_ons}
    staged = {row.subscription_id: row for row in _staged_rows(staging, bases_named) if row.subscription_id}
    failed = problems.lines()
    for row in add_ons:
        _assess_add_on(problems, proposals, row, subscriptions, bases, staged, failed)
    failed = problems.lines()
    assessed_keep(
        job.pk,
        proposals={line: proposal for line, proposal in proposals.items() if line not in failed},
        codes=problems.codes,
        ids={subscription_id: subscription.pk for subscription_id, subscription in subscriptions.items()},
    )
    return problems.errors


def _set_aside_skipped(staging: Staging, valid: list[dict[str, Any]], problems: _Problems) -> None:
    """Rows with MigrationEligible False are skipped — except an add-on whose base this batch
    migrates: it would move anyway, so the contradiction is a problem."""
    migrating_bases = {
        row["legacy_subscription_id"] for row in valid if row["migration_eligible"] and not row["add_on"]
    }
    skipped = []
    for row in valid:
        if row["migration_eligible"]:
            continue
        if row["add_on"] and row["base_subscription_id"] in migrating_bases:
            problems.add(
                row["line"],
                "MigrationEligible",
                "False",
                f"is False, but this add-on moves with its base {row['base_subscription_id']}, which this "
                "batch migrates (active add-ons always move with their base): write True, or take the "
                "base's row out",
            )
        else:
            skipped.append(row["line"])
    staging.set_outcome(SKIPPED, skipped)


def _assess_add_on(
    problems: _Problems,
    proposals: dict[int, MigrationProposal],
    row: dict[str, Any],
    subscriptions: dict[uuid.UUID, LegacySubscription],
    bases: dict[uuid.UUID, tuple[dict[str, Any], MigrationAssessment | None]],
    staged: dict[str, _StagedRow],
    failed: set[int],
) -> None:
    """An add-on row against its base's row: the base migrates in this batch, and the add-on asks
    for what moving with it gives."""
    base_id = str(row["base_subscription_id"])
    base = bases.get(row["base_subscription_id"])
    if base is None or base[0]["line"] in failed:
        problems.add(row["line"], "BaseSubscriptionId", base_id, _missing_base(base_id, staged.get(base_id)))
        return
    base_row, assessment = base
    if assessment is None:
        return  # submitted with its base by an earlier run of this import
    subscription = subscriptions[row["legacy_subscription_id"]]
    addon = next((p for a, p in assessment.addons if a.pk == subscription.pk), None)
    if addon is None:
        state = subscription.get_status_display().lower()
        problems.add(
            row["line"],
            "LegacySubscriptionId",
            subscription.subscription_id,
            EligibilityError(
                EligibilityCode.NOT_ACTIVE,
                f"The add-on is {state}; only active add-ons move with their base.",
            ),
        )
        return
    _check_add_on(problems, row, base_row, assessment, addon)
    _check_psa(problems, row["line"], row["nce_psa"], addon.catalog_item_id, None)
    proposals[row["line"]] = addon


def _missing_base(base_id: str, base: _StagedRow | None) -> str:
    if base is None:
        return (
            f"the base subscription {base_id} is not in this batch: an add-on migrates inside its base's "
            "migration; add the base's row with MigrationEligible True, or remove this row"
        )
    if base.valid and not base.eligible:
        return (
            f"the base subscription's row (line {base.line}) is skipped (MigrationEligible False): an "
            "add-on migrates only with its base"
        )
    return (
        f"the base subscription {base_id} (line {base.line}) cannot migrate, so neither can its add-ons: "
        f"see line {base.line}"
    )


# --- Loading --------------------------------------------------------------------------------------------


def _counts(staging: Staging) -> dict[str, int]:
    statement = pgsql.SQL(
        "SELECT count(*) FILTER (WHERE outcome = %s), count(*) FILTER (WHERE errors IS NOT NULL), "
        "count(*) FILTER (WHERE errors IS NULL AND outcome IS NULL) FROM {}"
    ).format(staging.identifier)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(cursor.cursor), [SKIPPED])
        skipped, rejected, valid = cursor.fetchone()
    return {"skipped": skipped, "rejected": rejected, "submitted": valid}


def _valid_proposals(job: JobRun, lines: Iterable[int]) -> list[MigrationProposal]:
    proposals = assessed_proposals(job.pk)
    return [proposals[line] for line in lines if line in proposals]


#: The columns the loader reads of the valid rows.
_LOADED = (
    "LegacySubscriptionId",
    "Term",
    "BillingPlan",
    "StartNewTermInNce",
    "SeatCount",
    "CustomTermEndDate",
    "AddOn",
)


def _load(staging: Staging, job: JobRun) -> dict[str, Any]:
    """The batch of the base rows (add-on rows move inside them) and its migration job; the batch
    keeps where its result file is and its price impact per currency."""
    with gc_paused():  # a file's rows: see gc_paused
        return _load_rows(staging, job)


def _load_rows(staging: Staging, job: JobRun) -> dict[str, Any]:
    valid = staging.valid_rows(_LOADED)
    counts = _counts(staging)
    # Named by primary key where the assessment read the subscription (the batch checks it is the
    # organization's again), else by its id.
    ids = assessed_ids(job.pk)
    rows = [
        {
            **(
                {"id": ids[row["legacy_subscription_id"]]}
                if row["legacy_subscription_id"] in ids
                else {"subscription_id": str(row["legacy_subscription_id"])}
            ),
            "term_duration": row["term"],
            "billing_cycle": row["billing_plan"],
            "purchase_full_term": bool(row["start_new_term_in_nce"]),
            "quantity": row["seat_count"],
            "custom_term_end_date": row["custom_term_end_date"].isoformat()
            if row["custom_term_end_date"]
            else None,
        }
        for row in valid
        if not row["add_on"]
    ]
    totals = totals_of(_valid_proposals(job, (row["line"] for row in valid)))
    parameters = {
        "bam": {
            "import_job": job.pk,
            "rows_file": job.parameters["bam_rows_file"],
            "counts": counts,
            "totals": totals,
        }
    }
    summary = batch_rows_load(staging, job, rows, parameters=parameters)
    return {**summary, "skipped": counts["skipped"], "price_totals": totals}


BAM_IMPORTER = register(Importer(layout=BAM, load=_load, assess=_assess, write_result=bam_result_write))

__all__ = ("BAM", "BAM_IMPORTER", "is_bam_header")
