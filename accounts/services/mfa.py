"""Second factor: TOTP enrolment with a QR code, and single-use backup codes (django-otp)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from portal.audit import audit_record

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
    return codes


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
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="mfa.reset", organization_id=user.organization_id, target=user)
