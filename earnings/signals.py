"""Signals other apps listen to; the Earnings workspace itself never acts on them.

`payment_sent(sender=Payment, payment=…, actor=…)`: a payment order reached Sent. Sent inside the
status change's transaction, so what receivers write commits or rolls back with it (e.g. the
Incentives claims paid by the payment become Completed).
"""

from django.dispatch import Signal

payment_sent = Signal()
