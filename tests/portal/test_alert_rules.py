"""Alert rules: set on the data a person can see, refused when they name nothing real, evaluated
when the data changes or every day, firing once per change to the owner and the webhooks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from incentives.choices import ClaimStatus
from portal.models import WebhookDelivery
from portal.notifications.models import AlertRule, Notification
from portal.notifications.rules import alert_rule_create, alert_rules_evaluate_scheduled
from portal.roles import Role
from tests.factories import (
    ClaimFactory,
    EarningFactory,
    ReferralFactory,
    SecurityScoreSnapshotFactory,
    UserFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def _fired(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, category="alerts.rule_fired")
        .order_by("id")
        .values_list("title", flat=True)
    )


def test_a_rule_naming_nothing_real_is_refused_with_the_reason(alice):
    with pytest.raises(ValidationError, match="'cosell.anything' is not a kind of alert rule"):
        alert_rule_create(actor=alice, kind="cosell.anything", name="x", parameters={})
    with pytest.raises(ValidationError, match="has no parameter colour"):
        alert_rule_create(actor=alice, kind="security.score_below", name="x", parameters={"colour": "red"})
    with pytest.raises(ValidationError) as caught:
        alert_rule_create(actor=alice, kind="security.score_below", name="x", parameters={"threshold": "180"})
    assert caught.value.message_dict == {"threshold": ["Threshold must be at most 100; 180 is above."]}
    with pytest.raises(ValidationError, match="is required"):
        alert_rule_create(actor=alice, kind="security.score_below", name="x", parameters={})
    with pytest.raises(ValidationError, match="not a two-letter country code"):
        alert_rule_create(
            actor=alice, kind="cosell.referral_arrives", name="x", parameters={"country": "Swiss"}
        )
    with pytest.raises(ValidationError, match="not the tenant ID of one of your customers"):
        alert_rule_create(
            actor=alice,
            kind="earnings.customer_drop",
            name="x",
            parameters={"customer_tenant_id": "00000000-0000-0000-0000-000000000000", "percent": "20"},
        )
    assert not AlertRule.objects.exists()


def test_a_rule_needs_the_roles_that_see_its_data(org_a):
    marketer = UserFactory(organization=org_a, roles=[Role.INCENTIVES_MARKETER])
    with pytest.raises(ValidationError, match="Your roles don't let you see the data"):
        alert_rule_create(
            actor=marketer, kind="security.score_below", name="x", parameters={"threshold": "80"}
        )


def test_a_big_referral_in_ch_fires_once_for_its_owner_and_the_webhooks(
    alice, bob, charlie, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.celery import app

    # The endpoint is not reachable from the test: the delivery is queued, its first try fails.
    monkeypatch.setattr(app.conf, "task_eager_propagates", False)
    rule = alert_rule_create(
        actor=alice,
        kind="cosell.referral_arrives",
        name="Big deals in CH",
        parameters={"min_deal_value": "100000", "country": "ch"},
    )
    hook = WebhookEndpointFactory(organization=alice.organization, events=["alert.fired"])
    with django_capture_on_commit_callbacks(execute=True):
        big = ReferralFactory(
            organization=alice.organization, deal_value=Decimal("250000"), customer_country="CH"
        )
        ReferralFactory(organization=alice.organization, deal_value=Decimal("50000"), customer_country="CH")
        ReferralFactory(organization=alice.organization, deal_value=Decimal("250000"), customer_country="DE")
        ReferralFactory(
            organization=charlie.organization, deal_value=Decimal("900000"), customer_country="CH"
        )
        big.save()  # the same referral saved again is not a new arrival
    assert _fired(alice) == [f"Big deals in CH: referral {big.name} arrived (250,000 EUR, CH)"]
    assert _fired(bob) == [] and _fired(charlie) == []
    [delivery] = WebhookDelivery.objects.filter(endpoint=hook)
    assert delivery.event == "alert.fired"
    assert delivery.payload["data"]["ruleId"] == rule.pk
    assert delivery.payload["data"]["referralId"] == str(big.referral_id)


def test_the_score_rule_fires_when_the_score_falls_below_and_again_only_after_recovering(
    alice, django_capture_on_commit_callbacks
):
    alert_rule_create(actor=alice, kind="security.score_below", name="Score", parameters={"threshold": "80"})
    day = date(2026, 3, 1)
    with django_capture_on_commit_callbacks(execute=True):
        for offset, score in enumerate([85, 75, 70, 90, 60]):
            SecurityScoreSnapshotFactory(
                organization=alice.organization, taken_on=day + timedelta(days=offset), score=score
            )
    assert _fired(alice) == [
        "Score: the security score is 75, below 80",
        "Score: the security score is 60, below 80",
    ]


def test_the_daily_check_fires_for_a_claim_waiting_too_long_once(alice):
    alert_rule_create(actor=alice, kind="incentives.claim_waiting", name="Slow", parameters={"days": "10"})
    late = ClaimFactory(
        organization=alice.organization,
        status=ClaimStatus.UNDER_REVIEW,
        submitted_at=timezone.now() - timedelta(days=12),
    )
    ClaimFactory(organization=alice.organization, status=ClaimStatus.SUBMITTED, submitted_at=timezone.now())
    ClaimFactory(
        organization=alice.organization,
        status=ClaimStatus.APPROVED,
        submitted_at=timezone.now() - timedelta(days=40),
    )
    assert alert_rules_evaluate_scheduled()["incentives.claim_waiting"] == 1
    assert alert_rules_evaluate_scheduled()["incentives.claim_waiting"] == 0
    assert _fired(alice) == [f"Slow: claim {late.claim_id} has waited more than 10 days"]


def test_the_daily_check_fires_when_a_customer_s_earnings_fall(alice):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(organization=alice.organization)
    today = timezone.localdate()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    EarningFactory(
        organization=alice.organization,
        customer=customer,
        earning_date=before,
        earning_amount_usd=Decimal("1000"),
    )
    EarningFactory(
        organization=alice.organization,
        customer=customer,
        earning_date=last,
        earning_amount_usd=Decimal("700"),
    )
    alert_rule_create(
        actor=alice,
        kind="earnings.customer_drop",
        name="Falls",
        parameters={"customer_tenant_id": str(customer.tenant_id), "percent": "20"},
    )
    alert_rules_evaluate_scheduled()
    alert_rules_evaluate_scheduled()
    assert _fired(alice) == [f"Falls: earnings of {customer.name} fell 30 % in {last:%B %Y}"]


def test_the_pages_add_switch_off_and_delete_a_rule(alice, verified_client):
    client = verified_client(alice)
    page = client.get(reverse("portal:alert-rule-list")).content.decode()
    assert "The security score falls below a threshold" in page
    refused = client.post(reverse("portal:alert-rule-new", args=["security.score_below"]), {"threshold": "x"})
    assert "&#x27;x&#x27; is not a number." in refused.content.decode()
    client.post(
        reverse("portal:alert-rule-new", args=["security.score_below"]), {"name": "Mine", "threshold": "70"}
    )
    rule = AlertRule.objects.get(owner=alice)
    assert (rule.name, rule.parameters) == ("Mine", {"threshold": "70"})
    client.post(reverse("portal:alert-rule-toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.is_active is False
    client.post(reverse("portal:alert-rule-delete", args=[rule.pk]))
    assert not AlertRule.objects.exists()


def test_the_api_sets_rules_and_reads_notifications(org_a, api_for, django_capture_on_commit_callbacks):
    api = api_for(org_a)
    bad = api.post(
        "/api/v1/alert-rules/",
        {"kind": "security.score_below", "parameters": {"threshold": "0"}},
        format="json",
    )
    assert bad.status_code == 400 and "threshold" in str(bad.json())
    made = api.post(
        "/api/v1/alert-rules/",
        {"kind": "security.score_below", "name": "API", "parameters": {"threshold": "90"}},
        format="json",
    )
    assert made.status_code == 201, made.json()
    kinds = api.get("/api/v1/alert-rules/kinds/").json()
    assert {"cosell.referral_arrives", "security.score_below"} <= {kind["code"] for kind in kinds}
    with django_capture_on_commit_callbacks(execute=True):
        SecurityScoreSnapshotFactory(organization=org_a, score=50)
    listed = api.get("/api/v1/notifications/").json()["results"]
    assert [row["title"] for row in listed] == ["API: the security score is 50, below 90"]
    api.post("/api/v1/notifications/read/", {}, format="json")
    assert api.get("/api/v1/notifications/", {"unread": "true"}).json()["results"] == []
