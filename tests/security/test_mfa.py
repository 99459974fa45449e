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

from portal.models import AuditEvent
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

HEADER = (
    "Customer,Customer tenant ID,Admins with MFA enabled,Admins,Non-admins with MFA enabled,"
    "Total users,Security defaults,Conditional access policies"
)


def csv_upload(*lines: str, name: str = "mfa.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


@pytest.fixture
def contoso(org_a):
    return CustomerFactory(organization=org_a, name="Contoso", tenant_id=uuid.UUID(int=1))


@pytest.fixture
def fabrikam(org_a):
    return CustomerFactory(organization=org_a, name="Fabrikam", tenant_id=uuid.UUID(int=2))


def test_import_records_each_customer_by_tenant_id_or_name(org_a, alice, contoso, fabrikam):
    CustomerMfaStatFactory(organization=org_a, customer=contoso, admins_with_mfa=0, admins_total=3)

    count = customer_mfa_import(
        actor=alice,
        organization=org_a,
        upload=csv_upload(
            HEADER,
            f"Contoso,{contoso.tenant_id},3,3,10,40,Enabled,2",
            "fabrikam,,1,2,0,5,no,",
        ),
    )

    assert count == 2
    stats = {stat.customer_id: stat for stat in CustomerMfaStat.objects.all()}
    assert (stats[contoso.pk].admins_with_mfa, stats[contoso.pk].security_defaults_on) == (3, True)
    assert stats[contoso.pk].ca_policies_count == 2
    assert (stats[fabrikam.pk].admins_total, stats[fabrikam.pk].ca_policies_count) == (2, 0)
    event = AuditEvent.objects.get(action="security.customer_mfa_imported")
    assert event.changes == {"file_name": "mfa.csv", "customers": 2}


def test_import_reads_xlsx(org_a, alice, contoso):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["Contoso", str(contoso.tenant_id), 2, 2, 5, 9, "yes", 1])
    buffer = io.BytesIO()
    book.save(buffer)

    customer_mfa_import(
        actor=alice, organization=org_a, upload=SimpleUploadedFile("mfa.xlsx", buffer.getvalue())
    )

    assert CustomerMfaStat.objects.get(customer=contoso).users_total == 9


def test_a_file_with_any_bad_row_writes_nothing_and_lists_every_problem(org_a, alice, contoso, fabrikam):
    other = CustomerFactory(name="Elsewhere")  # another organization's customer
    with pytest.raises(UploadRejected) as caught:
        customer_mfa_import(
            actor=alice,
            organization=org_a,
            upload=csv_upload(
                HEADER,
                f"Contoso,{contoso.tenant_id},3,3,10,40,,",
                f"Elsewhere,{other.tenant_id},1,1,0,1,,",
                "Nobody,,1,1,0,1,,",
                "Fabrikam,not-a-guid,1,1,0,1,,",
                f"Contoso again,{contoso.tenant_id},3,3,10,40,,",
                f"Fabrikam,{fabrikam.tenant_id},4,3,0,10,maybe,x",
                f"Fabrikam,{fabrikam.tenant_id},2.5,3,0,10,,",
            ),
        )

    messages = [str(error) for error in caught.value.errors]
    assert "nothing was imported" in caught.value.message
    assert messages == [
        f"row 3, column 'Customer tenant ID': No customer of yours has tenant ID {other.tenant_id}; "
        "add the customer first or fix the ID.",
        "row 4, column 'Customer': No customer of yours is named 'Nobody'.",
        "row 5, column 'Customer tenant ID': 'not-a-guid' is not a tenant ID (a GUID).",
        "row 6, column 'Customer tenant ID': Customer Contoso repeats row 2.",
        "row 7, column 'Conditional access policies': 'x' is not a number.",
        "row 7, column 'Security defaults': 'maybe' is not yes or no (Enabled/Disabled also work).",
        "row 8, column 'Customer tenant ID': Customer Fabrikam repeats row 7.",
        "row 8, column 'Admins with MFA enabled': '2.5' is not a whole number of 0 or more.",
    ]
    assert not CustomerMfaStat.objects.exists()
    assert not AuditEvent.objects.filter(action="security.customer_mfa_imported").exists()


def test_import_explains_counts_that_do_not_add_up(org_a, alice, contoso):
    with pytest.raises(UploadRejected) as caught:
        customer_mfa_import(
            actor=alice,
            organization=org_a,
            upload=csv_upload(HEADER, f"Contoso,{contoso.tenant_id},4,3,10,40,,"),
        )

    assert [str(error) for error in caught.value.errors] == [
        "row 2, column 'Admins with MFA enabled': 4 admins with MFA is more than the 3 admins in the tenant."
    ]


def test_import_refuses_a_file_without_the_expected_columns(org_a, alice):
    with pytest.raises(UploadRejected) as caught:
        customer_mfa_import(
            actor=alice, organization=org_a, upload=csv_upload("Customer,Admins", "Contoso,3")
        )

    assert {error.column for error in caught.value.errors} >= {"Customer tenant ID", "Total users"}


# --- Azure subscriptions --------------------------------------------------------------------------

AZURE_HEADER = "Customer tenant ID,Subscription ID,Subscription name,Budget,Currency"


def test_azure_import_records_subscriptions_and_budgets(org_a, alice, contoso):
    existing = CustomerAzureSubscriptionFactory(organization=org_a, customer=contoso, display_name="Old name")
    new_id = uuid.uuid4()

    count = azure_subscriptions_import(
        actor=alice,
        organization=org_a,
        upload=csv_upload(
            AZURE_HEADER,
            f'{contoso.tenant_id},{existing.subscription_id},Production,"1,500.50",eur',
            f"{contoso.tenant_id},{new_id},Test,,",
            name="azure.csv",
        ),
    )

    assert count == 2
    existing.refresh_from_db()
    assert (existing.display_name, existing.budget_amount, existing.budget_currency) == (
        "Production",
        Decimal("1500.50"),
        "EUR",
    )
    new = CustomerAzureSubscription.objects.get(subscription_id=new_id)
    assert (new.budget_amount, new.budget_currency, new.has_budget) == (None, "", False)
    assert AuditEvent.objects.get(action="security.azure_subscriptions_imported").changes == {
        "file_name": "azure.csv",
        "subscriptions": 2,
        "with_budget": 1,
    }


def test_azure_import_lists_every_bad_row_and_writes_nothing(org_a, alice, contoso, fabrikam):
    taken = CustomerAzureSubscriptionFactory(organization=org_a, customer=fabrikam)
    same = uuid.uuid4()
    with pytest.raises(UploadRejected) as caught:
        azure_subscriptions_import(
            actor=alice,
            organization=org_a,
            upload=csv_upload(
                AZURE_HEADER,
                f"{contoso.tenant_id},{same},Prod,100,",
                f"{contoso.tenant_id},{same},Prod copy,100,EUR",
                f"{contoso.tenant_id},{taken.subscription_id},Stolen,,",
                f"{uuid.UUID(int=99)},{uuid.uuid4()},Unknown,0,XXX",
                f"{contoso.tenant_id},nope,,abc,EUR",
            ),
        )

    assert [str(error) for error in caught.value.errors] == [
        "row 2, column 'Currency': is empty; a budget needs its currency (e.g. EUR).",
        f"row 3, column 'Subscription ID': Subscription {same} repeats row 2.",
        f"row 4, column 'Subscription ID': Subscription {taken.subscription_id} is already recorded for "
        "another customer.",
        f"row 5, column 'Customer tenant ID': No customer of yours has tenant ID {uuid.UUID(int=99)}; "
        "add the customer first or fix the ID.",
        "row 5, column 'Budget': '0': a budget must be more than 0 (leave it empty for none).",
        "row 5, column 'Currency': 'XXX' is not an ISO 4217 currency code.",
        "row 6, column 'Subscription ID': 'nope' is not a subscription ID (a GUID).",
        "row 6, column 'Subscription name': is empty.",
        "row 6, column 'Budget': 'abc' is not an amount.",
    ]
    assert CustomerAzureSubscription.objects.count() == 1


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
