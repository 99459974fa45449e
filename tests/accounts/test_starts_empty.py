"""Issue 18, item 5 — starts empty when asked: `make run DEMO=0` seeds nothing, `create_vendor_admin`
makes the first vendor admin, who creates an organization in the admin and invites its Owner, who
accepts, enrols the second factor and lands in an empty portal. `seed_demo` refuses a real database."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import ORGANIZATIONS, STAFF_EMAIL
from accounts.management.commands.create_vendor_admin import VENDOR_ADMIN_GROUP
from accounts.models import Customer, Invitation, Organization, PartnerLocation, RoleAssignment, User
from accounts.services import people
from portal import embedded
from portal.models import AuditEvent
from portal.roles import Role
from tests.conftest import verified_session
from tests.factories import OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
VENDOR_EMAIL = "ada@vendor.example"
VENDOR_PASSWORD = "Quiet-Harbour-Lantern-42"
OWNER_EMAIL = "owner@contoso-partner.example"
OWNER_PASSWORD = "Amber-Kettle-Orchard-77"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _create_vendor_admin(*args: str, password: str = VENDOR_PASSWORD, email: str = VENDOR_EMAIL) -> str:
    out = io.StringIO()
    call_command(
        "create_vendor_admin",
        "--email",
        email,
        "--password-stdin",
        *args,
        stdin=io.StringIO(password + "\n"),
        stdout=out,
    )
    return out.getvalue()


# --- make run DEMO=0: portal.embedded decides, without starting anything -------------------------


@pytest.mark.parametrize(
    ("environ", "flag", "expected"),
    [
        ({}, None, True),
        ({"PORTAL_DEMO": "1"}, None, True),
        ({"PORTAL_DEMO": "0"}, None, False),
        ({"PORTAL_DEMO": "no"}, None, False),
        ({"PORTAL_DEMO": " False "}, None, False),
        ({"PORTAL_DEMO": "yes"}, None, True),
        ({"PORTAL_DEMO": "1"}, False, False),
        ({"PORTAL_DEMO": "0"}, True, True),
    ],
)
def test_the_demo_is_loaded_unless_turned_off(environ, flag, expected):
    assert embedded.demo_wanted(environ, flag) is expected


def test_a_bad_demo_value_is_refused():
    with pytest.raises(embedded.EmbeddedServiceError, match="PORTAL_DEMO"):
        embedded.demo_wanted({"PORTAL_DEMO": "maybe"})


def test_without_the_demo_seed_demo_is_not_among_the_setup_commands():
    assert ["seed_demo", "--if-empty"] in embedded.setup_commands(demo=True)
    without = embedded.setup_commands(demo=False)
    assert not any("seed_demo" in command for command in without)
    assert without[0] == ["migrate", "--noinput"]


@pytest.mark.parametrize(
    ("argv", "environ", "expected"), [(["run"], {}, True), (["run", "--no-demo"], {}, False)]
)
def test_the_command_line_passes_the_choice_to_run(monkeypatch, argv, environ, expected):
    chosen = {}
    monkeypatch.delenv("PORTAL_DEMO", raising=False)
    monkeypatch.setattr(embedded, "run", lambda **kwargs: chosen.update(kwargs) or 0)
    assert embedded.main(argv) == 0
    assert chosen["demo"] is expected


def test_make_run_demo_0_sets_portal_demo(monkeypatch):
    chosen = {}
    monkeypatch.setenv("PORTAL_DEMO", "0")
    monkeypatch.setattr(embedded, "run", lambda **kwargs: chosen.update(kwargs) or 0)
    assert embedded.main(["run"]) == 0
    assert chosen["demo"] is False
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "run", "DEMO=0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "PORTAL_DEMO='0'" in dry.stdout and "portal.embedded run" in dry.stdout
    default = subprocess.run(
        ["make", "-n", "--no-print-directory", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert "PORTAL_DEMO='1'" in default.stdout


class _Started(Exception):
    """Raised instead of starting web, worker and beat."""


def test_run_without_the_demo_never_calls_seed_demo(monkeypatch, tmp_path):
    ran: list[list[str]] = []

    def fake_run(command, **kwargs):
        ran.append(command[2:])
        return subprocess.CompletedProcess(command, 0)

    def fake_popen(*args, **kwargs):
        raise _Started

    monkeypatch.setattr(embedded, "ensure_services", lambda data_dir: {"DATABASE_URL": "x", "REDIS_URL": "y"})
    monkeypatch.setattr(embedded.subprocess, "run", fake_run)
    monkeypatch.setattr(embedded.subprocess, "Popen", fake_popen)
    with pytest.raises(_Started):
        embedded.run(port=8999, data_dir=tmp_path, demo=False)
    assert ran == [["migrate", "--noinput"], ["collectstatic", "--noinput", "-v", "0"]]
    ran.clear()
    with pytest.raises(_Started):
        embedded.run(port=8999, data_dir=tmp_path, demo=True)
    assert ran[-1] == ["seed_demo", "--if-empty"]


# --- seed_demo refuses a database of its own -----------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_organizations_of_its_own():
    OrganizationFactory(legal_name="Real Partner AG", partner_global_id="7000001")
    with pytest.raises(CommandError, match="Real Partner AG"):
        call_command("seed_demo", "--quiet")
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", "--quiet", stdout=out)  # what `make run` runs: no failure
    assert "not loading the demo" in out.getvalue()
    demo_ids = [demo.partner_global_id for demo in ORGANIZATIONS]
    assert not Organization.objects.filter(partner_global_id__in=demo_ids).exists()
    assert not User.objects.filter(email=STAFF_EMAIL).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_a_vendor_admin_of_its_own():
    _create_vendor_admin()
    with pytest.raises(CommandError, match=VENDOR_EMAIL):
        call_command("seed_demo", "--quiet")
    assert not User.objects.filter(email=STAFF_EMAIL).exists()


# --- create_vendor_admin ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_vendor_admin_creates_a_staff_account_in_the_vendor_group():
    output = _create_vendor_admin("--name", "Ada Vendor", email="Ada@Vendor.example")
    admin = User.objects.get(email=VENDOR_EMAIL)
    assert admin.is_staff and not admin.is_superuser and admin.organization_id is None
    assert admin.display_name == "Ada Vendor" and admin.check_password(VENDOR_PASSWORD)
    assert list(admin.groups.values_list("name", flat=True)) == [VENDOR_ADMIN_GROUP]
    for permission in (
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.add_invitation",
        "accounts.change_user",
        "earnings.add_transaction",
        "incentives.add_opportunity",
        "django_celery_beat.change_periodictask",
    ):
        assert admin.has_perm(permission), permission
    assert not admin.has_perm("auth.change_group")
    assert AuditEvent.objects.filter(target_id=str(admin.pk), action="user.vendor_admin_created").exists()
    assert "/admin/" in output and "second factor" in output and "Invite owner" in output


@pytest.mark.django_db
def test_create_vendor_admin_is_idempotent_unless_reset_password():
    _create_vendor_admin()
    admin = User.objects.get(email=VENDOR_EMAIL)
    again = _create_vendor_admin(password="Another-Secret-Phrase-31")
    assert "already" in again and "nothing changed" in again
    admin.refresh_from_db()
    assert admin.check_password(VENDOR_PASSWORD)
    assert User.objects.filter(email=VENDOR_EMAIL).count() == 1
    assert Group.objects.filter(name=VENDOR_ADMIN_GROUP).count() == 1

    reset = _create_vendor_admin("--reset-password", password="Another-Secret-Phrase-31")
    assert "New password" in reset
    admin.refresh_from_db()
    assert admin.check_password("Another-Secret-Phrase-31")
    assert AuditEvent.objects.filter(target_id=str(admin.pk), action="user.password_reset").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@vendor.example", ""])
def test_create_vendor_admin_refuses_a_bad_email(email):
    with pytest.raises(CommandError, match="not a valid email"):
        _create_vendor_admin(email=email)
    assert not User.objects.filter(is_staff=True).exists()


@pytest.mark.django_db
def test_create_vendor_admin_refuses_a_weak_password_a_partner_email_and_no_password(org_a, alice):
    with pytest.raises(CommandError, match="too short"):
        _create_vendor_admin(password="short")
    with pytest.raises(CommandError, match="not vendor staff"):
        _create_vendor_admin(email=alice.email)
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command(
            "create_vendor_admin", "--email", VENDOR_EMAIL, stdin=io.StringIO(""), stdout=io.StringIO()
        )
    assert not User.objects.filter(is_staff=True).exists()


# --- the admin: create an organization, invite its Owner --------------------------------------------


@pytest.fixture
def vendor_admin(db):
    _create_vendor_admin()
    return User.objects.get(email=VENDOR_EMAIL)


def _organization_form(client: Client) -> dict[str, str]:
    """The add form's POST data: the organization and its headquarters location (the inline)."""
    page = client.get(reverse("admin:accounts_organization_add"))
    assert page.status_code == 200
    (inline,) = page.context["inline_admin_formsets"]
    prefix = inline.formset.prefix
    return {
        "legal_name": "Contoso Partner GmbH",
        "partner_global_id": "7654321",
        "country": "de",
        "partner_types": ["isv", "services"],
        "website": "contoso-partner.example",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-partner_id": "7654322",
        f"{prefix}-0-country": "DE",
        f"{prefix}-0-name": "Contoso Partner GmbH (Berlin)",
        f"{prefix}-0-is_headquarters": "on",
        "_save": "Save",
    }


def _invite_owner(vendor: User) -> tuple[Organization, str]:
    """The vendor's admin walk: add the organization, invite its Owner; returns it and the link."""
    client = verified_session(vendor)
    response = client.post(reverse("admin:accounts_organization_add"), _organization_form(client))
    organization = Organization.objects.get(partner_global_id="7654321")
    invite_url = reverse("admin:accounts_organization_invite_owner", args=[organization.pk])
    assert response.status_code == 302 and response["Location"] == invite_url
    page = client.get(invite_url)
    assert page.status_code == 200 and "None yet" in page.content.decode()
    response = client.post(
        invite_url,
        {"email": OWNER_EMAIL.upper(), "display_name": "Olga Owner", "global_admin": "on"},
        follow=True,
    )
    assert response.status_code == 200
    invitation = Invitation.objects.get(organization=organization)
    link = f"http://testserver{reverse('accounts:invitation-accept', args=[invitation.token])}"
    notices = [str(message) for message in response.context["messages"]]
    assert any(link in notice for notice in notices), notices
    assert link in response.content.decode()  # listed with the open invitations, to copy again
    return organization, link


def test_the_vendor_admin_creates_an_organization_and_invites_its_owner(vendor_admin):
    organization, link = _invite_owner(vendor_admin)
    assert organization.legal_name == "Contoso Partner GmbH" and organization.country == "DE"
    assert organization.partner_types == ["isv", "services"]
    assert organization.website == "https://contoso-partner.example"
    location = PartnerLocation.objects.get(organization=organization)
    assert location.is_headquarters and location.partner_id == "7654322"
    assert AuditEvent.objects.filter(
        actor=vendor_admin, action="organization.created", organization_id=organization.pk
    ).exists()

    invitation = Invitation.objects.get(organization=organization)
    assert invitation.email == OWNER_EMAIL and invitation.invited_by == vendor_admin
    assert invitation.roles == [Role.OWNER, Role.GLOBAL_ADMIN]
    audit = AuditEvent.objects.get(actor=vendor_admin, action="user.invited", organization_id=organization.pk)
    assert audit.changes["roles"] == [Role.OWNER, Role.GLOBAL_ADMIN]

    # One Owner invitation at a time; the change page says who was invited and offers the button.
    client = verified_session(vendor_admin)
    invite_url = reverse("admin:accounts_organization_invite_owner", args=[organization.pk])
    again = client.post(invite_url, {"email": "someone.else@contoso-partner.example"})
    assert again.status_code == 200 and "already has an open invitation" in again.content.decode()
    assert Invitation.objects.filter(organization=organization).count() == 1
    change = client.get(
        reverse("admin:accounts_organization_change", args=[organization.pk])
    ).content.decode()
    assert invite_url in change and f"Invited: {OWNER_EMAIL}" in change


def test_only_verified_vendor_staff_reach_the_owner_invitation(vendor_admin, org_a, alice):
    url = reverse("admin:accounts_organization_invite_owner", args=[org_a.pk])
    unverified = Client()
    unverified.force_login(vendor_admin)
    assert unverified.get(url)["Location"].startswith(reverse("accounts:mfa-verify"))
    viewer = UserFactory(organization=None, is_staff=True, email="viewer@vendor.example")
    assert verified_session(viewer).post(url, {"email": OWNER_EMAIL}).status_code == 403
    assert not Invitation.objects.exists()
    # The service refuses anyone but vendor staff, and an organization that has its Owner already.
    with pytest.raises(PermissionDenied):
        people.owner_invite(actor=alice, organization=org_a, email=OWNER_EMAIL)
    response = verified_session(vendor_admin).post(url, {"email": OWNER_EMAIL})
    assert "already has an Owner" in response.content.decode()
    assert not Invitation.objects.exists()


# --- the Owner accepts and lands in an empty portal --------------------------------------------------


def test_the_owner_accepts_enrols_and_lands_in_an_empty_portal(vendor_admin):
    organization, link = _invite_owner(vendor_admin)
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200 and organization.legal_name in page.content.decode()
    response = browser.post(
        link, {"display_name": "Olga Owner", "password": OWNER_PASSWORD, "password_again": OWNER_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    owner = User.objects.get(email=OWNER_EMAIL)
    assert owner.organization == organization
    assert set(RoleAssignment.objects.filter(user=owner).values_list("role", flat=True)) == {
        Role.OWNER,
        Role.GLOBAL_ADMIN,
    }

    # Sign in: the password, then the first enrolment of the authenticator app, then Home.
    response = browser.post(reverse("accounts:login"), {"username": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert response.status_code == 302
    setup = browser.get(reverse("home:index"), follow=True)
    assert b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    codes = browser.post(reverse("accounts:mfa-setup"), {"token": _code(device)})
    assert codes.status_code == 200 and len(codes.context["codes"]) == 10

    # Nothing but the new organization: no demo organization, no customer.
    assert list(Organization.objects.values_list("partner_global_id", flat=True)) == ["7654321"]
    assert not Customer.objects.exists()
    # The empty pages say what to do next: Home's Action Center asks for a Compliance admin (raised
    # when the vendor created the organization), Customers offers adding or importing them.
    home = browser.get(reverse("home:index"))
    assert home.status_code == 200
    text = re.sub(r"\s+", " ", home.content.decode())
    assert "Contoso Partner GmbH" in text and "Assign a Compliance admin" in text
    customers = browser.get(reverse("accounts:customer-list")).content.decode()
    assert "Add a customer" in customers and "Import a list" in customers
    for name in ("accounts:user-list", "commerce:index", "earnings:index", "incentives:index"):
        response = browser.get(reverse(name))
        assert response.status_code == 200, name


def test_a_new_vendor_admin_enrols_through_the_admin_sign_in(vendor_admin):
    """No device yet: /admin/ → sign-in → the first enrolment → back to /admin/."""
    browser = Client()
    response = browser.get("/admin/")
    assert response["Location"].startswith(reverse("accounts:login"))
    response = browser.post(
        response["Location"], {"username": VENDOR_EMAIL, "password": VENDOR_PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    setup = browser.get("/admin/", follow=True)
    assert b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=vendor_admin, confirmed=False)
    codes = browser.post(f"{reverse('accounts:mfa-setup')}?next=/admin/", {"token": _code(device)})
    assert codes.status_code == 200 and codes.context["next"] == "/admin/"
    index = browser.get("/admin/")
    assert index.status_code == 200
    assert reverse("admin:accounts_organization_add") in index.content.decode()
