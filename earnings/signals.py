"""Signals other apps listen to; the Earnings workspace itself never acts on them.

`payment_sent(sender=Payment, payment=…, actor=…)`: a payment order reached Sent. Sent inside the
status change's transaction, so what receivers write commits or rolls back with it (e.g. the
Incentives claims paid by the payment become Completed).

`payout_run_earnings_due(sender=JobRun, period=…, job=…)`: the payout run for `period` asks the
workspaces above it for the earnings they owe (e.g. Incentives' approved claims). Sent inside the
run's "claims" chunk (one transaction, committed once); each receiver writes its earnings rows and
returns a dict of counts, which the run adds to its result.
"""

from django.dispatch import Signal

payment_sent = Signal()
payout_run_earnings_due = Signal()
