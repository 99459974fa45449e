"""MFA reporting: the partner's own people (spec/security.md §2.1), customers' figures, their
import and the Azure subscriptions import (§2.2)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from portal.choices import JobStatus
from portal.models import AuditEvent, JobRun
from portal.roles import Role
from portal.uploads import UploadRejected
from security.choices import MfaMechanism, MfaMethod
from security.filters import CustomerMfaFilterSet, MfaUserFilterSet
from security.models import CustomerAzureSubscription, CustomerMfaStat
from security.selectors.mfa import (
    ADMIN_ROLES,
    customer_mfa_stats,
    customer_mfa_summary,
    customers_without_mfa_figures,
    mfa_coverage,
    mfa_people,
    mfa_rows,
)
from security.selectors.posture import settings_or_default
from security.services.mfa import (
    azure_budget_set,
    azure_subscriptions_import,
    customer_mfa_import,
    customer_mfa_upsert,
)
from security.services.settings import security_settings_update, user_mfa_policy_set
from tests.conftest import confirm_totp
from tests.factories import (
    CustomerAzureSubscriptionFactory,
    CustomerFactory,
    CustomerMfaStatFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def mfa_user_rows(organization, **params):
    """The people's rows as the MFA page and API read them, filtered by the API's parameters."""
    settings_row = settings_or_default(organization)
    data = {name: str(value).lower() if isinstance(value, bool) else value for name, value in params.items()}
    filterset = MfaUserFilterSet(data, queryset=mfa_people(organization, settings_row))
    assert filterset.is_valid(), filterset.errors
    return mfa_rows(filterset.qs, settings_row)


# --- The partner's own people ---------------------------------------------------------------------


def test_admin_roles_are_the_account_and_tenant_administrators():
    assert {
        Role.OWNER,
        Role.ACCOUNT_ADMIN,
        Role.GLOBAL_ADMIN,
        Role.USER_MANAGEMENT_ADMIN,
        Role.ADMIN_AGENT,
        Role.BILLING_ADMIN,
    } == ADMIN_ROLES


def test_people_without_mfa_come_first_then_admins_then_by_email(org_a, alice, bob):
    confirm_totp(alice)
    UserFactory(organization=org_a, email="aaron@alpha.example", roles=[Role.SALES_AGENT])
    UserFactory(organization=org_a, email="zoe@alpha.example", roles=[Role.ADMIN_AGENT])
    confirm_totp(UserFactory(organization=org_a, email="carl@alpha.example", roles=[Role.REFERRALS_USER]))

    rows = mfa_user_rows(org_a)

    assert [row.email for row in rows] == [
        "zoe@alpha.example",  # admin without MFA
        "aaron@alpha.example",
        "bob@alpha.example",
        "alice@alpha.example",  # admin with MFA
        "carl@alpha.example",
    ]


def test_a_row_describes_one_person(org_a, alice):
    confirm_totp(alice)
    alice.last_login = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    alice.save()

    with freeze_time("2026-03-10T12:00:00Z"):
        (row,) = mfa_user_rows(org_a)

    assert row.user_id == alice.pk
    assert row.roles == sorted([Role.OWNER, Role.GLOBAL_ADMIN])
    assert (row.is_admin_role, row.mfa_registered, row.mfa_enforced) == (True, True, True)
    assert row.methods == [MfaMethod.AUTHENTICATOR_APP]
    assert row.last_sign_in_at == alice.last_login
    assert row.last_non_mfa_sign_in_at is None
    assert row.checked_at == datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_only_a_confirmed_authenticator_app_counts_as_mfa(org_a, alice):
    TOTPDevice.objects.create(user=alice, name="pending", confirmed=False)
    alice.last_login = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    alice.save()

    (row,) = mfa_user_rows(org_a)

    assert (row.mfa_registered, row.mfa_enforced, row.methods) == (False, False, [])
    assert row.last_non_mfa_sign_in_at == alice.last_login


def test_backup_codes_are_listed_only_while_some_are_left(org_a, alice):
    confirm_totp(alice)
    device = StaticDevice.objects.create(user=alice, name="backup")
    assert mfa_user_rows(org_a)[0].methods == [MfaMethod.AUTHENTICATOR_APP]

    StaticToken.objects.create(device=device, token="abcd1234")

    assert mfa_user_rows(org_a)[0].methods == [MfaMethod.AUTHENTICATOR_APP, MfaMethod.BACKUP_CODES]


def test_service_accounts_inactive_people_and_other_organizations_are_left_out(org_a, alice, charlie):
    UserFactory(organization=org_a, is_service_account=True, roles=[Role.GLOBAL_ADMIN])
    UserFactory(organization=org_a, is_active=False, roles=[Role.GLOBAL_ADMIN])

    assert [row.email for row in mfa_user_rows(org_a)] == [alice.email]


def test_the_mechanism_is_the_strongest_policy_that_applies(org_a, alice, bob):
    user_mfa_policy_set(actor=alice, user=bob, per_user_mfa_enabled=True, third_party_mfa=True)
    rows = {row.email: row for row in mfa_user_rows(org_a)}
    assert rows[bob.email].enforcement_mechanism == MfaMechanism.PER_USER_MFA
    assert rows[bob.email].applicable_policies == [MfaMechanism.PER_USER_MFA, MfaMechanism.THIRD_PARTY]
    assert rows[alice.email].enforcement_mechanism == MfaMechanism.NONE
    assert rows[alice.email].applicable_policies == []

    security_settings_update(
        actor=alice, organization=org_a, security_defaults_enabled=True, conditional_access_requires_mfa=True
    )

    rows = {row.email: row for row in mfa_user_rows(org_a)}
    assert rows[bob.email].enforcement_mechanism == MfaMechanism.CONDITIONAL_ACCESS
    assert rows[bob.email].applicable_policies == [
        MfaMechanism.CONDITIONAL_ACCESS,
        MfaMechanism.SECURITY_DEFAULTS,
        MfaMechanism.PER_USER_MFA,
        MfaMechanism.THIRD_PARTY,
    ]
    assert rows[alice.email].enforcement_mechanism == MfaMechanism.CONDITIONAL_ACCESS


def test_rows_filter_by_search_registration_admin_role_and_mechanism(org_a, alice, bob):
    confirm_totp(alice)
    user_mfa_policy_set(actor=alice, user=bob, per_user_mfa_enabled=True, third_party_mfa=False)

    assert [row.email for row in mfa_user_rows(org_a, search="BOB")] == [bob.email]
    assert [row.email for row in mfa_user_rows(org_a, registered=True)] == [alice.email]
    assert [row.email for row in mfa_user_rows(org_a, registered=False)] == [bob.email]
    assert [row.email for row in mfa_user_rows(org_a, admin=True)] == [alice.email]
    assert [row.email for row in mfa_user_rows(org_a, admin=False)] == [bob.email]
    assert [row.email for row in mfa_user_rows(org_a, mechanism=MfaMechanism.PER_USER_MFA)] == [bob.email]
    assert [row.email for row in mfa_user_rows(org_a, mechanism=MfaMechanism.NONE)] == [alice.email]


def test_coverage_matches_the_spec_example(org_a):
    """48 people, 46 with MFA → 95.8 %; 6 admins, all with MFA → 100 %."""
    for index in range(48):
        person = UserFactory(
            organization=org_a, roles=[Role.ADMIN_AGENT] if index < 6 else [Role.REFERRALS_USER]
        )
        if index < 46:
            confirm_totp(person)

    coverage = mfa_coverage(org_a)

    assert (coverage.users_total, coverage.users_with_mfa, coverage.coverage_pct) == (48, 46, 95.8)
    assert (coverage.admins_total, coverage.admins_with_mfa, coverage.admin_coverage_pct) == (6, 6, 100.0)
    assert coverage.users_without_mfa == 2


def test_coverage_of_an_organization_without_people_is_unknown(org_b):
    coverage = mfa_coverage(org_b)

    assert (coverage.users_total, coverage.coverage_pct, coverage.admin_coverage_pct) == (0, None, None)


# --- Customers' figures ---------------------------------------------------------------------------


def test_upsert_records_then_replaces_a_customers_figures(org_a, alice):
    customer = CustomerFactory(organization=org_a, name="Contoso")

    stat = customer_mfa_upsert(
        actor=alice,
        organization=org_a,
        customer=customer,
        admins_with_mfa=2,
        admins_total=3,
        non_admins_with_mfa=10,
        users_total=40,
    )
    assert (stat.is_compliant, stat.admin_mfa_pct) == (False, 66.7)

    customer_mfa_upsert(
        actor=alice,
        organization=org_a,
        customer=customer,
        admins_with_mfa=3,
        admins_total=3,
        non_admins_with_mfa=10,
        users_total=40,
        security_defaults_on=True,
    )

    stat = CustomerMfaStat.objects.get(customer=customer)
    assert (stat.admins_with_mfa, stat.security_defaults_on, stat.is_compliant) == (3, True, True)
    event = AuditEvent.objects.filter(action="security.customer_mfa_recorded").first()
    assert event.changes == {
        "customer": "Contoso",
        "admins_with_mfa": [2, 3],
        "security_defaults_on": [False, True],
    }


@pytest.mark.parametrize(
    ("counts", "field", "message"),
    [
        ({"admins_with_mfa": 4, "admins_total": 3}, "admins_with_mfa", "more than the 3 admins"),
        ({"admins_total": 50}, "admins_total", "more than the 40 users"),
        ({"non_admins_with_mfa": 38}, "non_admins_with_mfa", "more than the 37 non-admin users"),
        ({"users_total": -1}, "users_total", "whole number"),
        ({"ca_policies_count": "2"}, "ca_policies_count", "whole number"),
    ],
)
def test_upsert_refuses_counts_that_do_not_add_up(org_a, alice, counts, field, message):
    customer = CustomerFactory(organization=org_a)
    values = {"admins_with_mfa": 3, "admins_total": 3, "non_admins_with_mfa": 10, "users_total": 40, **counts}

    with pytest.raises(ValidationError) as caught:
        customer_mfa_upsert(actor=alice, organization=org_a, customer=customer, **values)

    assert message in caught.value.message_dict[field][0]
    assert not CustomerMfaStat.objects.exists()


def test_upsert_refuses_another_organizations_customer(org_a, org_b, alice):
    with pytest.raises(ValidationError) as caught:
        customer_mfa_upsert(
            actor=alice,
            organization=org_a,
            customer=CustomerFactory(organization=org_b),
            admins_with_mfa=1,
            admins_total=1,
            non_admins_with_mfa=0,
            users_total=1,
        )

    assert "customer" in caught.value.message_dict


def _stats(organization, **params):
    return list(CustomerMfaFilterSet(params, queryset=customer_mfa_stats(organization)).qs)


def test_customer_figures_filter_by_compliance_and_search(org_a, org_b):
    compliant = CustomerMfaStatFactory(
        organization=org_a, customer__name="Alpha", admins_total=3, admins_with_mfa=3
    )
    failing = CustomerMfaStatFactory(
        organization=org_a, customer__name="Beta", admins_total=3, admins_with_mfa=1
    )
    CustomerMfaStatFactory(organization=org_b)

    rows = _stats(org_a)

    assert [row.customer.name for row in rows] == ["Alpha", "Beta"]
    assert [(row.is_compliant, row.admin_mfa_pct) for row in rows] == [(True, 100.0), (False, 33.3)]
    assert _stats(org_a, compliant="true") == [compliant]
    assert _stats(org_a, compliant="false") == [failing]
    assert _stats(org_a, q="bet") == [failing]


def test_customers_without_figures_are_counted_and_listed_by_name(org_a, org_b, alice):
    CustomerMfaStatFactory(organization=org_a, customer__name="Alpha", admins_total=3, admins_with_mfa=3)
    CustomerMfaStatFactory(organization=org_a, customer__name="Beta", admins_total=3, admins_with_mfa=1)
    zeta = CustomerFactory(organization=org_a, name="Zeta")
    gamma = CustomerFactory(organization=org_a, name="Gamma")
    CustomerFactory(organization=org_b, name="Other")

    summary = customer_mfa_summary(alice)

    assert (summary.with_figures, summary.compliant, summary.without_figures) == (2, 1, 2)
    assert customers_without_mfa_figures(alice, limit=5) == [gamma, zeta]
    assert customers_without_mfa_figures(alice, limit=1) == [gamma]


def test_customer_figures_are_scoped_to_the_organization_or_the_users_view(org_a, org_b, alice):
    mine = CustomerMfaStatFactory(organization=org_a)
    CustomerMfaStatFactory(organization=org_b)

    assert list(customer_mfa_stats(org_a)) == [mine]
    assert list(customer_mfa_stats(alice)) == [mine]


# --- Customer MFA import --------------------------------------------------------------------------
# The file goes through the one import pipeline (portal.imports): the header is checked at once, the
# rows in a job (run eagerly here, once the request's transaction commits).

HEADER = (
    "Customer,Customer tenant ID,Admins with MFA enabled,Admins,Non-admins with MFA enabled,"
    "Total users,Security defaults,Conditional access policies"
)
NOT_YOURS = "is not the tenant ID of one of your customers; add the customer first or fix the ID"


def csv_upload(*lines: str, name: str = "mfa.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """Start an import as the page does and run its job; the finished JobRun."""

    def run(service, user, upload, *, valid_rows_only: bool = False) -> JobRun:
        with django_capture_on_commit_callbacks(execute=True):
            job = service(
                actor=user, organization=user.organization, upload=upload, valid_rows_only=valid_rows_only
            )
        job.refresh_from_db()
        return job

    return run


def problems(job: JobRun) -> set[tuple[int, str, str]]:
    return {(error["row"], error["column"], error["message"]) for error in job.import_errors}


def counts(job: JobRun) -> tuple[int, int, int, int]:
    return tuple(job.result[name] for name in ("created", "updated", "unchanged", "rejected"))


@pytest.fixture
def contoso(org_a):
    return CustomerFactory(organization=org_a, name="Contoso", tenant_id=uuid.UUID(int=1))


@pytest.fixture
def fabrikam(org_a):
    return CustomerFactory(organization=org_a, name="Fabrikam", tenant_id=uuid.UUID(int=2))


def test_import_records_each_customer_by_tenant_id_or_name(org_a, alice, contoso, fabrikam, run_import):
    CustomerMfaStatFactory(organization=org_a, customer=contoso, admins_with_mfa=0, admins_total=3)

    job = run_import(
        customer_mfa_import,
        alice,
        csv_upload(
            HEADER,
            f"Contoso,{contoso.tenant_id},3,3,10,40,Enabled,2",
            "fabrikam,,1,2,0,5,no,",
        ),
    )

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.kind == "import:security.customer_mfa"
    assert counts(job) == (1, 1, 0, 0)
    stats = {stat.customer_id: stat for stat in CustomerMfaStat.objects.all()}
    assert (stats[contoso.pk].admins_with_mfa, stats[contoso.pk].security_defaults_on) == (3, True)
    assert stats[contoso.pk].ca_policies_count == 2
    assert (stats[fabrikam.pk].admins_total, stats[fabrikam.pk].ca_policies_count) == (2, 0)
    assert stats[fabrikam.pk].security_defaults_on is False
    assert all(stat.organization_id == org_a.pk for stat in stats.values())
    event = AuditEvent.objects.get(action="security.customer_mfa_imported")
    assert event.changes == {"file_name": "mfa.csv", "customers": 2, "created": 1, "updated": 1}
    assert (event.actor, event.target_id) == (alice, str(job.pk))


def test_import_reads_xlsx(org_a, alice, contoso, run_import):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["Contoso", str(contoso.tenant_id), 2, 2, 5, 9, "yes", 1])
    buffer = io.BytesIO()
    book.save(buffer)

    job = run_import(customer_mfa_import, alice, SimpleUploadedFile("mfa.xlsx", buffer.getvalue()))

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert CustomerMfaStat.objects.get(customer=contoso).users_total == 9


BAD_MFA_ROWS = (
    "{contoso},3,3,10,40,,",  # line 2: good
    "Elsewhere,{other},1,1,0,1,,",  # another organization's customer
    "Nobody,,1,1,0,1,,",
    "Fabrikam,not-a-guid,1,1,0,1,,",
    "Contoso again,{contoso},3,3,10,40,,",
    "Fabrikam,{fabrikam},4,3,0,10,maybe,x",
    "Fabrikam,{fabrikam},2.5,3,0,10,,",
)


def _bad_mfa_file(contoso, fabrikam, other) -> SimpleUploadedFile:
    ids = {"contoso": contoso.tenant_id, "fabrikam": fabrikam.tenant_id, "other": other.tenant_id}
    lines = [line.format(**ids) for line in BAD_MFA_ROWS]
    lines[0] = "Contoso," + lines[0]
    return csv_upload(HEADER, *lines)


def test_a_file_with_any_bad_row_writes_nothing_and_lists_every_problem(
    org_a, alice, contoso, fabrikam, run_import
):
    other = CustomerFactory(name="Elsewhere")  # another organization's customer

    job = run_import(customer_mfa_import, alice, _bad_mfa_file(contoso, fabrikam, other))

    assert job.status == JobStatus.FAILED
    assert "nothing was imported" in job.result["message"]
    assert problems(job) == {
        (3, "Customer tenant ID", NOT_YOURS),
        (4, "Customer", "is not the name of one of your customers"),
        (5, "Customer tenant ID", "is not a GUID"),
        (6, "Customer tenant ID", "repeats line 2"),
        (7, "Admins with MFA enabled", "4 admins with MFA is more than the 3 admins in the tenant."),
        (7, "Security defaults", "is not yes or no (Enabled/Disabled also work)"),
        (7, "Conditional access policies", "is not a whole number"),
        (8, "Customer tenant ID", "repeats line 7"),
        (8, "Admins with MFA enabled", "is not a whole number"),
    }
    assert job.result["problems"] == 9
    values = {(error["row"], error["column"]): error.get("value") for error in job.import_errors}
    assert values[(3, "Customer tenant ID")] == str(other.tenant_id)
    assert values[(7, "Security defaults")] == "maybe"
    assert not CustomerMfaStat.objects.exists()
    assert not AuditEvent.objects.filter(action="security.customer_mfa_imported").exists()


def test_valid_rows_only_imports_the_good_rows_and_lists_the_others(
    org_a, alice, contoso, fabrikam, run_import
):
    other = CustomerFactory(name="Elsewhere")

    job = run_import(
        customer_mfa_import, alice, _bad_mfa_file(contoso, fabrikam, other), valid_rows_only=True
    )

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert counts(job) == (1, 0, 0, 6)
    assert job.result["problems"] == 9
    assert {row for row, _, _ in problems(job)} == {3, 4, 5, 6, 7, 8}
    assert list(CustomerMfaStat.objects.values_list("customer", flat=True)) == [contoso.pk]
    assert AuditEvent.objects.get(action="security.customer_mfa_imported").changes["customers"] == 1


def test_the_same_file_twice_changes_nothing(org_a, alice, contoso, fabrikam, run_import):
    lines = (HEADER, f"Contoso,{contoso.tenant_id},3,3,10,40,Enabled,2", "Fabrikam,,1,2,0,5,,")
    first = run_import(customer_mfa_import, alice, csv_upload(*lines))
    before = list(CustomerMfaStat.objects.order_by("pk").values())

    second = run_import(customer_mfa_import, alice, csv_upload(*lines))

    assert counts(first) == (2, 0, 0, 0)
    assert counts(second) == (0, 0, 2, 0)
    assert list(CustomerMfaStat.objects.order_by("pk").values()) == before, "checked_at included"

    changed = run_import(customer_mfa_import, alice, csv_upload(lines[0], lines[1], "Fabrikam,,2,2,0,5,,"))
    assert counts(changed) == (0, 1, 1, 0)
    assert CustomerMfaStat.objects.get(customer=fabrikam).admins_with_mfa == 2


def test_import_explains_counts_that_do_not_add_up(org_a, alice, contoso, fabrikam, run_import):
    job = run_import(
        customer_mfa_import,
        alice,
        csv_upload(
            HEADER,
            f"Contoso,{contoso.tenant_id},4,3,10,40,,",
            f"Fabrikam,{fabrikam.tenant_id},1,5,0,4,,",
            "Contoso2,,1,2,9,10,,",
        ),
    )

    assert problems(job) == {
        (2, "Admins with MFA enabled", "4 admins with MFA is more than the 3 admins in the tenant."),
        (3, "Admins", "5 admins is more than the 4 users in the tenant."),
        (
            4,
            "Non-admins with MFA enabled",
            "9 non-admins with MFA is more than the 8 non-admin users (10 users − 2 admins).",
        ),
        (4, "Customer", "is not the name of one of your customers"),
    }


def test_a_customer_named_twice_or_by_an_ambiguous_name_is_refused(
    org_a, alice, contoso, fabrikam, run_import
):
    CustomerFactory(organization=org_a, name="Twin")
    CustomerFactory(organization=org_a, name="twin ")
    lines = (
        HEADER,
        f"Contoso,{contoso.tenant_id},3,3,10,40,,",
        "CONTOSO,,3,3,10,40,,",  # the same customer, by name
        "Fabrikam,,1,1,0,1,,",
        f"Fabrikam again,{fabrikam.tenant_id},1,1,0,1,,",  # the same customer, by tenant ID
        "Twin,,1,1,0,1,,",
    )
    expected = {
        (3, "Customer", "names the same customer as an earlier row"),
        (5, "Customer tenant ID", "is the tenant ID of a customer an earlier row names"),
        (6, "Customer", "is the name of several of your customers; give the tenant ID instead"),
    }

    rejected = run_import(customer_mfa_import, alice, csv_upload(*lines))
    assert rejected.status == JobStatus.FAILED
    assert "nothing was imported" in rejected.result["message"]
    assert problems(rejected) == expected
    assert not CustomerMfaStat.objects.exists()

    partial = run_import(customer_mfa_import, alice, csv_upload(*lines), valid_rows_only=True)
    assert partial.status == JobStatus.SUCCEEDED, partial.errors
    assert counts(partial) == (2, 0, 0, 3)
    assert problems(partial) == expected
    assert set(CustomerMfaStat.objects.values_list("customer", flat=True)) == {contoso.pk, fabrikam.pk}


def test_import_refuses_a_file_without_the_expected_columns_at_once(org_a, alice):
    with pytest.raises(UploadRejected) as caught:
        customer_mfa_import(
            actor=alice, organization=org_a, upload=csv_upload("Customer,Admins", "Contoso,3")
        )

    assert {error.column for error in caught.value.errors} >= {"Customer tenant ID", "Total users"}
    assert not JobRun.objects.exists()


# --- Azure subscriptions --------------------------------------------------------------------------

AZURE_HEADER = "Customer tenant ID,Subscription ID,Subscription name,Budget,Currency"


def test_azure_import_records_subscriptions_and_budgets(org_a, alice, contoso, run_import):
    existing = CustomerAzureSubscriptionFactory(organization=org_a, customer=contoso, display_name="Old name")
    new_id = uuid.uuid4()

    job = run_import(
        azure_subscriptions_import,
        alice,
        csv_upload(
            AZURE_HEADER,
            f'{contoso.tenant_id},{existing.subscription_id},Production,"1,500.50",eur',
            f"{{{str(contoso.tenant_id).upper()}}},{new_id},Test,,",
            name="azure.csv",
        ),
    )

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert counts(job) == (1, 1, 0, 0)
    existing.refresh_from_db()
    assert (existing.display_name, existing.budget_amount, existing.budget_currency) == (
        "Production",
        Decimal("1500.50"),
        "EUR",
    )
    new = CustomerAzureSubscription.objects.get(subscription_id=new_id)
    assert (new.customer, new.organization) == (contoso, org_a)
    assert (new.budget_amount, new.budget_currency, new.has_budget) == (None, "", False)
    assert AuditEvent.objects.get(action="security.azure_subscriptions_imported").changes == {
        "file_name": "azure.csv",
        "subscriptions": 2,
        "with_budget": 1,
    }


def _bad_azure_file(contoso, taken, same):
    return csv_upload(
        AZURE_HEADER,
        f"{contoso.tenant_id},{same},Prod,100,",
        f"{contoso.tenant_id},{same},Prod copy,100,EUR",
        f"{contoso.tenant_id},{taken.subscription_id},Stolen,,",
        f"{uuid.UUID(int=99)},{uuid.uuid4()},Unknown,0,XXX",
        f"{contoso.tenant_id},nope,,abc,EUR",
        f"{contoso.tenant_id},{uuid.uuid4()},Fine,250.25,usd",
        f"{contoso.tenant_id},{uuid.uuid4()},Too precise,1.1234567,EUR",
    )


def test_azure_import_lists_every_bad_row_and_writes_nothing(org_a, alice, contoso, fabrikam, run_import):
    taken = CustomerAzureSubscriptionFactory(organization=org_a, customer=fabrikam)

    job = run_import(azure_subscriptions_import, alice, _bad_azure_file(contoso, taken, uuid.uuid4()))

    assert job.status == JobStatus.FAILED
    assert problems(job) == {
        (2, "Currency", "is empty; a budget needs its currency (e.g. EUR)"),
        (3, "Subscription ID", "repeats line 2"),
        (4, "Subscription ID", "is already recorded for another customer"),
        (5, "Customer tenant ID", NOT_YOURS),
        (5, "Budget", "a budget must be more than 0 (leave it empty for none)"),
        (5, "Currency", "is not an ISO 4217 currency code"),
        (6, "Subscription ID", "is not a GUID"),
        (6, "Subscription name", "is required"),
        (6, "Budget", "is not a number"),
        (8, "Budget", "has too many digits"),
    }
    assert CustomerAzureSubscription.objects.count() == 1
    assert not AuditEvent.objects.filter(action="security.azure_subscriptions_imported").exists()


def test_azure_valid_rows_only_imports_the_good_rows(org_a, alice, contoso, fabrikam, run_import):
    taken = CustomerAzureSubscriptionFactory(organization=org_a, customer=fabrikam)

    job = run_import(
        azure_subscriptions_import, alice, _bad_azure_file(contoso, taken, uuid.uuid4()), valid_rows_only=True
    )

    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert counts(job) == (1, 0, 0, 6)
    assert len(problems(job)) == 10
    fine = CustomerAzureSubscription.objects.get(display_name="Fine")
    assert (fine.customer, fine.budget_amount, fine.budget_currency) == (contoso, Decimal("250.25"), "USD")
    taken.refresh_from_db()
    assert taken.customer == fabrikam


def test_azure_the_same_file_twice_changes_nothing(org_a, alice, contoso, fabrikam, run_import):
    lines = (
        AZURE_HEADER,
        f"{contoso.tenant_id},{uuid.uuid4()},Production,1500.5,EUR",
        f"{fabrikam.tenant_id},{uuid.uuid4()},Test,,",
    )
    first = run_import(azure_subscriptions_import, alice, csv_upload(*lines))
    before = list(CustomerAzureSubscription.objects.order_by("pk").values())

    second = run_import(azure_subscriptions_import, alice, csv_upload(*lines))

    assert counts(first) == (2, 0, 0, 0)
    assert counts(second) == (0, 0, 2, 0)
    assert list(CustomerAzureSubscription.objects.order_by("pk").values()) == before


def test_budget_set_and_removed_with_audit(org_a, alice):
    subscription = CustomerAzureSubscriptionFactory(organization=org_a)

    azure_budget_set(actor=alice, subscription=subscription, amount=Decimal("250"), currency="usd")
    subscription.refresh_from_db()
    assert (subscription.budget_amount, subscription.budget_currency) == (Decimal("250"), "USD")

    azure_budget_set(actor=alice, subscription=subscription, amount=None, currency="")
    subscription.refresh_from_db()
    assert (subscription.budget_amount, subscription.budget_currency) == (None, "")

    actions = list(AuditEvent.objects.order_by("at", "id").values_list("action", "changes"))
    assert actions == [
        ("security.azure_budget_set", {"budget": [[None, ""], ["250", "USD"]]}),
        ("security.azure_budget_removed", {"budget": [["250.000000", "USD"], [None, ""]]}),
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (Decimal("0"), "EUR", "amount"),
        (Decimal("-5"), "EUR", "amount"),
        (Decimal("10"), "", "currency"),
        (Decimal("10"), "EURO", "currency"),
        (10.5, "EUR", "amount"),
    ],
)
def test_budget_set_refuses_bad_amounts_and_currencies(org_a, alice, amount, currency, field):
    subscription = CustomerAzureSubscriptionFactory(organization=org_a)

    with pytest.raises(ValidationError) as caught:
        azure_budget_set(actor=alice, subscription=subscription, amount=amount, currency=currency)

    assert field in caught.value.message_dict
    subscription.refresh_from_db()
    assert subscription.budget_amount is None


def test_figures_checked_in_the_future_are_refused(org_a, alice):
    with pytest.raises(ValidationError) as caught:
        customer_mfa_upsert(
            actor=alice,
            organization=org_a,
            customer=CustomerFactory(organization=org_a),
            admins_with_mfa=1,
            admins_total=1,
            non_admins_with_mfa=0,
            users_total=1,
            checked_at=datetime.now(UTC) + timedelta(days=1),
        )

    assert "checked_at" in caught.value.message_dict
