"""Signals the accounts app sends, and the sign-in audit receivers."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

from portal.audit import audit_record
from portal.history import actor_label

#: Sent inside the transaction that creates customers (one form, one API call, or one chunk of an
#: import) with `organization_id`, `customer_ids` and `actor`; receivers must be idempotent, and
#: one that fails rolls the customers back. The Security app grants the default GDAP roles here.
customers_created = Signal()


@receiver(user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    audit_record(actor=user, action="user.signed_in", organization_id=user.organization_id, target=user)


@receiver(user_logged_out)
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="user.signed_out", organization_id=user.organization_id, target=user)


@receiver(user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Failed attempts are not tied to an organization: the email may not exist.
    audit_record(
        actor=None,
        action="user.sign_in_failed",
        organization_id=None,
        changes={"email": actor_label(None) if not credentials else credentials.get("username", "")},
    )
