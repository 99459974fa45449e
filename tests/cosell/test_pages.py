"""The Co-sell pages: who may open them, the referral list's tabs, filters and query count, the
referral page with its activity feed and actions, the deal workflow, routing rules and their tester,
the profile, insights and matching."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cosell.choices import HistorySource, LossReason, ReferralStatus, ReferralSubstatus
from cosell.models import CapabilityProfile, CaseStudy, Referral, RoutingRule, Solution
from cosell.selectors.referrals import referral_capabilities
from cosell.services.referrals import referral_create
from cosell.validation import VENDOR_ID
from portal.capabilities import Capability
from portal.roles import Role
from tests.contracts.routes import all_routes
from tests.factories import (
    CapabilityProfileFactory,
    CaseStudyFactory,
    ReferralFactory,
    RoutingRuleFactory,
    SolutionFactory,
    UserFactory,
)
from tests.portal.test_page_capabilities import required_of

pytestmark = pytest.mark.django_db

#: spec §12's incoming Microsoft co-sell invitation, as the vendor posts it.
INBOUND = {
    "name": "Northwind Traders - data platform modernisation",
    "type": "Shared",
    "qualification": "SalesQualified",
    "target": [{"type": "SolutionProfile", "id": "SOL-34104-EBB"}],
    "customerProfile": {
        "name": "Northwind Traders AG",
        "address": {
            "addressLine1": "Hauptstrasse 5",
            "city": "Munich",
            "postalCode": "80331",
            "country": "DE",
        },
        "size": "1001to5000employees",
        "team": [{"firstName": "Lena", "lastName": "Vogt", "email": "lena.vogt@northwind.example"}],
    },
    "consent": {"consentToToShareInfoWithOthers": True, "consentToContact": True},
    "details": {
        "notes": "Customer wants to move on-premises SQL warehouse to Azure.",
        "dealValue": 180000,
        "currency": "EUR",
        "closingDateTime": "2030-09-30T00:00:00Z",
        "requirements": {"products": [{"id": "Azure"}, {"id": "PowerBI"}]},
    },
    "inviteContext": {
        "notes": "Please contact the customer this week.",
        "invitedBy": {"organizationId": VENDOR_ID, "organizationName": "Microsoft"},
    },
}
LIST_PAGES = [
    "index",
    "deal-new",
    "routing-rules",
    "routing-rule-new",
    "routing-test",
    "profile",
    "insights",
    "matching",
]


def inbound(organization, **changes) -> Referral:
    data = copy.deepcopy(INBOUND)
    data.update(changes)
    return referral_create(organization=organization, actor="microsoft", data=data, source=HistorySource.API)


@pytest.fixture
def dana(org_a):
    return UserFactory(organization=org_a, email="dana@alpha.example", roles=[Role.REFERRALS_ADMIN])


@pytest.fixture
def dana_client(dana, verified_client) -> Client:
    return verified_client(dana)


@pytest.fixture
def referral(org_a) -> Referral:
    return inbound(org_a)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_renders_every_page_for_a_referrals_admin(dana_client, referral, name):
    response = dana_client.get(reverse(f"cosell:{name}"))

    assert response.status_code == 200
    assert b'aria-label="Co-sell pages"' in response.content


@pytest.mark.parametrize("name", ["index", "deal-new", "profile", "insights", "matching", "routing-rules"])
def test_it_refuses_people_without_a_referrals_role(bob, verified_client, name):
    assert verified_client(bob).get(reverse(f"cosell:{name}")).status_code == 403


def test_a_referrals_user_may_not_manage_routing_rules(org_a, verified_client):
    client = verified_client(UserFactory(organization=org_a, roles=[Role.REFERRALS_USER]))

    assert client.get(reverse("cosell:index")).status_code == 200
    assert client.get(reverse("cosell:routing-rules")).status_code == 403


def test_the_referral_pages_refuse_without_the_capability_and_hide_another_organizations(
    bob, charlie, verified_client, referral
):
    detail = reverse("cosell:referral-detail", args=[referral.pk])
    accept = reverse("cosell:referral-accept", args=[referral.pk])

    assert verified_client(bob).get(detail).status_code == 403
    assert verified_client(charlie).get(detail).status_code == 404
    assert verified_client(charlie).post(accept).status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.NEW


# --- The list -------------------------------------------------------------------------------------


def rows(client, **params) -> set[int]:
    return {r.pk for r in client.get(reverse("cosell:index"), params).context["page"].rows}


def test_the_tabs_split_inbound_own_and_closed(dana_client, org_a, referral):
    own = ReferralFactory(organization=org_a, is_inbound=False, status="Active", substatus="Accepted")
    closed = ReferralFactory(organization=org_a, status="Closed", substatus="Won")
    ReferralFactory()  # another organization's

    assert rows(dana_client) == {referral.pk}
    assert rows(dana_client, tab="mine") == {own.pk}
    assert rows(dana_client, tab="closed") == {closed.pk}


def test_filters_and_search_narrow_the_referrals(dana_client, org_a, referral):
    french = ReferralFactory(
        organization=org_a, customer_country="FR", customer_name="Contoso SA", external_reference_id="CRM-7"
    )
    old = ReferralFactory(organization=org_a, type="Independent", substatus="Pending")
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.make_aware(timezone.datetime(2024, 3, 10)))

    assert rows(dana_client) == {referral.pk, french.pk, old.pk}
    assert rows(dana_client, country="fr") == {french.pk}
    assert rows(dana_client, q="contoso") == {french.pk}
    assert rows(dana_client, q="CRM-7") == {french.pk}
    assert rows(dana_client, type="Independent") == {old.pk}
    assert rows(dana_client, substatus="Pending") == {old.pk}
    assert rows(dana_client, createdMonth="2024-03") == {old.pk}
    assert rows(dana_client, direction="outbound") == set()


def test_the_deal_kind_and_microsoft_status_filters(dana_client, org_a):
    co_sell = ReferralFactory(
        organization=org_a, is_inbound=False, deal_kind="CoSell", microsoft_status="Engaged"
    )
    ReferralFactory(organization=org_a, is_inbound=False, deal_kind="Private")

    assert rows(dana_client, tab="mine", dealKind="CoSell") == {co_sell.pk}
    assert rows(dana_client, tab="mine", microsoftStatus="Engaged") == {co_sell.pk}
    assert rows(dana_client, tab="mine", direction="outbound", microsoftStatus="Pending") == set()


def test_htmx_requests_get_the_table_only(dana_client, referral):
    response = dana_client.get(reverse("cosell:index"), headers={"HX-Request": "true"})

    assert b'data-testid="referral-table"' in response.content
    assert b"<html" not in response.content


def test_the_list_takes_the_same_number_of_queries_for_3_or_30_referrals(dana_client, dana, org_a):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert dana_client.get(reverse("cosell:index")).status_code == 200
        return len(captured)

    for _ in range(3):
        ReferralFactory(organization=org_a, assigned_user=dana, assigned_team="DACH")
    queries()  # the first request of the session renews it
    few = queries()
    for _ in range(27):
        ReferralFactory(organization=org_a, assigned_user=dana, assigned_team="DACH")

    assert queries() == few


# --- A referral: page, feed, accept, decline, edit, close -----------------------------------------


def test_the_referral_page_shows_the_fields_routing_deadline_and_history(dana_client, referral):
    response = dana_client.get(reverse("cosell:referral-detail", args=[referral.pk]))
    content = response.content.decode()

    assert "Northwind Traders AG" in content and "Hauptstrasse 5" in content
    assert "read-only" in content
    assert 'data-testid="deadline"' in content
    assert 'data-testid="routing"' in content
    fields = {change.field for group in response.context["feed"] for change in group.changes}
    assert {"/status", "/substatus"} <= fields
    assert "microsoft" in content


def test_accept_then_edit_then_close_as_lost_through_the_pages(dana_client, referral):
    dana_client.post(reverse("cosell:referral-accept", args=[referral.pk]))
    referral.refresh_from_db()
    assert (referral.status, referral.substatus) == (ReferralStatus.ACTIVE, ReferralSubstatus.ACCEPTED)

    edit = reverse("cosell:referral-edit", args=[referral.pk])
    form = dana_client.get(edit).context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data["deal_value"] = "195000"
    response = dana_client.post(edit, data)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.deal_value == Decimal("195000")

    dana_client.post(
        reverse("cosell:referral-close", args=[referral.pk]),
        {"outcome": "lost", "loss_reason": LossReason.COMPETITOR, "reason": "Went elsewhere"},
    )
    referral.refresh_from_db()
    assert (referral.status, referral.substatus) == (ReferralStatus.CLOSED, ReferralSubstatus.LOST)

    page = dana_client.get(reverse("cosell:referral-detail", args=[referral.pk]))
    changes = [c for g in page.context["feed"] for c in g.changes]
    value = next(c for c in changes if c.field == "/details/dealValue")
    assert (str(value.old), str(value.new)) == ("180000", "195000")
    assert value.who == "dana@alpha.example"
    assert "<code>/details/dealValue</code>" in page.content.decode()


def test_the_edit_form_shows_the_services_errors_next_to_the_field(dana_client, referral):
    edit = reverse("cosell:referral-edit", args=[referral.pk])
    data = {k: ("" if v is None else v) for k, v in dana_client.get(edit).context["form"].initial.items()}
    data.update(customer_country="XX", currency="ABC")

    response = dana_client.post(edit, data)

    form = response.context["form"]
    assert "customer_country" in form.errors and "currency" in form.errors
    assert Referral.objects.get(pk=referral.pk).customer_country == "DE"


def test_a_stale_edit_is_refused(dana_client, referral):
    edit = reverse("cosell:referral-edit", args=[referral.pk])
    data = {k: ("" if v is None else v) for k, v in dana_client.get(edit).context["form"].initial.items()}
    Referral.objects.filter(pk=referral.pk).update(version=99)

    response = dana_client.post(edit, {**data, "deal_value": "1"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Referral.objects.get(pk=referral.pk).deal_value == Decimal("180000")


def test_decline_with_a_reason(dana_client, referral):
    response = dana_client.post(
        reverse("cosell:referral-decline", args=[referral.pk]),
        {"loss_reason": LossReason.NO_CAPACITY, "reason": "No data engineers free"},
        follow=True,
    )

    referral.refresh_from_db()
    assert (referral.status, referral.substatus) == (ReferralStatus.CLOSED, ReferralSubstatus.DECLINED)
    assert referral.loss_reason == LossReason.NO_CAPACITY
    assert any("declined" in m for m in messages_of(response))


def test_a_decline_without_a_reason_changes_nothing(dana_client, referral):
    dana_client.post(
        reverse("cosell:referral-decline", args=[referral.pk]), {"loss_reason": LossReason.OTHER}
    )

    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.NEW


# --- The deal workflow ----------------------------------------------------------------------------

STEP_DATA = {
    1: {
        "name": "Contoso field service",
        "customer_name": "Contoso Retail Ltd",
        "address_line1": "1 King Street",
        "city": "London",
        "postal_code": "EC2V 8AU",
        "country": "gb",
        "size": "251to1000employees",
        "contacts": "Sue Smith, sue.smith@contoso.example, +442071234567",
    },
    2: {"industries": "Retail & Consumer Goods", "products": "Dynamics365Enterprise", "services": ""},
    3: {"deal_value": "65000", "currency": "gbp", "closing_date": "2030-06-30"},
    4: {"team": "Dana Ruiz, dana.ruiz@alpha.example"},
    5: {"deal_kind": "CoSell", "consent_share": "on", "consent_contact": "on", "notes": "Licensing help"},
}


def test_the_workflow_saves_a_draft_resumes_it_and_submits(dana_client, org_a):
    solution = SolutionFactory(organization=org_a, solution_id="SOL-ABC-001")
    response = dana_client.post(reverse("cosell:deal-new"), {**STEP_DATA[1], "action": "next"})
    draft = Referral.objects.get(organization=org_a, is_draft=True)
    assert response["Location"] == reverse("cosell:deal-step", args=[draft.pk, 2])
    assert draft.customer_country == "GB"

    step2 = reverse("cosell:deal-step", args=[draft.pk, 2])
    response = dana_client.post(step2, {**STEP_DATA[2], "solution": solution.solution_id, "action": "draft"})
    assert response["Location"] == step2
    draft.refresh_from_db()
    assert draft.target == [{"type": "SolutionProfile", "id": "SOL-ABC-001"}]
    assert rows(dana_client, tab="mine") == {draft.pk}

    # Resume: the saved step shows what was entered.
    resumed = dana_client.get(step2)
    assert resumed.context["form"].initial["solution"] == "SOL-ABC-001"
    for step in (3, 4):
        dana_client.post(
            reverse("cosell:deal-step", args=[draft.pk, step]), {**STEP_DATA[step], "action": "next"}
        )
    response = dana_client.post(
        reverse("cosell:deal-step", args=[draft.pk, 5]), {**STEP_DATA[5], "action": "submit"}
    )

    draft.refresh_from_db()
    assert response["Location"] == reverse("cosell:referral-detail", args=[draft.pk])
    assert not draft.is_draft
    assert draft.deal_value == Decimal("65000") and draft.currency == "GBP"
    assert draft.team[0]["email"] == "dana.ruiz@alpha.example"
    assert draft.type == "Shared"


def test_a_submit_with_missing_fields_names_them_and_keeps_the_draft(dana_client, org_a):
    dana_client.post(reverse("cosell:deal-new"), {"name": "Half a deal", "action": "draft"})
    draft = Referral.objects.get(organization=org_a, is_draft=True)

    response = dana_client.post(
        reverse("cosell:deal-step", args=[draft.pk, 5]), {**STEP_DATA[5], "action": "submit"}
    )

    paths = {error.path for error in response.context["submit_errors"]}
    assert "details.dealValue" in paths
    assert {e.step for e in response.context["submit_errors"] if e.path == "details.dealValue"} == {3}
    assert Referral.objects.get(pk=draft.pk).is_draft


def test_a_step_shows_the_services_errors_per_field(dana_client, org_a):
    response = dana_client.post(
        reverse("cosell:deal-new"), {**STEP_DATA[1], "country": "XX", "action": "next"}
    )

    assert "country" in response.context["form"].errors
    assert not Referral.objects.filter(organization=org_a).exists()


# --- Routing rules and the tester -----------------------------------------------------------------


def test_rules_are_listed_in_order_with_their_problems(dana_client, org_a):
    RoutingRuleFactory(organization=org_a, name="Global data", priority=20, match_countries=[])
    shadowed = RoutingRuleFactory(organization=org_a, name="DACH data", priority=30, match_countries=["DE"])

    response = dana_client.get(reverse("cosell:routing-rules"))

    assert [r.name for r in response.context["rules"]] == ["Global data", "DACH data"]
    assert [r.pk for r in response.context["rules"] if r.problems] == [shadowed.pk]
    assert b'data-testid="rule-problem"' in response.content


def test_create_edit_and_delete_a_rule(dana_client, org_a):
    response = dana_client.post(
        reverse("cosell:routing-rule-new"),
        {
            "name": "DACH data",
            "priority": "10",
            "is_active": "on",
            "match_countries": "de, at",
            "match_solution_ids": "SOL-ABC-001",
            "assign_to_team": "DACH Data team",
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(organization=org_a)
    assert rule.match_countries == ["DE", "AT"]

    dana_client.post(
        reverse("cosell:routing-rule-edit", args=[rule.pk]),
        {
            "name": "DACH data",
            "priority": "5",
            "is_active": "on",
            "match_countries": "DE",
            "assign_to_team": "DACH Data team",
        },
    )
    rule.refresh_from_db()
    assert (rule.priority, rule.match_countries) == (5, ["DE"])

    dana_client.post(reverse("cosell:routing-rule-delete", args=[rule.pk]))
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()


def test_a_rule_without_an_assignee_is_refused(dana_client, org_a):
    response = dana_client.post(reverse("cosell:routing-rule-new"), {"name": "Nobody", "priority": "10"})

    assert "assign_to_team" in response.context["form"].errors
    assert not RoutingRule.objects.filter(organization=org_a).exists()


def test_the_tester_says_which_rule_fires_and_why(dana_client, org_a):
    RoutingRuleFactory(
        organization=org_a,
        name="DACH data",
        priority=10,
        match_countries=["DE", "AT"],
        match_solution_ids=["SOL-ABC-001"],
        assign_to_team="DACH Data team",
    )
    RoutingRuleFactory(
        organization=org_a,
        name="Global data",
        priority=20,
        match_countries=[],
        match_solution_ids=["SOL-ABC-001"],
        assign_to_team="Global Data team",
    )
    RoutingRuleFactory(
        organization=org_a,
        name="Triage",
        priority=99,
        match_countries=[],
        is_default=True,
        assign_to_team="Inbound triage",
    )
    url = reverse("cosell:routing-test")

    german = dana_client.get(url, {"country": "de", "solution_id": "SOL-ABC-001"})
    french = dana_client.get(url, {"country": "FR", "solution_id": "SOL-ABC-001"})
    other = dana_client.get(url, {"country": "FR", "solution_id": "SOL-OTHER"})

    assert german.context["decision"].rule.name == "DACH data"
    assert french.context["decision"].rule.name == "Global data"
    assert len(french.context["decision"].explanation) == 2
    assert other.context["decision"].rule.name == "Triage"
    assert b"Inbound triage" in other.content


# --- Profile, insights, matching ------------------------------------------------------------------


def test_the_profile_saves_its_lists(dana_client, org_a):
    response = dana_client.post(
        reverse("cosell:profile"),
        {
            "profile-solution_areas": "Data & AI",
            "profile-industries": "Manufacturing, Retail",
            "profile-products": "Azure",
            "profile-countries_served": "de, at",
        },
    )

    assert response.status_code == 302
    profile = CapabilityProfile.objects.get(organization=org_a)
    assert profile.countries_served == ["DE", "AT"]
    assert profile.industries == ["Manufacturing", "Retail"]


def test_customer_references_and_solutions_are_added_edited_and_deleted(dana_client, org_a):
    dana_client.post(
        reverse("cosell:case-study-new"),
        {
            "title": "Plant analytics",
            "customer_name": "Contoso",
            "industry": "Manufacturing",
            "is_public": "on",
        },
    )
    dana_client.post(
        reverse("cosell:solution-new"),
        {"solution_id": "SOL-ABC-001", "name": "Data Warehouse", "co_sell_ready": "on"},
    )
    study, solution = CaseStudy.objects.get(organization=org_a), Solution.objects.get(organization=org_a)
    page = dana_client.get(reverse("cosell:profile")).content.decode()
    assert "Plant analytics" in page and "SOL-ABC-001" in page

    dana_client.post(
        reverse("cosell:case-study-edit", args=[study.pk]),
        {"title": "Plant analytics", "customer_name": "Contoso", "industry": "Retail", "products": "Azure"},
    )
    study.refresh_from_db()
    assert (study.industry, study.products, study.is_public) == ("Retail", ["Azure"], False)
    dana_client.post(reverse("cosell:solution-delete", args=[solution.pk]))
    assert not Solution.objects.filter(pk=solution.pk).exists()


def test_a_referrals_user_reads_the_profile_but_changes_nothing(org_a, verified_client):
    study = CaseStudyFactory(organization=org_a, title="Plant analytics")
    client = verified_client(UserFactory(organization=org_a, roles=[Role.REFERRALS_USER]))

    page = client.get(reverse("cosell:profile"))

    assert "Plant analytics" in page.content.decode()
    assert reverse("cosell:case-study-edit", args=[study.pk]) not in page.content.decode()
    assert client.post(reverse("cosell:profile"), {"profile-industries": "Retail"}).status_code == 403
    assert client.get(reverse("cosell:case-study-edit", args=[study.pk])).status_code == 403
    assert client.post(reverse("cosell:case-study-delete", args=[study.pk])).status_code == 403
    assert CaseStudy.objects.filter(pk=study.pk).exists()


def test_insights_chart_the_pipeline_and_download_the_same_figures(dana_client, org_a):
    for substatus in ("Won", "Won", "Lost"):
        ReferralFactory(organization=org_a, status="Closed", substatus=substatus, currency="USD")
    ReferralFactory(organization=org_a, status="Active", substatus="Accepted", currency="USD")

    response = dana_client.get(reverse("cosell:insights"))
    csv_response = dana_client.get(reverse("cosell:insights.csv"))

    assert response.context["summary"].win_rate == Decimal("66.7")
    pipeline = response.context["charts"]["pipeline"]
    assert sum(sum(d["data"]) for d in pipeline["datasets"]) == 4
    assert response.context["charts"]["win_rate"]["datasets"][0]["data"] == [66.7]
    lines = csv_response.content.decode().strip().splitlines()
    assert lines[0].startswith("month,status,substatus,deals")
    assert len(lines) - 1 == len(response.context["rows"])
    assert b"cosell-charts" in response.content


def test_insights_filter_by_country(dana_client, org_a):
    ReferralFactory(organization=org_a, customer_country="FR", currency="USD")
    ReferralFactory(organization=org_a, customer_country="DE", currency="USD")

    response = dana_client.get(reverse("cosell:insights"), {"country": "fr"})

    assert response.context["summary"].created == 1


def test_matching_shows_only_the_own_score_and_rank(dana_client, org_a, org_b):
    CapabilityProfileFactory(organization=org_a, products=["Azure"], designations=["Data & AI"])
    CaseStudyFactory.create_batch(3, organization=org_a)
    CapabilityProfileFactory(organization=org_b, products=["Azure", "PowerBI"], designations=["Data & AI"])

    response = dana_client.get(
        reverse("cosell:matching"),
        {
            "country": "DE",
            "industry": "Manufacturing",
            "products": "Azure, PowerBI",
            "solution_area": "Data & AI",
        },
    )

    own = response.context["own"]
    assert own.organization_id == org_a.pk
    assert [c.name for c in own.components][0] == "Solution/product fit"
    assert response.context["ranked_count"] == 2
    assert org_b.legal_name.encode() not in response.content
    assert b'data-testid="rank"' in response.content


# --- One capability check per page ------------------------------------------------------------------


def test_every_cosell_page_names_the_capability_it_needs():
    routes = [route for route in all_routes() if (route.name or "").startswith("cosell:")]

    assert len(routes) > 20
    assert {
        route.name: required_of(route.callback) for route in routes if required_of(route.callback) is None
    } == {}
    managers_only = {
        route.name for route in routes if required_of(route.callback) == ("referrals.manage_all",)
    }
    assert {"cosell:routing-rules", "cosell:routing-rule-new", "cosell:case-study-new"} <= managers_only


def test_a_referrals_user_works_their_own_referrals_only(org_a, verified_client, referral):
    seller = UserFactory(organization=org_a, roles=[Role.REFERRALS_USER])
    theirs = ReferralFactory(organization=org_a, assigned_user=seller)
    client = verified_client(seller)

    assert client.get(reverse("cosell:referral-detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("cosell:referral-detail", args=[referral.pk])).status_code == 404
    assert referral_capabilities(theirs, seller) == (
        Capability.REFERRALS_MANAGE_OWN,
        Capability.REFERRALS_MANAGE_ALL,
    )
    assert referral_capabilities(referral, seller) == (Capability.REFERRALS_MANAGE_ALL,)
    # The sub-navigation shows routing rules only to whoever manages them ({% can %}).
    nav = client.get(reverse("cosell:index")).content.decode()
    assert reverse("cosell:routing-rules") not in nav
    assert (
        reverse("cosell:routing-rules")
        in verified_client(UserFactory(organization=org_a, roles=[Role.REFERRALS_ADMIN]))
        .get(reverse("cosell:index"))
        .content.decode()
    )


def test_the_routing_explanation_loads_when_opened(dana_client, org_a, referral):
    RoutingRuleFactory(organization=org_a, name="DACH data", priority=10, match_countries=["DE"])
    own = ReferralFactory(organization=org_a, is_inbound=False)

    page = dana_client.get(reverse("cosell:referral-detail", args=[referral.pk])).content.decode()
    why = dana_client.get(reverse("cosell:referral-routing", args=[referral.pk]))

    assert reverse("cosell:referral-routing", args=[referral.pk]) in page
    assert why.context["decision"].rule.name == "DACH data"
    assert b'data-testid="explanation"' in why.content
    assert dana_client.get(reverse("cosell:referral-routing", args=[own.pk])).status_code == 404


def test_the_referral_page_takes_the_same_queries_for_inbound_and_own_deals(dana_client, org_a, referral):
    def queries(pk) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert dana_client.get(reverse("cosell:referral-detail", args=[pk])).status_code == 200
        return len(captured)

    own = ReferralFactory(organization=org_a, is_inbound=False)
    queries(own.pk)  # the first request of the session renews it

    assert queries(referral.pk) == queries(own.pk)


def test_a_rule_assigns_a_user_typed_by_e_mail(dana_client, org_a, org_b):
    seller = UserFactory(organization=org_a, email="seller@alpha.example")
    UserFactory(organization=org_b, email="other@beta.example")
    url = reverse("cosell:routing-rule-new")

    dana_client.post(
        url, {"name": "Seller", "priority": "5", "is_active": "on", "assign_to_user": "Seller@Alpha.example"}
    )
    refused = dana_client.post(
        url, {"name": "Theirs", "priority": "6", "assign_to_user": "other@beta.example"}
    )

    assert RoutingRule.objects.get(organization=org_a).assign_to_user == seller
    assert "assign_to_user" in refused.context["form"].errors
    edit = dana_client.get(
        reverse("cosell:routing-rule-edit", args=[RoutingRule.objects.get(name="Seller").pk])
    )
    assert 'value="seller@alpha.example"' in edit.content.decode()
    assert '<select name="assign_to_user"' not in edit.content.decode()


def test_insights_cover_the_last_six_months_unless_asked_for_more(dana_client, org_a):
    long_ago = timezone.now() - timezone.timedelta(days=800)
    ReferralFactory(organization=org_a, currency="USD", created_at=long_ago)
    ReferralFactory(organization=org_a, currency="USD")

    default = dana_client.get(reverse("cosell:insights"))
    everything = dana_client.get(reverse("cosell:insights"), {"period_from": f"{long_ago:%Y-%m}"})

    assert default.context["summary"].created == 1
    assert everything.context["summary"].created == 2
    assert b'data-testid="period"' in default.content
