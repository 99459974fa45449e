"""One writer per job: the pages, the API and the vendor's admin change co-sell rows through the same
services, so each path leaves the same audit rows and the same referral history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cosell.choices import LossReason
from cosell.models import CaseStudy, Referral, RoutingRule
from cosell.selectors.activity import referral_history
from portal.models import AuditEvent
from portal.roles import Role
from tests.cosell.test_pages import inbound
from tests.factories import CaseStudyFactory, RoutingRuleFactory, UserFactory

pytestmark = pytest.mark.django_db

RULES = "/api/v1/cosell/routing-rules/"
RULE = {"name": "DACH data", "priority": 10, "assign_to_team": "DACH Data team"}


@pytest.fixture
def dana(org_a):
    return UserFactory(organization=org_a, email="dana@alpha.example", roles=[Role.REFERRALS_ADMIN])


@pytest.fixture
def staff(db):
    return UserFactory(organization=None, is_staff=True, is_superuser=True, email="seller@vendor.example")


@pytest.fixture
def api(org_a, api_for):
    return api_for(org_a, scopes=("cosell:read", "cosell:write"), roles=(Role.REFERRALS_ADMIN,))


def audit(action: str, target) -> list[tuple[str, dict]]:
    events = AuditEvent.objects.filter(action=action, target_id=str(target.pk)).order_by("at", "id")
    return [(event.actor_label, event.changes) for event in events]


def test_a_rule_written_by_the_page_the_api_or_the_admin_is_audited_alike(
    dana, staff, org_a, api, verified_client
):
    verified_client(dana).post(reverse("cosell:routing-rule-new"), {**RULE, "is_active": "on"})
    by_page = RoutingRule.objects.get(organization=org_a)
    by_api = RoutingRule.objects.get(
        pk=api.post(RULES, {**RULE, "name": "API rule"}, format="json").json()["id"]
    )
    verified_client(staff).post(
        reverse("admin:cosell_routingrule_add"),
        {**RULE, "name": "Admin rule", "organization": org_a.pk, "is_active": "on"},
    )
    by_admin = RoutingRule.objects.get(name="Admin rule")

    created = [audit("routing_rule.created", rule) for rule in (by_page, by_api, by_admin)]
    assert [len(rows) for rows in created] == [1, 1, 1]
    [(page_actor, page_changes)], [(_, api_changes)], [(admin_actor, admin_changes)] = created
    assert (page_actor, admin_actor) == ("dana@alpha.example", "seller@vendor.example")
    assert page_changes["assign_to_team"] == api_changes["assign_to_team"] == [None, "DACH Data team"]
    assert admin_changes["assign_to_team"] == [None, "DACH Data team"]

    verified_client(dana).post(
        reverse("cosell:routing-rule-edit", args=[by_page.pk]), {**RULE, "priority": 5, "is_active": "on"}
    )
    api.patch(f"{RULES}{by_api.pk}/", {"priority": 5}, format="json")
    assert audit("routing_rule.updated", by_page)[0][1] == {"priority": [10, 5]}
    assert audit("routing_rule.updated", by_api)[0][1] == {"priority": [10, 5]}

    verified_client(dana).post(reverse("cosell:routing-rule-delete", args=[by_page.pk]))
    api.delete(f"{RULES}{by_api.pk}/")
    verified_client(staff).post(
        reverse("admin:cosell_routingrule_delete", args=[by_admin.pk]), {"post": "yes"}
    )
    assert not RoutingRule.objects.filter(organization=org_a).exists()
    for rule in (by_page, by_api, by_admin):
        assert len(audit("routing_rule.deleted", rule)) == 1, rule.name


def test_a_rule_the_service_refuses_is_refused_on_every_path(dana, staff, org_a, api, verified_client):
    RoutingRuleFactory(organization=org_a, name="Triage", is_default=True, assign_to_team="Triage")
    second_default = {"name": "Second", "priority": 2, "is_default": True, "assign_to_team": "T"}

    page = verified_client(dana).post(
        reverse("cosell:routing-rule-new"), {**second_default, "is_active": "on"}
    )
    by_api = api.post(RULES, second_default, format="json")
    admin = verified_client(staff).post(
        reverse("admin:cosell_routingrule_add"), {**second_default, "organization": org_a.pk}
    )

    assert "is_default" in page.context["form"].errors
    assert by_api.status_code == 400 and "is_default" in by_api.json()["errors"]
    assert admin.status_code == 200 and "is_default" in admin.context["adminform"].form.errors
    assert RoutingRule.objects.filter(organization=org_a).count() == 1


def test_a_customer_reference_written_by_the_page_or_the_admin_is_audited_alike(
    dana, staff, org_a, verified_client
):
    study = {"title": "Plant analytics", "customer_name": "Contoso", "industry": "Manufacturing"}
    verified_client(dana).post(reverse("cosell:case-study-new"), study)
    verified_client(staff).post(
        reverse("admin:cosell_casestudy_add"), {**study, "title": "Admin reference", "organization": org_a.pk}
    )
    by_page = CaseStudy.objects.get(title="Plant analytics")
    by_admin = CaseStudy.objects.get(title="Admin reference")

    assert audit("case_study.created", by_page)[0][1]["industry"] == [None, "Manufacturing"]
    assert audit("case_study.created", by_admin)[0][1]["industry"] == [None, "Manufacturing"]

    verified_client(staff).post(
        reverse("admin:cosell_casestudy_change", args=[by_admin.pk]), {**study, "title": "Admin reference"}
    )
    edited = CaseStudyFactory(organization=org_a)
    verified_client(dana).post(reverse("cosell:case-study-delete", args=[edited.pk]))
    assert audit("case_study.deleted", edited)
    assert audit("case_study.updated", by_admin) == []  # nothing changed, nothing written


def test_accepting_on_the_page_or_through_the_api_writes_the_same_history(dana, org_a, api, verified_client):
    on_page, through_api = inbound(org_a), inbound(org_a)

    verified_client(dana).post(reverse("cosell:referral-accept", args=[on_page.pk]))
    api.patch(
        f"/api/v1/cosell/engagements/referrals/{through_api.referral_id}",
        {"status": "Active", "substatus": "Accepted"},
        format="json",
        HTTP_IF_MATCH=Referral.objects.get(pk=through_api.pk).etag,
    )

    def accepted(referral):
        return {(c.field, c.new) for c in referral_history(referral) if c.new in ("Active", "Accepted")}

    assert accepted(on_page) == accepted(through_api) == {("/status", "Active"), ("/substatus", "Accepted")}
    sources = {c.source for c in referral_history(on_page) if c.field == "/status" and c.new == "Active"}
    assert sources == {"ui"}
    sources = {c.source for c in referral_history(through_api) if c.field == "/status" and c.new == "Active"}
    assert sources == {"api"}


def test_a_vendor_edit_in_the_admin_is_the_services_write(staff, org_a, verified_client):
    referral = inbound(org_a)
    referral.refresh_from_db()

    verified_client(staff).post(
        reverse("admin:cosell_referral_change", args=[referral.pk]),
        {"microsoft_status": "Engaged", "lead_temperature": "", "assigned_team": referral.assigned_team},
    )

    referral.refresh_from_db()
    [change] = [c for c in referral_history(referral) if c.field == "/microsoftStatus"]
    assert (change.new, change.who, change.source) == ("Engaged", staff.email, "admin")
    assert referral.microsoft_status == "Engaged"


def test_declining_with_a_reason_through_the_page_uses_the_post_action_shape(dana, org_a, verified_client):
    referral = inbound(org_a)
    response = verified_client(dana).post(
        reverse("cosell:referral-decline", args=[referral.pk]),
        {"loss_reason": LossReason.NO_CAPACITY, "reason": ""},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("cosell:referral-detail", args=[referral.pk])
    assert [str(m) for m in response.context["messages"]] == ["Pick why you decline the referral."]
