"""Second factor: TOTP enrolment with a QR code, and single-use backup codes (django-otp)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audiences import people_named
from accounts.models import User
from accounts.notifications import MFA_DEVICE_ADDED, MFA_DEVICE_REMOVED
from portal.audit import audit_record
from portal.notifications import notify

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "backup"
TOTP_DIGITS = 6


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator-app device; it counts only once a code from it is entered."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def totp_qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@transaction.atomic
def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device with a code from the app; returns fresh backup codes, or None if wrong."""
    if device.user_id != user.pk or not device.verify_token(token.strip().replace(" ", "")):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    others = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk)
    replaced = others.filter(confirmed=True).exists()
    others.delete()
    codes = backup_codes_regenerate(user=user)
    audit_record(
        actor=user,
        action="mfa.totp_replaced" if replaced else "mfa.totp_enrolled",
        organization_id=user.organization_id,
        target=user,
    )
    _device_added_notify(user=user, device=device, replaced=replaced)
    return codes


def _when() -> str:
    return f"{timezone.now():%d %b %Y at %H:%M} UTC"


def _device_added_notify(*, user: User, device: TOTPDevice, replaced: bool) -> None:
    """Tell the person: a second factor they did not set up means someone else holds their password."""
    if user.organization_id is None:
        return  # vendor staff: no organization to notify in
    what = "replaced your previous one, which no longer works" if replaced else "was added"
    notify(
        category_code=MFA_DEVICE_ADDED.code,
        organization_id=user.organization_id,
        recipients=people_named(user.organization_id, [user.pk]),
        title="Your authenticator app was replaced"
        if replaced
        else "An authenticator app was added to your account",
        body=(
            f"A new authenticator app {what} for signing in as {user.email} on {_when()}, and new "
            "backup codes were issued. If this was you, there is nothing to do. If it was not, someone "
            "knows your password: reset your password now and ask your account admin to reset your "
            "second factor."
        ),
        url=reverse("home:profile"),
        # The device is new at every enrolment: one notice per device, however often it is retried.
        event_key=f"accounts.mfa_device_added:{device.pk}",
    )


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_record(
        actor=user, action="mfa.backup_codes_issued", organization_id=user.organization_id, target=user
    )
    return codes


def second_factor_match(*, user: User, token: str):
    """The device that accepts `token` (an app code or an unused backup code), or None.

    Six digits go only to the authenticator app and anything else only to the backup codes, so
    a mistyped app code doesn't also count as a failed attempt (and a delay) on the backup codes.
    """
    token = token.strip().replace(" ", "")
    if not token:
        return None
    devices = (
        TOTPDevice.objects.filter(user=user, confirmed=True)
        if token.isdigit() and len(token) == TOTP_DIGITS
        else StaticDevice.objects.filter(user=user, confirmed=True)
    )
    for device in devices:
        if device.verify_token(token):
            return device
    return None


@transaction.atomic
def mfa_reset(*, actor: User, user: User) -> None:
    """Remove a user's devices so they enrol again (e.g. a lost phone); admins only."""
    removed_apps, _ = TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    TOTPDevice.objects.filter(user=user).delete()
    codes, _ = StaticDevice.objects.filter(user=user).delete()
    event = audit_record(actor=actor, action="mfa.reset", organization_id=user.organization_id, target=user)
    if (removed_apps or codes) and user.organization_id is not None:
        notify(
            category_code=MFA_DEVICE_REMOVED.code,
            organization_id=user.organization_id,
            recipients=people_named(user.organization_id, [user.pk]),
            title="Your authenticator app was removed",
            body=(
                f"Your authenticator app and backup codes were removed on {_when()} (a reset of your "
                "second factor). The next time you sign in you will set up a new authenticator app. "
                "If you did not ask for this, tell your account admin at once and reset your password."
            ),
            url=reverse("home:profile"),
            # One notice per reset (its audit row), a retry of the same reset included.
            event_key=f"accounts.mfa_device_removed:{event.pk}",
        )
