"""The migration API in Partner Center's shapes, and the Commerce pages around it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from commerce.choices import MigrationStatus, SubscriptionStatus
from commerce.models import Migration, MigrationBatch
from tests.commerce.conftest import legacy_subscription as legacy
from tests.factories import CustomerFactory, MigrationFactory

pytestmark = pytest.mark.django_db

SCOPES = ("commerce:read", "commerce:write")
CODE_5 = (
    "Subscription cannot be migrated to New Commerce because the equivalent offer is not yet available "
    "in New Commerce"
)


def _renewal():
    return timezone.localdate() + timedelta(days=100)


def _base(customer) -> str:
    return f"/api/v1/commerce/customers/{customer.tenant_id}/migrations/newcommerce"


def test_validate_says_yes_with_the_catalog_item(api, customer):
    subscription = legacy(customer, "premium", quantity=40, term_end=_renewal())
    response = api.post(
        f"{_base(customer)}/validate", {"currentSubscriptionId": str(subscription.subscription_id)}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["isEligible"] is True
    assert body["catalogItemId"].startswith("CFQ7TTC0LCHC:0002:")
    assert body["errors"] == []


def test_validate_lists_code_5_with_the_vendors_words(api, customer):
    subscription = legacy(customer, "business_voice", term_end=_renewal())
    body = api.post(
        f"{_base(customer)}/validate", {"currentSubscriptionId": str(subscription.subscription_id)}
    ).json()
    assert body["isEligible"] is False
    assert {"code": 5, "codeName": "NewCommerceProductUnavailable", "description": CODE_5} in body["errors"]


def test_create_get_and_query_a_migration(api, customer):
    subscription = legacy(customer, "premium", quantity=40, term_end=_renewal())
    response = api.post(
        _base(customer),
        {"currentSubscriptionId": str(subscription.subscription_id), "externalReferenceId": "my-batch-1"},
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "Completed"
    assert created["currentSubscriptionId"] == str(subscription.subscription_id)
    assert created["newCommerceSubscriptionId"]
    assert created["subscriptionEndDate"] == _renewal().isoformat()
    one = api.get(f"{_base(customer)}/{created['id']}").json()
    assert one == created
    for query in (
        {"customerTenantId": str(customer.tenant_id)},
        {"currentSubscriptionId": str(subscription.subscription_id)},
        {"externalReferenceId": "my-batch-1"},
    ):
        listed = api.get("/api/v1/commerce/migrations/newcommerce", query).json()["results"]
        assert [row["id"] for row in listed] == [created["id"]]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELLED


def test_create_refuses_an_ineligible_subscription_with_every_reason(api, customer):
    subscription = legacy(
        customer, "business_voice", term_end=_renewal(), status=SubscriptionStatus.SUSPENDED
    )
    response = api.post(_base(customer), {"currentSubscriptionId": str(subscription.subscription_id)})
    assert response.status_code == 400
    reasons = response.json()["errors"]["currentSubscriptionId"]
    assert any(reason.startswith("NewCommerceProductUnavailable:") for reason in reasons)
    assert len(reasons) >= 2
    assert not Migration.objects.filter(status=MigrationStatus.COMPLETED).exists()


def test_the_query_needs_one_filter(api):
    response = api.get("/api/v1/commerce/migrations/newcommerce")
    assert response.status_code == 400
    assert "customerTenantId" in str(response.json()["errors"])


def test_another_organizations_customer_and_subscription_are_404(api_for, org_b, customer):
    subscription = legacy(customer, "premium", term_end=_renewal())
    outsider = api_for(org_b, scopes=SCOPES)
    response = outsider.post(
        f"{_base(customer)}/validate", {"currentSubscriptionId": str(subscription.subscription_id)}
    )
    assert response.status_code == 404
    response = outsider.post(_base(customer), {"currentSubscriptionId": str(subscription.subscription_id)})
    assert response.status_code == 404
    assert not Migration.objects.exists()


def test_an_unknown_subscription_is_404(api, customer):
    response = api.post(f"{_base(customer)}/validate", {"currentSubscriptionId": str(uuid.uuid4())})
    assert response.status_code == 404


def test_a_batch_runs_as_a_job_and_reports_its_status(api, customer, django_capture_on_commit_callbacks):
    subscriptions = [legacy(customer, "basic", term_end=_renewal()) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/commerce/migrations/newcommerce/batch",
            {
                "externalReferenceId": "wave-one",
                "migrations": [
                    {
                        "customerTenantId": str(customer.tenant_id),
                        "currentSubscriptionId": str(s.subscription_id),
                    }
                    for s in subscriptions
                ],
            },
            format="json",
        )
    assert response.status_code == 202, response.json()
    assert response.json()["externalReferenceId"] == "wave-one"
    status = api.get("/api/v1/commerce/migrations/newcommerce/batch/wave-one").json()
    assert (status["total"], status["completed"], status["failed"], status["status"]) == (
        3,
        3,
        0,
        "succeeded",
    )


def test_a_batch_with_an_unknown_subscription_is_refused_whole(api, customer):
    good = legacy(customer, "basic", term_end=_renewal())
    response = api.post(
        "/api/v1/commerce/migrations/newcommerce/batch",
        {
            "migrations": [
                {"currentSubscriptionId": str(good.subscription_id)},
                {"currentSubscriptionId": str(uuid.uuid4())},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "Row 2" in str(response.json()["errors"])
    assert not MigrationBatch.objects.exists()


def test_subscriptions_list_in_partner_center_names_with_filters(api, customer):
    legacy(customer, "basic", term_end=_renewal())
    legacy(customer, "premium", term_end=_renewal(), status=SubscriptionStatus.SUSPENDED)
    rows = api.get("/api/v1/commerce/subscriptions/", {"status": "suspended"}).json()["results"]
    assert [row["offerName"] for row in rows] == ["Microsoft 365 Business Premium (legacy)"]
    assert {"id", "offerId", "commitmentEndDate", "autoRenewEnabled", "billingCycle", "termDuration"} <= set(
        rows[0]
    )


# --- Pages ---------------------------------------------------------------------------------------


def test_the_list_shows_who_can_move_and_why_not(alice, verified_client, customer):
    legacy(customer, "premium", term_end=_renewal())
    legacy(customer, "business_voice", term_end=_renewal())
    html = verified_client(alice).get(reverse("commerce:subscription-list")).content.decode()
    assert "Eligible" in html
    assert "equivalent offer is not yet available" in html


def test_the_subscription_page_migrates_with_the_chosen_options(alice, verified_client, customer):
    subscription = legacy(customer, "basic", quantity=12, term_end=_renewal())
    client = verified_client(alice)
    page = client.get(reverse("commerce:subscription-detail", args=[subscription.pk]))
    assert b"per month" in page.content
    response = client.post(
        reverse("commerce:subscription-detail", args=[subscription.pk]),
        {"purchase_full_term": "true", "term_duration": "P1M", "billing_cycle": "Monthly", "quantity": "12"},
    )
    migration = Migration.objects.get()
    assert response["Location"] == reverse("commerce:migration-detail", args=[migration.pk])
    assert (migration.status, migration.term_duration, migration.purchase_full_term) == (
        "Completed",
        "P1M",
        True,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Completed" in detail
    assert "Processing" in detail


def test_a_bad_batch_file_lists_its_rows_and_writes_nothing(
    alice, verified_client, customer, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "batch.csv",
        b"customerTenantId,currentSubscriptionId,termDuration,billingCycle,purchaseFullTerm,quantity,customTermEndDate\n"
        + f"{customer.tenant_id},{uuid.uuid4()},P9Y,Weekly,maybe,-3,\n".encode(),
    )
    client = verified_client(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("commerce:batch-upload"), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    errors = page.split('data-testid="import-errors"', 1)[1].split("</table>", 1)[0]
    for column in ("currentSubscriptionId", "termDuration", "billingCycle", "purchaseFullTerm", "quantity"):
        assert f"<td>{column}</td>" in errors
    assert "nothing was imported" in page
    assert not MigrationBatch.objects.exists()


def test_a_member_without_ordering_rights_cannot_migrate(bob, verified_client, catalog):
    customer = CustomerFactory(organization=bob.organization, country="US")
    subscription = legacy(customer, "basic", term_end=_renewal())
    response = verified_client(bob).post(reverse("commerce:subscription-detail", args=[subscription.pk]), {})
    assert response.status_code == 403
    assert not Migration.objects.exists()


def test_a_customers_page_shows_both_kinds_of_subscription(alice, verified_client, customer, api):
    subscription = legacy(customer, "premium", term_end=_renewal())
    moved = legacy(customer, "basic", term_end=_renewal())
    api.post(_base(customer), {"currentSubscriptionId": str(moved.subscription_id)})
    html = (
        verified_client(alice)
        .get(reverse("commerce:customer-subscriptions", args=[customer.pk]))
        .content.decode()
    )
    assert str(subscription.offer.name) in html
    assert "migrated" in html
    rows = api.get(
        "/api/v1/commerce/new-commerce-subscriptions/", {"customer_tenant_id": str(customer.tenant_id)}
    )
    assert rows.status_code == 200, rows.json()
    [row] = rows.json()["results"]
    assert row["migratedFromSubscriptionId"] == str(moved.subscription_id)
    assert row["offerId"].startswith("CFQ7TTC0LH18:0001:")


def test_a_batch_needs_the_right_to_place_orders(api_for, org_a, customer):
    subscription = legacy(customer, "basic", term_end=_renewal())
    viewer = api_for(org_a, scopes=SCOPES, roles=("helpdesk_agent",))
    body = {"migrations": [{"currentSubscriptionId": str(subscription.subscription_id)}]}
    assert (
        viewer.post("/api/v1/commerce/migrations/newcommerce/batch", body, format="json").status_code == 403
    )
    assert not MigrationBatch.objects.exists()


def test_the_workspace_counts_a_subscription_once_however_many_migrations_it_had(
    alice, verified_client, customer, api
):
    subscription = legacy(customer, "basic", term_end=_renewal())
    MigrationFactory.create_batch(2, organization=customer.organization, current_subscription=subscription)
    legacy(customer, "premium", term_end=_renewal())
    response = verified_client(alice).get(reverse("commerce:index"))
    assert response.context["summary"].active_legacy.value == 2
