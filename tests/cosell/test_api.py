"""The co-sell API in Partner Center's Referrals API shape (cosell.api), and routing rules."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cosell.models import Referral, RoutingRule
from portal.roles import Role
from tests.factories import ReferralFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
REFERRALS = "/api/v1/cosell/engagements/referrals"
RULES = "/api/v1/cosell/routing-rules/"
READ_WRITE = ("cosell:read", "cosell:write")


def document(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def api(org_a, api_for):
    return api_for(org_a, scopes=READ_WRITE, roles=(Role.REFERRALS_ADMIN,))


def detail(referral: Referral) -> str:
    return f"{REFERRALS}/{referral.referral_id}"


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    return response.json()


# --- Create -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["northwind_invitation.json", "contoso_deal.json"])
def test_it_accepts_the_documented_examples_as_they_are(api, org_a, name):
    sent = document(name)
    response = api.post(REFERRALS, sent, format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    referral = Referral.objects.get(referral_id=body["id"])
    assert referral.organization == org_a
    assert response["ETag"] == body["eTag"] == referral.etag
    # Read-only properties of the posted document are the server's to set.
    assert body["id"] != sent["id"]
    assert body["organizationName"] == org_a.legal_name
    for key in ("name", "type", "qualification", "customerProfile", "consent", "team", "target"):
        assert body[key] == sent[key], key
    assert Decimal(str(body["details"]["dealValue"])) == Decimal(sent["details"]["dealValue"])
    assert body["details"]["currency"] == sent["details"]["currency"]
    assert body["details"]["requirements"] == sent["details"]["requirements"]


def test_a_missing_required_field_is_a_problem_naming_its_json_path(api):
    sent = document("northwind_invitation.json")
    del sent["customerProfile"]["address"]["country"]
    del sent["details"]["currency"]
    response = api.post(REFERRALS, sent, format="json")
    assert response.status_code == 400
    body = problem(response)
    assert {"customerProfile.address.country", "details.currency"} <= set(body["errors"])
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["customerProfile"]["address"].update(country="XX"), "customerProfile.address.country"),
        (lambda d: d["details"].update(currency="EURO"), "details.currency"),
        (lambda d: d["details"].update(dealValue=-1), "details.dealValue"),
        (lambda d: d.pop("consent"), "consent"),
        (lambda d: d.pop("type"), "type"),
    ],
)
def test_bad_values_are_problems_and_change_nothing(api, change, path):
    sent = document("contoso_deal.json")
    change(sent)
    response = api.post(REFERRALS, sent, format="json")
    assert response.status_code == 400
    assert path in problem(response)["errors"]
    assert not Referral.objects.exists()


def test_a_body_that_is_not_an_object_is_a_problem(api):
    response = api.post(REFERRALS, [1, 2], format="json")
    assert response.status_code == 400
    assert problem(response)["errors"]


def test_a_repeated_post_with_the_same_idempotency_key_creates_one_referral(api):
    sent = document("contoso_deal.json")
    first = api.post(REFERRALS, sent, format="json", HTTP_IDEMPOTENCY_KEY="crm-004512")
    rows = Referral.objects.count()
    again = api.post(REFERRALS, sent, format="json", HTTP_IDEMPOTENCY_KEY="crm-004512")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Referral.objects.count() == rows


def test_writing_needs_the_write_scope_and_a_referrals_role(org_a, api_for):
    sent = document("contoso_deal.json")
    reader = api_for(org_a, scopes=("cosell:read",), roles=(Role.REFERRALS_ADMIN,))
    assert reader.post(REFERRALS, sent, format="json").status_code == 403
    no_role = api_for(org_a, scopes=READ_WRITE, roles=(Role.INCENTIVES_USER,))
    assert no_role.post(REFERRALS, sent, format="json").status_code == 403
    assert no_role.get(REFERRALS).status_code == 403
    assert not Referral.objects.exists()


# --- Read -------------------------------------------------------------------------------------------


def test_get_answers_the_document_with_its_etag(api, org_a):
    referral = ReferralFactory(organization=org_a)
    response = api.get(detail(referral))
    assert response.status_code == 200
    assert response["ETag"] == referral.etag == response.json()["eTag"]
    assert response.json()["id"] == str(referral.referral_id)


def test_another_organizations_referral_is_a_404(api, org_b):
    theirs = ReferralFactory(organization=org_b)
    assert api.get(detail(theirs)).status_code == 404
    response = api.patch(detail(theirs), {"name": "x"}, format="json", HTTP_IF_MATCH=theirs.etag)
    assert response.status_code == 404
    assert api.get(f"{detail(theirs)}/history").status_code == 404


def test_a_referrals_user_sees_only_referrals_assigned_to_them(org_a, api_for):
    client = api_for(org_a, scopes=READ_WRITE, roles=(Role.REFERRALS_USER,))
    service_user = org_a.users.get(is_service_account=True)
    mine = ReferralFactory(organization=org_a, assigned_user=service_user)
    other = ReferralFactory(organization=org_a, assigned_user=UserFactory(organization=org_a))
    ids = {row["id"] for row in client.get(REFERRALS).json()["value"]}
    assert ids == {str(mine.referral_id)}
    assert client.get(detail(other)).status_code == 404


# --- List -------------------------------------------------------------------------------------------


def test_the_list_answers_the_odata_envelope_newest_first(api, org_a):
    older = ReferralFactory(organization=org_a)
    newer = ReferralFactory(organization=org_a)
    Referral.objects.filter(pk=older.pk).update(created_at=newer.created_at.replace(year=2024))
    body = api.get(REFERRALS).json()
    assert set(body) == {"value"}
    assert [row["id"] for row in body["value"]] == [str(newer.referral_id), str(older.referral_id)]
    # A list row is the same document GET one answers.
    assert body["value"][0] == api.get(detail(newer)).json()


def test_the_list_filters_with_odata(api, org_a):
    german = ReferralFactory(organization=org_a, customer_country="DE", status="New", substatus="Received")
    won = ReferralFactory(
        organization=org_a,
        customer_country="GB",
        status="Closed",
        substatus="Won",
        external_reference_id="CRM-1",
    )
    outgoing = ReferralFactory(organization=org_a, customer_country="GB", is_inbound=False)

    def ids(expression: str) -> set[str]:
        response = api.get(REFERRALS, {"$filter": expression})
        assert response.status_code == 200, response.content[:300]
        return {row["id"] for row in response.json()["value"]}

    assert ids("customerProfile/address/country eq 'DE'") == {str(german.referral_id)}
    assert ids("status eq 'Closed' and substatus eq 'Won'") == {str(won.referral_id)}
    assert ids("externalReferenceId eq 'CRM-1'") == {str(won.referral_id)}
    assert ids(f"engagementId eq '{outgoing.engagement_id}'") == {str(outgoing.referral_id)}
    assert ids("direction eq 'Outgoing'") == {str(outgoing.referral_id)}
    assert ids("type eq 'Independent'") == set()


def test_the_list_orders_pages_and_counts(api, org_a):
    for value in ("500", "100", "300"):
        ReferralFactory(organization=org_a, deal_value=Decimal(value))
    first = api.get(REFERRALS, {"$orderby": "dealValue desc", "$top": "2", "$count": "true"}).json()
    assert [row["details"]["dealValue"] for row in first["value"]] == [500, 300]
    assert first["@odata.count"] == 3
    next_link = first["@odata.nextLink"]
    assert "%24skip=2" in next_link and "%24top=2" in next_link
    second = api.get(next_link).json()
    assert [row["details"]["dealValue"] for row in second["value"]] == [100]
    assert "@odata.nextLink" not in second
    ascending = api.get(REFERRALS, {"$orderby": "dealValue asc"}).json()
    assert [row["details"]["dealValue"] for row in ascending["value"]] == [100, 300, 500]


def test_the_list_counts_only_when_asked(api, org_a):
    ReferralFactory.create_batch(3, organization=org_a)
    api.get(REFERRALS)
    with CaptureQueriesContext(connection) as plain:
        assert len(api.get(REFERRALS).json()["value"]) == 3
    assert not any("COUNT(" in query["sql"].upper() for query in plain.captured_queries)
    with CaptureQueriesContext(connection) as counted:
        assert api.get(REFERRALS, {"$count": "true"}).json()["@odata.count"] == 3
    assert any("COUNT(" in query["sql"].upper() for query in counted.captured_queries)


def test_the_list_reads_a_page_in_a_constant_number_of_queries(api, org_a):
    ReferralFactory(organization=org_a)
    api.get(REFERRALS)
    with CaptureQueriesContext(connection) as one:
        api.get(REFERRALS)
    ReferralFactory.create_batch(20, organization=org_a)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(REFERRALS).json()["value"]) == 21
    assert len(many.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize(
    ("params", "option"),
    [
        ({"$filter": "status eq 'Open'"}, "$filter"),
        ({"$filter": "name eq 'x'"}, "$filter"),
        ({"$orderby": "name"}, "$orderby"),
        ({"$top": "101"}, "$top"),
        ({"$skip": "-1"}, "$skip"),
        ({"$select": "id"}, "$select"),
    ],
)
def test_a_bad_query_option_is_a_problem_naming_it(api, params, option):
    response = api.get(REFERRALS, params)
    assert response.status_code == 400
    assert option in problem(response)["errors"]


# --- Update -----------------------------------------------------------------------------------------


def test_put_needs_if_match(api, org_a):
    referral = ReferralFactory(organization=org_a)
    response = api.put(detail(referral), api.get(detail(referral)).json(), format="json")
    assert response.status_code == 428
    assert problem(response)["code"] == "precondition_required"


def test_a_stale_etag_is_412_and_changes_nothing(api, org_a):
    referral = ReferralFactory(organization=org_a)
    read = api.get(detail(referral))
    stale = read["ETag"]
    changed = api.patch(detail(referral), {"name": "First edit"}, format="json", HTTP_IF_MATCH=stale)
    assert changed.status_code == 200, changed.content[:300]
    assert changed["ETag"] != stale
    response = api.patch(detail(referral), {"name": "Second edit"}, format="json", HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert problem(response)["status"] == 412
    referral.refresh_from_db()
    assert referral.name == "First edit"


def test_put_replaces_the_document_and_patch_changes_part_of_it(api):
    created = api.post(REFERRALS, document("northwind_invitation.json"), format="json")
    referral_url = f"{REFERRALS}/{created.json()['id']}"
    full = created.json()
    full["name"] = "Northwind Traders - warehouse to Azure"
    full["details"]["dealValue"] = 200000
    put = api.put(referral_url, full, format="json", HTTP_IF_MATCH=created["ETag"])
    assert put.status_code == 200, put.content[:500]
    assert put.json()["name"] == "Northwind Traders - warehouse to Azure"
    assert put.json()["details"]["dealValue"] == 200000
    patch = api.patch(
        referral_url, {"details": {"dealValue": 210000}}, format="json", HTTP_IF_MATCH=put["ETag"]
    )
    assert patch.status_code == 200, patch.content[:500]
    assert patch.json()["details"]["dealValue"] == 210000
    assert patch.json()["details"]["currency"] == "EUR"
    assert patch.json()["name"] == "Northwind Traders - warehouse to Azure"


def test_an_illegal_transition_is_400_invalid_status_transition(api, org_a):
    referral = ReferralFactory(organization=org_a, status="New", substatus="Received")
    response = api.patch(
        detail(referral), {"status": "Active", "substatus": "Won"}, format="json", HTTP_IF_MATCH=referral.etag
    )
    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == "invalid_status_transition"
    assert "status" in body["errors"]
    referral.refresh_from_db()
    assert (referral.status, referral.substatus) == ("New", "Received")


def test_a_closed_referral_takes_no_edits(api, org_a):
    referral = ReferralFactory(organization=org_a, status="Closed", substatus="Lost")
    response = api.patch(detail(referral), {"name": "Reopened?"}, format="json", HTTP_IF_MATCH=referral.etag)
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_status_transition"


def test_a_legal_move_is_accepted(api, org_a):
    referral = ReferralFactory(organization=org_a, status="New", substatus="Received")
    response = api.patch(
        detail(referral),
        {"status": "Active", "substatus": "Accepted"},
        format="json",
        HTTP_IF_MATCH=referral.etag,
    )
    assert response.status_code == 200, response.content[:300]
    assert (response.json()["status"], response.json()["substatus"]) == ("Active", "Accepted")
    assert response.json()["acceptedDateTime"]


# --- History ----------------------------------------------------------------------------------------


def test_history_shows_each_api_change_with_who_and_how(api, org_a):
    created = api.post(REFERRALS, document("contoso_deal.json"), format="json")
    referral_url = f"{REFERRALS}/{created.json()['id']}"
    api.patch(
        referral_url,
        {"details": {"dealValue": 70000}},
        format="json",
        HTTP_IF_MATCH=created["ETag"],
        HTTP_X_REQUEST_ID="req-edit-70000",
    )
    rows = api.get(f"{referral_url}/history").json()["value"]
    value_changes = [row for row in rows if row["field"] == "/details/dealValue"]
    assert len(value_changes) == 1
    change = value_changes[0]
    assert (change["oldValue"], change["newValue"]) == (65000, 70000)
    assert change["source"] == "api"
    assert change["actorType"] == "api"
    assert change["correlationId"] == "req-edit-70000"
    service_user = org_a.users.get(is_service_account=True)
    assert change["who"] == service_user.email
    assert change["occurredDateTime"].endswith("Z") or "+00:00" in change["occurredDateTime"]


# --- Routing rules ----------------------------------------------------------------------------------


def test_routing_rules_crud(api, org_a, org_b):
    response = api.post(
        RULES,
        {
            "name": "DACH data",
            "priority": 10,
            "match_countries": ["DE", "AT"],
            "assign_to_team": "DACH Data team",
        },
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    rule = RoutingRule.objects.get(pk=response.json()["id"])
    assert rule.organization == org_a
    rule_url = f"{RULES}{rule.pk}/"
    assert api.patch(rule_url, {"priority": 5}, format="json").json()["priority"] == 5
    assert [row["id"] for row in api.get(RULES).json()["results"]] == [rule.pk]
    theirs = RoutingRuleFactory(organization=org_b)
    assert api.get(f"{RULES}{theirs.pk}/").status_code == 404
    assert api.delete(rule_url).status_code == 204
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()


def test_a_rule_must_assign_someone_and_only_one_may_be_the_default(api, org_a, org_b):
    response = api.post(RULES, {"name": "Nobody", "priority": 1}, format="json")
    assert response.status_code == 400
    assert "assign_to_team" in problem(response)["errors"]
    RoutingRuleFactory(organization=org_a, is_default=True, priority=99)
    response = api.post(
        RULES, {"name": "Second default", "priority": 2, "is_default": True, "assign_to_team": "T"}
    )
    assert response.status_code == 400
    assert "is_default" in problem(response)["errors"]
    outsider = UserFactory(organization=org_b)
    response = api.post(
        RULES, {"name": "Theirs", "priority": 3, "assign_to_user": outsider.pk}, format="json"
    )
    assert response.status_code == 400
    assert "assign_to_user" in problem(response)["errors"]


def test_the_rule_tester_follows_the_spec_example(api, org_a):
    dach = RoutingRuleFactory(
        organization=org_a, priority=10, match_countries=["DE", "AT"], match_solution_ids=["SOL-ABC-001"]
    )
    RoutingRuleFactory(
        organization=org_a,
        priority=20,
        match_countries=[],
        match_solution_ids=["SOL-ABC-001"],
        assign_to_team="Global Data team",
    )
    RoutingRuleFactory(
        organization=org_a, priority=99, match_countries=[], is_default=True, assign_to_team="Inbound triage"
    )
    german = api.get(f"{RULES}test", {"country": "DE", "solutionId": "SOL-ABC-001"}).json()
    assert (german["ruleId"], german["assignToTeam"]) == (dach.pk, "DACH Data team")
    assert german["explanation"]
    assert api.get(f"{RULES}test", {"country": "fr", "solutionId": "SOL-ABC-001"}).json()["assignToTeam"] == (
        "Global Data team"
    )
    other = api.get(f"{RULES}test", {"country": "FR", "solutionId": "SOL-XYZ-002"}).json()
    assert (other["assignToTeam"], other["isDefault"]) == ("Inbound triage", True)
    response = api.get(f"{RULES}test", {"country": "France"})
    assert response.status_code == 400
    assert "country" in problem(response)["errors"]


def test_the_list_never_shows_another_organizations_referrals(api, org_a, org_b):
    mine = ReferralFactory(organization=org_a)
    theirs = ReferralFactory(organization=org_b)
    for params in ({}, {"$filter": f"engagementId eq '{theirs.engagement_id}'"}):
        ids = {row["id"] for row in api.get(REFERRALS, params).json()["value"]}
        assert str(theirs.referral_id) not in ids
    assert str(mine.referral_id) in {row["id"] for row in api.get(REFERRALS).json()["value"]}


def test_top_zero_answers_only_the_count_and_no_next_link(api, org_a):
    ReferralFactory.create_batch(2, organization=org_a)
    assert api.get(REFERRALS, {"$top": "0", "$count": "true"}).json() == {"value": [], "@odata.count": 2}
