"""The domain operations of the Earnings workspace: the only code that changes its state.

The payout run (`engine`), payment status changes and holds (`payments`), manual adjustments
(`ledger`) and the summary rollup (`summary`).
"""

from earnings.services.engine import (
    JOB_KIND_PAYOUT_RUN,
    payout_run_create,
    payout_run_execute,
    payout_run_start,
)
from earnings.services.ledger import adjustment_create
from earnings.services.payments import TRANSITIONS, hold_set, payment_status_change
from earnings.services.summary import summary_rebuild

__all__ = (
    "JOB_KIND_PAYOUT_RUN",
    "TRANSITIONS",
    "adjustment_create",
    "hold_set",
    "payment_status_change",
    "payout_run_create",
    "payout_run_execute",
    "payout_run_start",
    "summary_rebuild",
)
