"""The first vendor admin of an installation that starts without the demo (README, "Starting without
the demo"): a staff account in the "Vendor admins" group, which may manage organizations, people,
invitations and the vendor's data feeds in the admin."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User
from accounts.services import people
from portal.audit import audit_record

VENDOR_ADMIN_GROUP = "Vendor admins"
#: Third-party apps whose admin pages a vendor admin works in besides the project's own: the
#: schedules of the vendor's feeds and jobs (Celery beat), and sign-in lockouts to lift (axes).
THIRD_PARTY_APPS = ("django_celery_beat", "axes")
LOCAL_ADMIN_URL = "http://localhost:8000/admin/"


def vendor_admin_permissions() -> list[Permission]:
    """Every permission of the project's own apps (organizations, people, invitations, the
    workspaces and their vendor feeds) and of THIRD_PARTY_APPS; not auth's (groups) nor the
    second-factor devices'."""
    root = Path(settings.BASE_DIR).resolve()
    labels = {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root) and ".venv" not in Path(config.path).parts
    }
    labels |= {config.label for config in apps.get_app_configs() if config.label in THIRD_PARTY_APPS}
    return list(Permission.objects.filter(content_type__app_label__in=labels))


def vendor_admin_group() -> Group:
    """The "Vendor admins" group; permissions it lacks are added, none is taken away (the vendor may
    have given it more)."""
    group, _ = Group.objects.get_or_create(name=VENDOR_ADMIN_GROUP)
    group.permissions.add(*vendor_admin_permissions())
    return group


class Command(BaseCommand):
    help = (
        "Create the first vendor admin: a staff account (no partner organization) in the "
        f'"{VENDOR_ADMIN_GROUP}" group. Running it again for the same email changes nothing, '
        "unless --reset-password."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The admin's sign-in email.")
        parser.add_argument("--name", default="", help="Display name (optional).")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (else it is asked twice).",
        )
        parser.add_argument(
            "--superuser", action="store_true", help="Also a superuser: every permission, the group aside."
        )
        parser.add_argument(
            "--reset-password", action="store_true", help="The account exists: set a new password."
        )

    def handle(self, *args, **options):
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{options['email']!r} is not a valid email address.") from exc
        stdin = options.get("stdin") or sys.stdin
        existing = User.objects.filter(email=email).first()
        if existing is not None:
            self.existing(existing, options, stdin)
            return
        password = self.read_password(options, stdin)
        with transaction.atomic():
            try:
                user = people.user_create(
                    actor=None,
                    organization=None,
                    email=email,
                    password=password,
                    display_name=options["name"],
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user.is_staff = True
            user.is_superuser = options["superuser"]
            user.save(update_fields=["is_staff", "is_superuser"])
            group = vendor_admin_group()
            user.groups.add(group)
            audit_record(
                actor=None,
                action="user.vendor_admin_created",
                organization_id=None,
                target=user,
                changes={"is_staff": True, "is_superuser": user.is_superuser, "groups": [group.name]},
            )
        kind = "superuser" if user.is_superuser else "staff"
        self.stdout.write(
            self.style.SUCCESS(f'Vendor admin {email} created ({kind}, group "{VENDOR_ADMIN_GROUP}").')
        )
        self.print_next_steps(email)

    def existing(self, user: User, options, stdin) -> None:
        if user.organization_id is not None or user.is_service_account:
            raise CommandError(
                f"{user.email} is a member of {user.organization or 'an API client'}, not vendor staff; "
                "a vendor admin belongs to no partner organization. Use another email."
            )
        if not options["reset_password"]:
            staff = "a vendor admin" if user.is_staff else "an account but not staff"
            self.stdout.write(
                f"{user.email} is already {staff}; nothing changed (--reset-password sets a new password)."
            )
            return
        password = self.read_password(options, stdin, user=user)
        with transaction.atomic():
            user.set_password(password)
            user.save(update_fields=["password"])
            audit_record(actor=None, action="user.password_reset", organization_id=None, target=user)
        self.stdout.write(self.style.SUCCESS(f"New password set for {user.email}."))
        self.print_next_steps(user.email)

    def read_password(self, options, stdin, user: User | None = None) -> str:
        if options["password_stdin"]:
            password = stdin.readline().rstrip("\r\n")
        elif stdin.isatty():
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The passwords don't match.")
        else:
            raise CommandError(
                "No terminal to ask the password in: give it on standard input with --password-stdin."
            )
        if not password:
            raise CommandError("The password is empty.")
        try:
            validate_password(password, user or User(email=options["email"].strip().lower()))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        return password

    def print_next_steps(self, email: str) -> None:
        steps = [
            "",
            "Next:",
            f"  1. Open /admin/ on the portal (with `make run`: {LOCAL_ADMIN_URL}) and sign in as {email}.",
            "  2. The first sign-in sets up the second factor: scan the QR code with an authenticator app,",
            "     enter its code, and keep the backup codes it shows.",
            "  3. Accounts › Organizations › Add organization; save it, then “Invite owner” and send the",
            "     link shown to the organization's Owner.",
        ]
        self.stdout.write("\n".join(steps))
