"""The domain operations of the Earnings workspace: the only code that changes its state.

The payout run (`engine`), payment status changes and holds (`payments`), manual adjustments
(`ledger`), the summaries the pages read (`summary`), background exports (`exports`) and
reconciliations (`reconciliation`: the file kept for the mapping step, then an import job);
transaction uploads are `transactions`.

Services don't check capabilities: the page (one check, `require_capability`) and the API policy
(`capabilities` per action) do, before calling them.
"""

from earnings.services.engine import (
    JOB_KIND_PAYOUT_RUN,
    payout_run_create,
    payout_run_execute,
    payout_run_start,
)
from earnings.services.exports import export_create, export_delete, export_execute, export_purge_expired
from earnings.services.ledger import adjustment_create
from earnings.services.payments import TRANSITIONS, hold_set, payment_status_change
from earnings.services.reconciliation import reconciliation_start, staged_delete, staged_open, staged_save
from earnings.services.summary import payment_status_summary_rebuild, summary_rebuild

__all__ = (
    "JOB_KIND_PAYOUT_RUN",
    "TRANSITIONS",
    "adjustment_create",
    "export_create",
    "export_delete",
    "export_execute",
    "export_purge_expired",
    "hold_set",
    "payment_status_change",
    "payment_status_summary_rebuild",
    "payout_run_create",
    "payout_run_execute",
    "payout_run_start",
    "reconciliation_start",
    "staged_delete",
    "staged_open",
    "staged_save",
    "summary_rebuild",
)
