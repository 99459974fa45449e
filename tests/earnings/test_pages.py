"""The Earnings workspace pages: who may open them, what filters do, totals, and query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from earnings.choices import IneligibleReason, PartnerRole, SolutionArea
from earnings.models import Earning, Enrollment
from earnings.services.summary import summary_rebuild
from portal.roles import Role
from tests.earnings.test_queries import build_ledger
from tests.factories import (
    EarningFactory,
    IneligibleTransactionFactory,
    OrganizationFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST_PAGES = ["index", "top-customers", "revenue", "ineligible", "payment-list", "reports", "payment-profile"]


@pytest.fixture
def ledger(org_a):
    return build_ledger(org_a, 12)


@pytest.fixture
def bob_client(bob, verified_client):
    return verified_client(bob)


def object_pages(ledger) -> dict[str, str]:
    return {
        "earning-detail": reverse("earnings:earning-detail", args=[ledger.earnings[0].pk]),
        "payment-detail": reverse("earnings:payment-detail", args=[ledger.payment.pk]),
    }


def total_on_page(response) -> Decimal:
    return response.context["cards"].total_usd


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_renders_every_page_for_a_user_with_earnings_view(bob_client, ledger, name):
    response = bob_client.get(reverse(f"earnings:{name}"))

    assert response.status_code == 200
    if name != "top-customers":
        assert b'aria-label="Earnings pages"' in response.content


def test_it_renders_the_object_pages(bob_client, ledger):
    for path in object_pages(ledger).values():
        assert bob_client.get(path).status_code == 200


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_refuses_people_whose_roles_lack_earnings_view(org_a, verified_client, ledger, name):
    referrals_only = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])

    assert verified_client(referrals_only).get(reverse(f"earnings:{name}")).status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(client, ledger):
    response = client.get(reverse("earnings:index"))

    assert response.status_code == 302


def test_another_organizations_rows_are_a_404(charlie, verified_client, ledger):
    client = verified_client(charlie)
    for path in object_pages(ledger).values():
        assert client.get(path).status_code == 404
    hold = reverse("earnings:hold-toggle", args=[ledger.enrollment.pk])
    assert client.post(hold, {"hold": "1"}).status_code == 404
    assert not Enrollment.objects.get(pk=ledger.enrollment.pk).hold_payment


def test_another_organizations_rows_never_show_on_the_lists(charlie, verified_client, ledger):
    response = verified_client(charlie).get(reverse("earnings:index"))

    assert response.context["page"].rows == []
    assert total_on_page(response) == 0
    assert b"an administrator runs the monthly payout run" in response.content


def test_filters_narrow_the_rows_and_the_total_is_the_filtered_ledgers_sum(bob, bob_client, ledger):
    data = {
        "solutionArea": SolutionArea.AZURE_INFRA,
        "partnerRole": PartnerRole.DEPLOY,
        "estimatedPaymentMonth": "2025-05",
    }
    everything = bob_client.get(reverse("earnings:index"))
    response = bob_client.get(reverse("earnings:index"), data)

    expected = Earning.objects.visible_to(bob).filter(
        solution_area=SolutionArea.AZURE_INFRA,
        partner_role=PartnerRole.DEPLOY,
        estimated_payment_month=date(2025, 5, 1),
    )
    rows = response.context["page"].rows
    assert {row.pk for row in rows} == set(expected.values_list("pk", flat=True))
    assert 0 < len(rows) < len(everything.context["page"].rows)
    assert total_on_page(response) == expected.aggregate(s=Sum("earning_amount_usd"))["s"]
    assert response.context["cards"].source == "summary"
    assert response.context["cards"].row_count == len(rows)
    assert (
        total_on_page(everything)
        == Earning.objects.visible_to(bob).aggregate(s=Sum("earning_amount_usd"))["s"]
    )


def test_the_search_box_finds_an_earning_by_id_and_its_total_comes_from_the_ledger(bob_client, ledger):
    earning = ledger.earnings[3]

    response = bob_client.get(reverse("earnings:index"), {"q": earning.earning_id})

    assert [row.pk for row in response.context["page"].rows] == [earning.pk]
    assert response.context["cards"].source == "ledger"
    assert total_on_page(response) == earning.earning_amount_usd


def test_htmx_gets_the_cards_chart_and_table_only(bob_client, ledger):
    response = bob_client.get(
        reverse("earnings:index"), {"solutionArea": SolutionArea.MODERN_WORK}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'data-testid="earnings-total"' in response.content
    assert b'id="earnings-chart-data"' in response.content
    assert [t.name for t in response.templates][0] == "earnings/_earnings_results.html"


def test_the_next_page_continues_where_the_first_ended(bob, bob_client, org_a):
    build_ledger(org_a, 60)
    first = bob_client.get(reverse("earnings:index"))
    cursor = first.context["page"].next_cursor
    second = bob_client.get(reverse("earnings:index"), {"after": cursor})

    shown = [row.pk for row in first.context["page"].rows + second.context["page"].rows]
    assert len(first.context["page"].rows) == 50
    assert shown == list(
        Earning.objects.visible_to(bob).order_by("-earning_date", "-id").values_list("pk", flat=True)
    )
    assert f"after={cursor}".encode() in first.content
    assert second.context["page"].next_cursor is None


def test_the_earning_page_shows_its_transaction_corrections_and_claim(bob_client, org_a, ledger):
    transaction = TransactionFactory(organization=org_a)
    lever = ledger.earnings[0].lever
    original = EarningFactory(
        organization=org_a,
        enrollment=ledger.enrollment,
        transaction=transaction,
        lever=lever,
        claim_id="CL-42",
    )
    EarningFactory(
        organization=org_a,
        enrollment=ledger.enrollment,
        transaction=transaction,
        lever=lever,
        revision=2,
        kind="reversal",
        reason_code="Prior period earnings",
        earning_amount_usd=Decimal("-140.62"),
        earning_id="E-REVERSAL-1",
    )

    response = bob_client.get(reverse("earnings:earning-detail", args=[original.pk]))

    assert b"CL-42" in response.content
    assert transaction.transaction_id.encode() in response.content
    assert [row.earning_id for row in response.context["corrections"]] == ["E-REVERSAL-1"]


def test_the_revenue_page_shows_totals_and_whether_each_transaction_earned(bob_client, org_a, ledger):
    earned = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("100.00"))
    EarningFactory(organization=org_a, enrollment=ledger.enrollment, transaction=earned)
    parked = TransactionFactory(organization=org_a, transaction_amount_usd=Decimal("40.00"))
    IneligibleTransactionFactory(organization=org_a, transaction=parked)
    summary_rebuild([org_a.pk])  # as the payout run does after assessing them

    response = bob_client.get(reverse("earnings:revenue"))

    assert response.context["totals"].eligible_usd == Decimal("100.00")
    assert response.context["totals"].ineligible_usd == Decimal("40.00")
    rows = {row.transaction_id: row.earned for row in response.context["page"].rows}
    assert rows == {earned.transaction_id: True, parked.transaction_id: False}


def test_the_ineligible_page_shows_the_reason_text_and_filters_by_reason(bob_client, org_a):
    IneligibleTransactionFactory(organization=org_a, reason_code=IneligibleReason.BELOW_MIN_SEATS)
    IneligibleTransactionFactory(organization=org_a, reason_code=IneligibleReason.NOT_ENROLLED)
    summary_rebuild([org_a.pk])

    response = bob_client.get(reverse("earnings:ineligible"), {"reasonCode": IneligibleReason.NOT_ENROLLED})

    assert IneligibleReason.NOT_ENROLLED.label.encode() in response.content
    assert [row.reason_code for row in response.context["page"].rows] == [IneligibleReason.NOT_ENROLLED]
    assert {reason.reason_code for reason in response.context["reasons"]} == {"NOT_ENROLLED"}


def test_the_payment_pages_describe_the_status_and_the_remittance(bob_client, ledger):
    listing = bob_client.get(reverse("earnings:payment-list"))
    detail = bob_client.get(reverse("earnings:payment-detail", args=[ledger.payment.pk]))

    assert b"Sent to the partner&#x27;s bank." in listing.content
    paid = [e for e in ledger.earnings if e.payment_id]
    assert detail.context["remittance"][0].amount_usd == sum(e.earning_amount_usd for e in paid)
    assert len(detail.context["earnings"]) == len(paid)


def test_the_payment_page_lists_what_blocks_payments(bob_client, ledger):
    Enrollment.objects.filter(pk=ledger.enrollment.pk).update(tax_profile_ok=False)

    response = bob_client.get(reverse("earnings:payment-detail", args=[ledger.payment.pk]))

    assert b"The tax profile is incomplete or not validated." in response.content


def test_the_reports_hub_links_every_report_with_the_current_filters(bob_client, ledger):
    response = bob_client.get(reverse("earnings:reports"), {"solutionArea": "Infra"})

    assert [report for report, _title, _text in response.context["reports"]] == [
        "earnings",
        "summarized",
        "transactions",
        "ineligible",
        "payments",
    ]
    for report in ("earnings", "summarized", "transactions", "ineligible", "payments"):
        for fmt in ("csv", "xlsx"):
            link = reverse("earnings:download", kwargs={"report": report, "fmt": fmt}) + "?solutionArea=Infra"
            assert link.encode() in response.content
    assert reverse("earnings:export-list").encode() in response.content
    assert reverse("earnings:reconcile-list").encode() in response.content


def test_an_admin_holds_and_releases_payments(alice, verified_client, ledger):
    client = verified_client(alice)
    path = reverse("earnings:hold-toggle", args=[ledger.enrollment.pk])

    assert client.post(path, {"hold": "1"}).status_code == 302
    assert Enrollment.objects.get(pk=ledger.enrollment.pk).hold_payment
    page = client.get(reverse("earnings:payment-profile"))
    assert b"On hold" in page.content and b"Release my payments" in page.content
    client.post(path, {"hold": "0"})
    assert not Enrollment.objects.get(pk=ledger.enrollment.pk).hold_payment


def test_an_incentives_user_cannot_change_holds(bob_client, ledger):
    path = reverse("earnings:hold-toggle", args=[ledger.enrollment.pk])

    assert bob_client.post(path, {"hold": "1"}).status_code == 403
    assert bob_client.get(path).status_code == 405
    assert not Enrollment.objects.get(pk=ledger.enrollment.pk).hold_payment


def count_queries(client, path, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, data or {})
    assert response.status_code == 200
    return len(captured)


QUERY_COUNTED = [
    ("index", {}),
    ("index", {"solutionArea": "Infra", "partnerRole": "Deploy", "estimatedPaymentMonth": "2025-05"}),
    ("index", {"customerName": "Customer"}),
    ("top-customers", {}),
    ("revenue", {}),
    ("ineligible", {}),
    ("payment-list", {}),
    ("reports", {}),
    ("payment-profile", {}),
]


@pytest.mark.parametrize(("name", "data"), QUERY_COUNTED)
def test_each_page_issues_the_same_queries_with_3_rows_and_with_60(org_a, bob, verified_client, name, data):
    """The second organization's ledger is 20 times bigger; its pages must not query more."""
    small_client = verified_client(bob)
    build_ledger(org_a, 3)
    for _ in range(3):
        IneligibleTransactionFactory(organization=org_a)
    small = count_queries(small_client, reverse(f"earnings:{name}"), data)

    org_c = OrganizationFactory()
    big_user = UserFactory(organization=org_c, roles=[Role.INCENTIVES_USER])
    build_ledger(org_c, 60)
    for _ in range(60):
        IneligibleTransactionFactory(organization=org_c)
    big = count_queries(verified_client(big_user), reverse(f"earnings:{name}"), data)

    assert small == big
    assert big <= 16


@pytest.mark.parametrize("rows", [3, 60])
def test_the_object_pages_issue_a_fixed_number_of_queries(
    bob, verified_client, org_a, rows, django_assert_max_num_queries
):
    ledger = build_ledger(org_a, rows)
    client = verified_client(bob)
    for path in object_pages(ledger).values():
        with django_assert_max_num_queries(16):
            assert client.get(path).status_code == 200
