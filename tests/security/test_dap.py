"""No code path creates a DAP relationship (spec/security.md §3): the one importer refuses links
established after Partner Center stopped creating them, the database check refuses a raw insert,
no project code builds a DapRelationship anywhere else, and new customers get GDAP, never DAP.

(Refusals of the API and the admin are tested with them: tests/security/test_api*.py, test_admin.py.)
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import Customer
from accounts.services.customer_import import customers_import_start
from accounts.services.customers import customer_create
from portal.models import AuditEvent
from security.choices import DAP_CREATION_ENDED, GLOBAL_ADMINISTRATOR_ROLE_ID, GdapStatus
from security.models import DapRelationship, GdapRelationship
from security.services.dap import dap_legacy_import, dap_remove
from tests.factories import CustomerFactory, DapRelationshipFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = (
    "accounts",
    "commerce",
    "cosell",
    "earnings",
    "incentives",
    "membership",
    "portal",
    "security",
)
#: The one place allowed to write DAP rows: (file relative to the project, function).
ALLOWED = ("security/services/dap.py", "dap_legacy_import")
WRITERS = frozenset({"create", "bulk_create", "get_or_create", "update_or_create", "acreate", "abulk_create"})
MODEL = "DapRelationship"
TABLE = DapRelationship._meta.db_table


# --- 1. The importer and the database check -------------------------------------------------------


def test_the_cut_off_is_the_end_of_november_2023():
    assert (
        datetime(2023, 11, 30, 23, 59, 59, tzinfo=UTC)
        < DAP_CREATION_ENDED
        <= datetime(2023, 12, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    "established_at",
    [
        datetime(2023, 12, 1, tzinfo=UTC),
        datetime(2023, 12, 1, 0, 0, 1, tzinfo=UTC),
        datetime(2025, 6, 1, tzinfo=UTC),
        datetime(2023, 12, 1),  # naive: read as UTC
    ],
    ids=["the-cut-off", "a-second-after", "2025", "naive"],
)
def test_the_importer_refuses_links_from_the_cut_off_on(org_a, established_at):
    customer = CustomerFactory(organization=org_a)
    with pytest.raises(ValidationError) as excinfo:
        dap_legacy_import(organization=org_a, customer=customer, established_at=established_at)
    message = excinfo.value.message_dict["established_at"][0]
    assert "can no longer be created" in message and "2023-12-01" in message and "GDAP" in message
    assert not DapRelationship.objects.exists()


def test_the_importer_mirrors_a_legacy_link(org_a):
    customer = CustomerFactory(organization=org_a)
    dap = dap_legacy_import(
        organization=org_a,
        customer=customer,
        established_at=datetime(2023, 11, 30, 23, 59, 59, tzinfo=UTC),
        last_activity_at=datetime(2024, 2, 1, tzinfo=UTC),
    )
    assert (dap.organization, dap.customer, dap.removed_at) == (org_a, customer, None)
    assert AuditEvent.objects.get(action="dap.imported").target_id == str(dap.pk)

    # Importing it again refreshes the activity; it never makes a second row.
    again = dap_legacy_import(
        organization=org_a,
        customer=customer,
        established_at=datetime(2023, 11, 30, tzinfo=UTC),
        last_activity_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    assert again.pk == dap.pk
    assert again.last_activity_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert DapRelationship.objects.count() == 1


def test_the_importer_checks_customer_and_dates(org_a, org_b):
    with pytest.raises(ValidationError) as excinfo:
        dap_legacy_import(
            organization=org_a,
            customer=CustomerFactory(organization=org_b),
            established_at=datetime(2021, 1, 1, tzinfo=UTC),
        )
    assert "does not belong" in excinfo.value.message_dict["customer"][0]
    with pytest.raises(ValidationError) as excinfo:
        dap_legacy_import(
            organization=org_a,
            customer=CustomerFactory(organization=org_a),
            established_at=datetime(2021, 1, 1, tzinfo=UTC),
            last_activity_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    assert "before" in excinfo.value.message_dict["last_activity_at"][0]


def test_a_removed_dap_cannot_come_back(org_a, alice):
    customer = CustomerFactory(organization=org_a)
    dap = dap_legacy_import(
        organization=org_a, customer=customer, established_at=datetime(2021, 1, 1, tzinfo=UTC)
    )
    dap_remove(actor=alice, dap=dap)
    dap.refresh_from_db()
    assert (dap.removed_by, dap.removed_at is not None) == (alice, True)
    assert AuditEvent.objects.filter(action="dap.removed").count() == 1

    with pytest.raises(ValidationError) as excinfo:
        dap_legacy_import(
            organization=org_a, customer=customer, established_at=datetime(2021, 1, 1, tzinfo=UTC)
        )
    assert "cannot come back" in excinfo.value.message_dict["customer"][0]
    with pytest.raises(ValidationError) as excinfo:
        dap_remove(actor=alice, dap=dap)
    assert "already removed" in excinfo.value.message_dict["removed_at"][0]


def test_removing_a_dap_needs_the_gdap_role(org_a, bob, charlie, verified_client):
    dap = DapRelationshipFactory(organization=org_a)
    url = reverse("security:dap-remove", args=[dap.pk])
    assert verified_client(bob).post(url).status_code == 403
    assert verified_client(charlie).post(url).status_code == 404
    dap.refresh_from_db()
    assert dap.removed_at is None


def test_the_database_refuses_a_raw_insert_after_the_cut_off(org_a):
    customer = CustomerFactory(organization=org_a)
    insert = (
        f"INSERT INTO {TABLE} (organization_id, customer_id, established_at, detected_at) "  # noqa: S608 - our table name
        "VALUES (%s, %s, %s, now())"
    )
    with (
        pytest.raises(IntegrityError, match="dap_only_legacy"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(insert, [org_a.pk, customer.pk, datetime(2023, 12, 1, tzinfo=UTC)])
    with pytest.raises(IntegrityError, match="dap_only_legacy"), transaction.atomic():
        DapRelationship.objects.bulk_create(
            [
                DapRelationship(
                    organization=org_a, customer=customer, established_at=datetime(2024, 3, 1, tzinfo=UTC)
                )
            ]
        )
    # An older link is what the check lets through.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(insert, [org_a.pk, customer.pk, datetime(2023, 11, 30, 23, 59, tzinfo=UTC)])
    assert DapRelationship.objects.count() == 1


# --- 2. No project code creates a DapRelationship anywhere else -----------------------------------


class _DapWriters(ast.NodeVisitor):
    """Finds DapRelationship constructions, manager writes and raw INSERTs into its table."""

    def __init__(self, path: str):
        self.path = path
        self.names = {MODEL}  # names bound to the model class in this module
        self.functions: list[str] = []
        self.found: list[tuple[str, int, str, str]] = []

    def _mentions_model(self, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.names:
                return True
            if isinstance(sub, ast.Attribute) and sub.attr == MODEL:
                return True
        return False

    def _hit(self, node: ast.AST, what: str) -> None:
        self.found.append(
            (self.path, node.lineno, self.functions[-1] if self.functions else "<module>", what)
        )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == MODEL:
                self.names.add(alias.asname or alias.name)

    def visit_Assign(self, node: ast.Assign) -> None:
        # `Dap = apps.get_model("security", "DapRelationship")` or `Dap = DapRelationship`
        value = node.value
        binds_model = self._mentions_model(value) and not isinstance(value, ast.Call)
        if isinstance(value, ast.Call) and any(
            isinstance(arg, ast.Constant) and arg.value in (MODEL, f"security.{MODEL}") for arg in value.args
        ):
            binds_model = True
        if binds_model:
            self.names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Name) and func.id in self.names) or (
            isinstance(func, ast.Attribute) and func.attr == MODEL
        ):
            self._hit(node, "construction")
        elif isinstance(func, ast.Attribute) and func.attr in WRITERS and self._mentions_model(func.value):
            self._hit(node, func.attr)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "insert" in node.value.lower() and TABLE in node.value.lower():
            self._hit(node, "raw INSERT")


def _scan_source(source: str, path: str) -> list[tuple[str, int, str, str]]:
    visitor = _DapWriters(path)
    visitor.visit(ast.parse(source, filename=path))
    return visitor.found


def _project_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    files = [path for app in PROJECT_APPS for path in sorted((root / app).rglob("*.py"))]
    assert len(files) > 100, "the scan must see the project's code"
    return files


def test_the_scanner_catches_every_way_of_writing_a_dap():
    source = """
from security.models import DapRelationship as Legacy
import security.models

def sneaky(apps, schema_editor):
    Model = apps.get_model("security", "DapRelationship")
    Model.objects.create(customer_id=1)
    Legacy(customer_id=1).save()
    security.models.DapRelationship(customer_id=1)
    security.models.DapRelationship.objects.bulk_create([])
    Legacy._default_manager.get_or_create(customer_id=1)
    Legacy.objects.update_or_create(customer_id=1)
    cursor.execute("INSERT INTO security_daprelationship (customer_id) VALUES (1)")
"""
    found = _scan_source(source, "example.py")
    assert [what for *_, what in found] == [
        "create",
        "construction",
        "construction",
        "bulk_create",
        "get_or_create",
        "update_or_create",
        "raw INSERT",
    ]
    assert {function for _, _, function, _ in found} == {"sneaky"}
    # Reading and removing are not creating.
    assert not _scan_source(
        "DapRelationship.objects.filter(pk=1).update(removed_at=None)\nDapRelationship.objects.get(pk=1)\n",
        "reader.py",
    )


def test_no_project_code_creates_a_dap_outside_the_legacy_importer():
    root = Path(settings.BASE_DIR)
    found = []
    for path in _project_files():
        found += _scan_source(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())

    outside = [hit for hit in found if (hit[0], hit[2]) != ALLOWED]
    assert outside == [], "DAP relationships are created outside dap_legacy_import"
    # The scan sees the one allowed writer, so it is not vacuous.
    assert [(path, function) for path, _, function, _ in found] == [ALLOWED]


# --- 3. New customers get the default GDAP roles, never DAP ---------------------------------------

DEFAULT_ROLES = {
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",  # Directory Readers
    "9360feb5-f418-4baa-8175-e2a00bac4301",  # Directory Writers
    "4d6ac14f-3453-41d0-bef9-a3e0c569773a",  # License Administrator
    "f023fd81-a637-4b56-95fd-791ac0226033",  # Service Support Administrator
    "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
    "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",  # Privileged Authentication Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",  # Global Reader
}


def _assert_default_gdap_and_no_dap(customer: Customer) -> None:
    relationship = GdapRelationship.objects.get(customer=customer)
    roles = {str(pk) for pk in relationship.roles.values_list("pk", flat=True)}
    assert roles == DEFAULT_ROLES
    assert len(roles) == 11 and GLOBAL_ADMINISTRATOR_ROLE_ID not in roles
    assert (relationship.duration, relationship.auto_extend_duration) == (
        timedelta(days=730),
        timedelta(days=180),
    )
    assert (relationship.status, relationship.is_default_template) == (GdapStatus.ACTIVE, True)
    assert relationship.end_at == relationship.activated_at + timedelta(days=730)
    assert not DapRelationship.objects.filter(customer=customer).exists()


def test_customer_create_gives_default_gdap_and_no_dap(alice):
    customer = customer_create(
        actor=alice,
        organization=alice.organization,
        name="Contoso",
        domain="contoso.example",
        country="DE",
        segment="commercial",
    )
    _assert_default_gdap_and_no_dap(customer)
    assert not DapRelationship.objects.exists()


def test_the_customer_import_gives_each_new_customer_default_gdap_and_no_dap(
    alice, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "customers.csv",
        b"name,domain,country,segment\nContoso,contoso.example,DE,commercial\n"
        b"Adatum,adatum.example,FR,education\nFabrikam,fabrikam.example,US,government\n",
        content_type="text/csv",
    )
    with django_capture_on_commit_callbacks(execute=True):
        customers_import_start(actor=alice, organization=alice.organization, upload=upload)

    customers = list(Customer.objects.filter(organization=alice.organization))
    assert len(customers) == 3
    for customer in customers:
        _assert_default_gdap_and_no_dap(customer)
    assert GdapRelationship.objects.count() == 3
    assert not DapRelationship.objects.exists()
