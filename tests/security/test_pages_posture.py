"""Security workspace pages (posture): score, MFA dashboard and its CSV, customers' MFA (table,
CSV, import), settings, alerts and Azure budgets — with capability checks and tenant isolation."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import JobRun
from portal.roles import Role
from security.choices import AlertStatus, MfaMechanism, RequirementType
from security.models import CustomerAzureSubscription, CustomerMfaStat, SecurityAlert, SecuritySettings
from tests.conftest import confirm_totp
from tests.factories import (
    CustomerAzureSubscriptionFactory,
    CustomerFactory,
    CustomerMfaStatFactory,
    SecurityAlertFactory,
    SecurityScoreSnapshotFactory,
    SecuritySettingsFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "security:index",
    "security:mfa",
    "security:customers-mfa",
    "security:azure-budgets",
    "security:settings",
    "security:alerts",
]
MANAGE_PAGES = ["security:customers-mfa-import", "security:azure-budgets-import"]


@pytest.fixture
def gina(org_a):
    """A Global admin: may read and change the security settings."""
    user = UserFactory(organization=org_a, email="gina@alpha.example", roles=[Role.GLOBAL_ADMIN])
    confirm_totp(user)
    return user


@pytest.fixture
def gina_client(gina, verified_client) -> Client:
    return verified_client(gina)


@pytest.fixture
def reader(org_a):
    """An Account admin: reads the security pages, changes nothing."""
    return UserFactory(organization=org_a, email="reader@alpha.example", roles=[Role.ACCOUNT_ADMIN])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READ_PAGES + MANAGE_PAGES)
def test_every_page_renders_for_a_global_admin(name, gina_client):
    response = gina_client.get(reverse(name))
    assert response.status_code == 200, response.content[:500]
    assert b'aria-label="Security pages"' in response.content


@pytest.mark.parametrize("name", READ_PAGES)
def test_an_account_admin_reads_every_page(name, reader, verified_client):
    assert verified_client(reader).get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", MANAGE_PAGES)
def test_an_account_admin_cannot_import(name, reader, verified_client):
    assert verified_client(reader).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", READ_PAGES + MANAGE_PAGES + ["security:mfa-download"])
def test_people_without_security_roles_are_refused(name, bob, verified_client):
    assert verified_client(bob).get(reverse(name)).status_code == 403


def test_a_compliance_admin_lands_on_the_compliance_page(org_a, verified_client):
    compliance = UserFactory(organization=org_a, roles=[Role.COMPLIANCE_ADMIN])
    response = verified_client(compliance).get(reverse("security:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("security:compliance")


def test_the_tabs_follow_the_capabilities(org_a, reader, gina_client, verified_client):
    nav = 'aria-label="Security pages"'
    full = gina_client.get(reverse("security:index")).content.decode()
    assert nav in full
    for name in ("security:mfa", "security:customers-mfa", "security:gdap-list", "security:compliance"):
        assert f'href="{reverse(name)}"' in full
    compliance = UserFactory(organization=org_a, roles=[Role.COMPLIANCE_ADMIN])
    page = verified_client(compliance).get(reverse("security:compliance"))
    if page.status_code == 200:  # the compliance page is another helper's; only its tabs matter here
        html = page.content.decode()
        assert f'href="{reverse("security:mfa")}"' not in html
        assert f'href="{reverse("security:gdap-list")}"' not in html


# --- Score ----------------------------------------------------------------------------------------


def test_the_score_page_shows_tiles_requirements_and_history(org_a, gina_client):
    SecuritySettingsFactory(organization=org_a, security_contact_email="")
    for days_ago, score in ((2, 60), (1, 70)):
        SecurityScoreSnapshotFactory(
            organization=org_a, taken_on=timezone.localdate() - timedelta(days=days_ago), score=score
        )
    response = gina_client.get(reverse("security:index"))
    html = response.content.decode()
    score = response.context["score"]
    assert f'data-testid="security-score">{score.score}<' in html
    assert f"{score.mandatory_completed} / {score.mandatory_total}" in html
    # No security contact: that mandatory row fails, so CSP authorization is at risk.
    contact = next(
        row
        for row in response.context["scored"]
        if row.result.requirement_type == RequirementType.SECURITY_CONTACT
    )
    assert contact.result.compliance_status != "compliant"
    assert score.authorization_ok is False
    assert "At risk" in html
    assert f'href="{reverse("security:settings")}"' in html
    assert response.context["chart"]["datasets"][0]["data"] == [60, 70]
    assert 'id="security-chart"' in html


def test_the_score_rises_when_the_security_contact_is_set(org_a, gina_client):
    before = gina_client.get(reverse("security:index")).context["score"]
    response = gina_client.post(
        reverse("security:settings"),
        {"form": "settings", "security_contact_name": "SOC", "security_contact_email": "soc@alpha.example"},
        follow=True,
    )
    assert "Security settings saved." in messages_of(response)
    after = gina_client.get(reverse("security:index")).context["score"]
    assert after.earned > before.earned


# --- MFA of the partner's own people ---------------------------------------------------------------


def test_people_without_mfa_come_first_and_filters_stay_in_the_url(org_a, gina, gina_client):
    admin_without = UserFactory(organization=org_a, email="zed@alpha.example", roles=[Role.ACCOUNT_ADMIN])
    plain_without = UserFactory(organization=org_a, email="amy@alpha.example", roles=[Role.SALES_AGENT])
    response = gina_client.get(reverse("security:mfa"))
    emails = [row.user.email for row in response.context["rows"]]
    assert emails[:2] == [admin_without.email, plain_without.email]
    assert emails[-1] == gina.email
    assert b"Not registered" in response.content

    response = gina_client.get(reverse("security:mfa"), {"registered": "false", "admin": "true"})
    assert [row.user.email for row in response.context["rows"]] == [admin_without.email]
    assert b'<option value="true" selected>Admin roles</option>' in response.content


def test_the_mfa_csv_follows_the_filters(org_a, gina, gina_client):
    UserFactory(organization=org_a, email="amy@alpha.example", roles=[Role.SALES_AGENT])
    response = gina_client.get(reverse("security:mfa-download"), {"registered": "true"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["email"] for row in rows] == [gina.email]
    assert rows[0]["mfaRegistered"] == "true"
    assert rows[0]["methods"] == "authenticator_app"


def test_a_per_user_policy_shows_as_the_mechanism(org_a, gina, gina_client):
    amy = UserFactory(organization=org_a, email="amy@alpha.example", roles=[Role.SALES_AGENT])
    response = gina_client.post(
        reverse("security:settings"),
        {"form": "policy", "user": amy.email, "per_user_mfa_enabled": "on"},
        follow=True,
    )
    assert f"MFA policy of {amy.email} saved." in messages_of(response)
    rows = gina_client.get(reverse("security:mfa"), {"mechanism": MfaMechanism.PER_USER_MFA}).context["rows"]
    assert [row.user.email for row in rows] == [amy.email]
    assert rows[0].mechanism == "Per-user MFA"


def test_a_per_user_policy_names_the_person_by_email(org_a, org_b, gina_client):
    outsider = UserFactory(organization=org_b, email="otto@beta.example", roles=[Role.SALES_AGENT])
    response = gina_client.post(
        reverse("security:settings"),
        {"form": "policy", "user": outsider.email, "per_user_mfa_enabled": "on"},
    )
    assert response.status_code == 200
    assert "No active person of your organization" in str(response.context["policy_form"].errors["user"])
    assert not outsider.__class__.objects.filter(mfa_policy__isnull=False).exists()


def test_a_reader_cannot_change_settings(reader, verified_client):
    client = verified_client(reader)
    page = client.get(reverse("security:settings"))
    assert b'data-testid="settings-form"' not in page.content
    response = client.post(
        reverse("security:settings"), {"form": "settings", "security_contact_email": "x@alpha.example"}
    )
    assert response.status_code == 403


def test_a_bad_security_contact_is_shown_next_to_the_field(gina_client):
    response = gina_client.post(
        reverse("security:settings"), {"form": "settings", "security_contact_email": "not-an-email"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["security_contact_email"]
    assert not SecuritySettings.objects.filter(security_contact_email="not-an-email").exists()


# --- Customers' MFA ---------------------------------------------------------------------------------


def test_the_customer_table_filters_and_downloads(org_a, org_b, gina_client):
    good = CustomerMfaStatFactory(
        organization=org_a, customer__name="Contoso", admins_with_mfa=3, admins_total=3
    )
    bad = CustomerMfaStatFactory(
        organization=org_a, customer__name="Fabrikam", admins_with_mfa=1, admins_total=4
    )
    CustomerFactory(organization=org_a, name="Northwind")  # no figures yet
    CustomerMfaStatFactory(organization=org_b, customer__name="Beta customer")

    response = gina_client.get(reverse("security:customers-mfa"))
    names = {stat.customer.name for stat in response.context["page"].rows}
    assert names == {"Contoso", "Fabrikam"}
    html = response.content.decode()
    assert "1 / 2" in html  # one of two customers with figures is compliant
    assert "25.0 %" in html
    # A customer without figures is counted, and named when asked for.
    assert 'data-testid="customers-without-figures">1<' in html
    assert response.context["without_figures"] is None
    missing = gina_client.get(reverse("security:customers-mfa"), {"missing": "1"})
    assert [c.name for c in missing.context["without_figures"]] == ["Northwind"]
    assert b'data-testid="customer-without-figures"' in missing.content

    response = gina_client.get(reverse("security:customers-mfa"), {"compliant": "false"})
    assert [stat.customer.name for stat in response.context["page"].rows] == ["Fabrikam"]

    rows = csv_rows(gina_client.get(reverse("security:customers-mfa-download"), {"compliant": "false"}))
    assert [row["customer"] for row in rows] == ["Fabrikam"]
    assert rows[0]["adminsWithMfa"] == "1"
    assert rows[0]["isCompliant"] == "false"
    assert rows[0]["customerTenantId"] == str(bad.customer.tenant_id)
    assert Decimal(rows[0]["adminMfaPercent"]) == Decimal("25")
    assert good.customer.name not in {row["customer"] for row in rows}


def _upload(text: str, name: str = "figures.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_customer_figures_are_imported_or_every_bad_row_is_listed(
    org_a, gina_client, django_capture_on_commit_callbacks
):
    contoso = CustomerFactory(organization=org_a, name="Contoso")
    url = reverse("security:customers-mfa-import")
    header = (
        "Customer,Customer tenant ID,Admins with MFA enabled,Admins,Non-admins with MFA enabled,Total users\n"
    )

    wrong_header = gina_client.post(url, {"file": _upload("Customer,Admins\nContoso,3\n")})
    assert wrong_header.status_code == 200
    assert b'data-testid="upload-errors"' in wrong_header.content
    assert "Total users" in wrong_header.content.decode()
    assert not JobRun.objects.exists()

    bad = header + "Contoso,,2,3,4,10\nNobody,,1,1,1,1\nContoso2,,x,1,1,1\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = gina_client.post(url, {"file": _upload(bad)})
    job = JobRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:job-detail", args=[job.pk])
    page = gina_client.get(response["Location"]).content.decode()
    assert "nothing was imported" in page
    assert 'data-testid="import-errors"' in page
    assert "Nobody" in page and "is not the name of one of your customers" in page
    assert "is not a whole number" in page
    assert "Download the result file" in page
    assert not CustomerMfaStat.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = gina_client.post(url, {"file": _upload(bad), "valid_rows_only": "on"})
    job = JobRun.objects.latest("pk")
    assert (job.result["created"], job.result["rejected"]) == (1, 2)
    stat = CustomerMfaStat.objects.get(customer=contoso)
    assert (stat.admins_with_mfa, stat.admins_total, stat.users_total) == (2, 3, 10)
    page = gina_client.get(response["Location"]).content.decode()
    assert 'data-testid="import-counts"' in page and "Nobody" in page


def test_azure_subscriptions_are_imported_through_the_job_page(
    org_a, gina_client, django_capture_on_commit_callbacks
):
    contoso = CustomerFactory(organization=org_a, name="Contoso")
    content = (
        "Customer tenant ID,Subscription ID,Subscription name,Budget,Currency\n"
        f"{contoso.tenant_id},{uuid.uuid4()},Production,500,EUR\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = gina_client.post(reverse("security:azure-budgets-import"), {"file": _upload(content)})

    job = JobRun.objects.get()
    assert response["Location"] == reverse("portal:job-detail", args=[job.pk])
    assert job.kind == "import:security.azure_subscriptions"
    subscription = CustomerAzureSubscription.objects.get()
    assert (subscription.display_name, subscription.budget_amount) == ("Production", Decimal("500"))


# --- Azure budgets ------------------------------------------------------------------------------------


def test_a_budget_is_set_removed_and_refused_clearly(org_a, gina_client):
    subscription = CustomerAzureSubscriptionFactory(organization=org_a, display_name="Prod")
    url = reverse("security:azure-budget-set", args=[subscription.pk])

    response = gina_client.post(url, {"amount": "500", "currency": "eur", "query": "budget=false"})
    assert response.status_code == 302
    assert response["Location"] == reverse("security:azure-budgets") + "?budget=false"
    subscription.refresh_from_db()
    assert (subscription.budget_amount, subscription.budget_currency) == (Decimal("500"), "EUR")

    response = gina_client.post(url, {"amount": "500", "currency": "ZZZ"}, follow=True)
    assert any("ZZZ" in message for message in messages_of(response))
    subscription.refresh_from_db()
    assert subscription.budget_currency == "EUR"

    response = gina_client.post(url, {"amount": "", "currency": ""}, follow=True)
    assert "Budget of Prod removed." in messages_of(response)
    subscription.refresh_from_db()
    assert subscription.budget_amount is None


def test_the_budget_form_opens_on_the_row_asked_for(org_a, gina_client, reader, verified_client):
    first = CustomerAzureSubscriptionFactory(organization=org_a, display_name="First")
    second = CustomerAzureSubscriptionFactory(organization=org_a, display_name="Second")
    url = reverse("security:azure-budgets")

    closed = gina_client.get(url, {"budget": "false"})
    assert b'data-testid="budget-form"' not in closed.content
    assert closed.content.count(b'data-testid="set-budget"') == 2
    assert f'href="?budget=false&amp;edit={first.pk}#subscription-{first.pk}"'.encode() in closed.content

    opened = gina_client.get(url, {"budget": "false", "edit": str(second.pk)}).content.decode()
    assert opened.count('data-testid="budget-form"') == 1
    assert reverse("security:azure-budget-set", args=[second.pk]) in opened
    # Saving keeps the list's filters, not the open form.
    assert 'name="query" value="budget=false"' in opened

    read_only = verified_client(reader).get(url, {"edit": str(second.pk)}).content
    assert b'data-testid="budget-form"' not in read_only and b'data-testid="set-budget"' not in read_only


def test_the_budget_list_filters_by_budget(org_a, gina_client):
    CustomerAzureSubscriptionFactory(
        organization=org_a, display_name="With", budget_amount=100, budget_currency="USD"
    )
    CustomerAzureSubscriptionFactory(organization=org_a, display_name="Without")
    response = gina_client.get(reverse("security:azure-budgets"), {"budget": "false"})
    assert [s.display_name for s in response.context["page"].rows] == ["Without"]
    assert b"1 / 2" in response.content


def test_another_organizations_subscription_is_not_found(org_b, gina_client):
    theirs = CustomerAzureSubscriptionFactory(organization=org_b)
    response = gina_client.post(
        reverse("security:azure-budget-set", args=[theirs.pk]), {"amount": "1", "currency": "USD"}
    )
    assert response.status_code == 404
    assert CustomerAzureSubscription.objects.get(pk=theirs.pk).budget_amount is None


def test_a_reader_cannot_set_a_budget(org_a, reader, verified_client):
    subscription = CustomerAzureSubscriptionFactory(organization=org_a)
    response = verified_client(reader).post(
        reverse("security:azure-budget-set", args=[subscription.pk]), {"amount": "1", "currency": "USD"}
    )
    assert response.status_code == 403


# --- Alerts -----------------------------------------------------------------------------------------


def test_alerts_are_listed_filtered_and_answered(org_a, gina_client):
    open_alert = SecurityAlertFactory(organization=org_a, title="Crypto mining on Contoso")
    SecurityAlertFactory(
        organization=org_a,
        title="Old one",
        status=AlertStatus.RESOLVED,
        responded_at=timezone.now() - timedelta(hours=1),
        response_note="done",
    )
    response = gina_client.get(reverse("security:alerts"), {"status": AlertStatus.ACTIVE})
    assert [alert.title for alert in response.context["page"].rows] == ["Crypto mining on Contoso"]
    assert b'data-testid="open-alerts">1<' in response.content

    url = reverse("security:alert-detail", args=[open_alert.pk])
    response = gina_client.post(url, {"status": AlertStatus.RESOLVED, "note": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors
    open_alert.refresh_from_db()
    assert open_alert.status == AlertStatus.ACTIVE

    response = gina_client.post(
        url, {"status": AlertStatus.RESOLVED, "note": "Blocked the sign-ins."}, follow=True
    )
    assert "Alert “Crypto mining on Contoso” answered." in messages_of(response)
    open_alert.refresh_from_db()
    assert open_alert.status == AlertStatus.RESOLVED
    assert b"Blocked the sign-ins." in response.content
    assert b'data-testid="respond-form"' not in response.content


def test_another_organizations_alert_is_not_found(org_b, gina_client):
    theirs = SecurityAlertFactory(organization=org_b)
    url = reverse("security:alert-detail", args=[theirs.pk])
    assert gina_client.get(url).status_code == 404
    assert gina_client.post(url, {"status": AlertStatus.RESOLVED, "note": "x"}).status_code == 404
    assert SecurityAlert.objects.get(pk=theirs.pk).status == AlertStatus.ACTIVE


def test_a_reader_sees_an_alert_but_cannot_answer_it(org_a, reader, verified_client):
    alert = SecurityAlertFactory(organization=org_a)
    client = verified_client(reader)
    url = reverse("security:alert-detail", args=[alert.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'data-testid="respond-form"' not in page.content
    assert client.post(url, {"status": AlertStatus.RESOLVED, "note": "x"}).status_code == 403


def test_the_history_chart_is_absent_without_snapshots(gina_client):
    response = gina_client.get(reverse("security:index"))
    assert b'id="security-chart"' not in response.content
    assert b"the chart appears after the first day" in response.content
    assert date.today()  # the page never needs a snapshot of today
