"""Signals the accounts app sends, the sign-in audit receivers and the lockout notice."""

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver
from django.urls import reverse
from django.utils import timezone

from accounts.audiences import people_named, people_who_can
from accounts.models import User
from accounts.notifications import SIGN_IN_LOCKED
from portal.audit import audit_record
from portal.capabilities import Capability
from portal.history import actor_label
from portal.notifications import notify

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


def _lockout_occurrence(username: str) -> str:
    """What tells one lockout from the next: the oldest failed-attempt record axes keeps for the
    username (every further failure while locked out adds to it, so a locked account does not notify
    again at each try; after the cool-off axes forgets it and the next lockout is new). Without
    records (another axes handler), the cool-off period the lockout falls in."""
    first = (
        AccessAttempt.objects.filter(username__iexact=username)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first is not None:
        return f"attempt-{first}"
    period = max(int(settings.AXES_COOLOFF_TIME.total_seconds()), 60) if settings.AXES_COOLOFF_TIME else 3600
    return f"period-{int(timezone.now().timestamp()) // period}"


@receiver(user_locked_out)
def notify_sign_in_locked(sender, request=None, username=None, ip_address=None, **kwargs):
    """Axes blocked sign-in after repeated failures: tell the person, if the username names an
    active person, and their organization's account admins (who can review the audit log)."""
    if not username:
        return
    user = (
        User.objects.filter(email__iexact=username.strip(), is_active=True, is_service_account=False)
        .exclude(organization__isnull=True)
        .first()
    )
    if user is None:
        return  # an unknown (or staff) name: nobody of an organization to tell
    organization_id = user.organization_id
    event_key = f"accounts.sign_in_locked:{user.pk}:{_lockout_occurrence(username)}"
    source = f" from {ip_address}" if ip_address else ""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    blocked = f"for {minutes} minutes" if minutes else "until an administrator unlocks it"
    title = f"Sign-in locked for {user.email} after repeated failed attempts"
    notify(
        category_code=SIGN_IN_LOCKED.code,
        organization_id=organization_id,
        recipients=people_named(organization_id, [user.pk]),
        title=title,
        body=(
            f"Sign-in as {user.email} failed {settings.AXES_FAILURE_LIMIT} times in a row{source}, so it "
            f"is blocked there {blocked}. If this was you, wait and try again, or reset your password. "
            "If it was not, someone is trying your password: change it once you can sign in, and make "
            "sure your authenticator app is the only second factor on your account."
        ),
        url=reverse("home:profile"),
        event_key=event_key,
    )
    notify(
        category_code=SIGN_IN_LOCKED.code,
        organization_id=organization_id,
        recipients=people_who_can(organization_id, Capability.ACCOUNT_MANAGE).exclude(pk=user.pk),
        title=title,
        body=(
            f"Sign-in as {user.get_full_name()} ({user.email}) failed {settings.AXES_FAILURE_LIMIT} times "
            f"in a row{source}, so it is blocked there {blocked}. If {user.get_short_name()} did not "
            "mistype their password, someone is guessing it: check the sign-in attempts in the audit "
            "log and ask them to change their password."
        ),
        url=reverse("accounts:user-detail", args=[user.pk]),
        event_key=event_key,
    )
