"""ISV Success sign-up (spec/membership.md §3): eligibility, drafts, submission, the vendor's review,
the benefit package on approval, reopening a rejection."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.choices import ActionItemCode, ActionItemStatus
from accounts.models import ActionItem
from membership.choices import Designation, IsvStatus, MembershipStatus, PackageSource
from membership.models import BenefitPackage, BenefitTemplate, IsvSuccessApplication
from membership.selectors.isv import isv_eligibility
from membership.services import isv
from membership.services.isv import (
    ISV_STATUS_CHANGED,
    isv_application_reopen,
    isv_application_review,
    isv_application_save,
    isv_application_submit,
)
from portal.history import history_for
from portal.models import AuditEvent, WebhookDelivery
from portal.roles import Role
from security.choices import CheckStatus
from tests.factories import (
    IsvSuccessApplicationFactory,
    MembershipFactory,
    UserFactory,
    VerificationCheckFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return UserFactory(organization=None, is_staff=True, email="isv-review@vendor.example")


@pytest.fixture
def partner_admin(org_a):
    return UserFactory(organization=org_a, roles=[Role.PARTNER_ADMIN])


def _make_eligible(org, status=CheckStatus.VERIFIED):
    MembershipFactory(organization=org)
    VerificationCheckFactory(organization=org, status=status)


@pytest.fixture
def eligible(org_a):
    _make_eligible(org_a)
    return org_a


def _data(**overrides):
    data = {
        "app_name": "Contoso Insights",
        "app_description": "Usage analytics for Microsoft 365 tenants.",
        "designation": Designation.MODERN_WORK,
        "expected_release_date": timezone.localdate() + timedelta(days=90),
        "is_published": False,
        "marketplace_offer_id": "",
    }
    data.update(overrides)
    return data


def _submitted(org, actor):
    application = isv_application_save(actor=actor, organization=org, data=_data())
    return isv_application_submit(actor=actor, application=application, accept_agreement=True)


# --- Eligibility -----------------------------------------------------------------------------------


def _checks(org):
    return {check.code: (check.ok, check.detail) for check in isv_eligibility(org).checks}


def test_an_organization_without_membership_or_enrollment_is_not_eligible(org_a):
    result = isv_eligibility(org_a)
    assert result.eligible is False
    assert _checks(org_a) == {
        "membership": (False, "The organization is not a member."),
        "verification": (False, "The organization is not enrolled in the AI Cloud Partner Program."),
        "not_approved": (True, "No application has been approved yet."),
    }


def test_eligibility_needs_an_active_membership_and_a_verified_account(org_a):
    MembershipFactory(organization=org_a, status=MembershipStatus.LAPSED)
    check = VerificationCheckFactory(organization=org_a, status=CheckStatus.PENDING)
    assert _checks(org_a)["membership"] == (False, "The membership is lapsed; it must be active.")
    assert _checks(org_a)["verification"] == (False, "Account verification is pending; it must be verified.")

    org_a.membership.status = MembershipStatus.ACTIVE
    org_a.membership.save()
    check.status = CheckStatus.VERIFIED
    check.save()
    result = isv_eligibility(org_a)
    assert result.eligible is True and result.failed == []


def test_an_approved_application_ends_eligibility(eligible):
    IsvSuccessApplicationFactory(organization=eligible, status=IsvStatus.APPROVED, app_name="Fabrikam Flow")
    assert _checks(eligible)["not_approved"] == (
        False,
        "“Fabrikam Flow” is already approved: the organization takes part in ISV Success.",
    )


# --- Drafts ----------------------------------------------------------------------------------------


def test_partner_admin_creates_and_updates_a_draft(org_a, partner_admin):
    application = isv_application_save(actor=partner_admin, organization=org_a, data=_data())
    assert application.status == IsvStatus.DRAFT and application.created_by == partner_admin
    assert application.app_name == "Contoso Insights"
    created = AuditEvent.objects.get(action="membership.isv.created")
    assert created.changes["expected_release_date"] == _data()["expected_release_date"].isoformat()

    updated = isv_application_save(
        actor=partner_admin,
        organization=org_a,
        application=application,
        data={"is_published": True, "marketplace_offer_id": "contoso.insights"},
    )
    assert updated.is_published is True and updated.marketplace_offer_id == "contoso.insights"
    assert updated.app_name == "Contoso Insights"  # fields not given keep their value
    event = AuditEvent.objects.get(action="membership.isv.updated")
    assert event.changes == {"is_published": [False, True], "marketplace_offer_id": ["", "contoso.insights"]}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"app_name": "  ", "app_description": "", "designation": ""},
            {
                "app_name": ["This field is required."],
                "app_description": ["This field is required."],
                "designation": ["Choose the target solution area."],
            },
        ),
        ({"designation": "Gardening"}, {"designation": ["'Gardening' is not a solution area."]}),
        (
            {"expected_release_date": None},
            {"expected_release_date": ["An app in development needs its expected release date."]},
        ),
        (
            {"expected_release_date": date(2020, 1, 1)},
            {
                "expected_release_date": [
                    "The expected release date 2020-01-01 is in the past; "
                    "update it, or mark the app as published."
                ]
            },
        ),
        (
            {"expected_release_date": "next spring"},
            {"expected_release_date": ["'next spring' is not a date (YYYY-MM-DD)."]},
        ),
        (
            {"is_published": True, "marketplace_offer_id": " "},
            {"marketplace_offer_id": ["A published app needs its marketplace offer ID."]},
        ),
        ({"is_published": "maybe"}, {"is_published": ["'maybe' is not yes or no."]}),
        (
            {"app_name": "x" * 121},
            {"app_name": ["Ensure this value has at most 120 characters (it has 121)."]},
        ),
        ({"price": 10}, {"__all__": ["Unknown application fields: price."]}),
    ],
)
def test_bad_drafts_are_refused_and_nothing_is_written(org_a, alice, overrides, errors):
    with pytest.raises(ValidationError) as excinfo:
        isv_application_save(actor=alice, organization=org_a, data=_data(**overrides))
    assert excinfo.value.message_dict == errors
    assert not IsvSuccessApplication.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="membership.isv").exists()


def test_published_apps_need_no_release_date_and_strings_are_parsed(org_a, alice):
    application = isv_application_save(
        actor=alice,
        organization=org_a,
        data=_data(is_published="on", marketplace_offer_id="contoso.insights", expected_release_date=""),
    )
    assert application.is_published is True and application.expected_release_date is None
    application.delete()
    application = isv_application_save(
        actor=alice, organization=org_a, data=_data(expected_release_date="2099-01-31", is_published="false")
    )
    assert application.expected_release_date == date(2099, 1, 31) and application.is_published is False


def test_one_live_application_per_organization(org_a, alice):
    first = isv_application_save(actor=alice, organization=org_a, data=_data())
    with pytest.raises(ValidationError) as excinfo:
        isv_application_save(actor=alice, organization=org_a, data=_data(app_name="Second app"))
    assert excinfo.value.messages == [
        "The organization already has an ISV Success application: “Contoso Insights” (draft). "
        "Edit that one instead."
    ]
    assert IsvSuccessApplication.objects.count() == 1
    # A rejected application no longer counts.
    first.status = IsvStatus.REJECTED
    first.save()
    second = isv_application_save(actor=alice, organization=org_a, data=_data(app_name="Second app"))
    assert second.status == IsvStatus.DRAFT


def test_a_concurrent_insert_becomes_a_clear_error(org_a, alice, monkeypatch):
    IsvSuccessApplicationFactory(organization=org_a, app_name="Already there")
    # Another request inserted its application after this one looked: the constraint answers.
    monkeypatch.setattr(isv, "_live_conflict", lambda organization, exclude_pk: None)
    with pytest.raises(ValidationError) as excinfo:
        isv_application_save(actor=alice, organization=org_a, data=_data())
    assert excinfo.value.messages == [
        "The organization already has an ISV Success application: “Already there” (draft). "
        "Edit that one instead."
    ]
    assert IsvSuccessApplication.objects.count() == 1
    assert not AuditEvent.objects.filter(action="membership.isv.created").exists()


def test_only_drafts_of_the_own_organization_are_edited(org_a, org_b, alice, charlie):
    submitted = IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.SUBMITTED)
    with pytest.raises(ValidationError) as excinfo:
        isv_application_save(actor=alice, organization=org_a, application=submitted, data={"app_name": "New"})
    assert excinfo.value.message_dict == {
        "status": ["Only a draft can be edited; this application is submitted."]
    }
    with pytest.raises(PermissionDenied):
        isv_application_save(
            actor=charlie, organization=org_b, application=submitted, data={"app_name": "New"}
        )
    submitted.refresh_from_db()
    assert submitted.app_name != "New"


def test_drafts_need_membership_manage(org_a, bob, verified_client):
    """The page checks MEMBERSHIP_MANAGE (the service does not)."""
    response = verified_client(bob).post(reverse("membership:isv-application"), _data())
    assert response.status_code == 403
    assert not IsvSuccessApplication.objects.exists()


# --- Submission ------------------------------------------------------------------------------------


def test_submit_needs_the_agreement(eligible, alice):
    application = isv_application_save(actor=alice, organization=eligible, data=_data())
    with pytest.raises(ValidationError) as excinfo:
        isv_application_submit(actor=alice, application=application, accept_agreement=False)
    assert excinfo.value.message_dict == {
        "accept_agreement": ["Accept the ISV Success program agreement to submit the application."]
    }
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT and application.agreement_accepted_at is None


def test_submit_needs_eligibility(org_a, alice):
    _make_eligible(org_a, status=CheckStatus.ACTION_REQUIRED)
    application = isv_application_save(actor=alice, organization=org_a, data=_data())
    with pytest.raises(ValidationError) as excinfo:
        isv_application_submit(actor=alice, application=application, accept_agreement=True)
    assert excinfo.value.messages == [
        "Verified AI Cloud Partner Program account: Account verification is action required; "
        "it must be verified."
    ]
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT


def test_submit_rechecks_a_release_date_that_has_passed(eligible, alice):
    application = IsvSuccessApplicationFactory(
        organization=eligible, expected_release_date=timezone.localdate() - timedelta(days=1)
    )
    with pytest.raises(ValidationError) as excinfo:
        isv_application_submit(actor=alice, application=application, accept_agreement=True)
    assert "is in the past" in excinfo.value.message_dict["expected_release_date"][0]
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT


def test_submit_moves_the_draft_and_tells_the_webhooks(eligible, alice):
    endpoint = WebhookEndpointFactory(organization=eligible, events=[ISV_STATUS_CHANGED])
    application = _submitted(eligible, alice)
    assert application.status == IsvStatus.SUBMITTED
    assert application.submitted_at is not None and application.agreement_accepted_at is not None
    event = AuditEvent.objects.get(action="membership.isv.submitted")
    assert event.changes == {"status": ["draft", "submitted"]}
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.payload["data"]["status"] == "submitted"
    assert delivery.payload["data"]["fromStatus"] == "draft"

    with pytest.raises(ValidationError) as excinfo:
        isv_application_submit(actor=alice, application=application, accept_agreement=True)
    assert excinfo.value.message_dict == {
        "status": [
            "An application that is submitted cannot become submitted; "
            "allowed: approved, in review, rejected."
        ]
    }


def test_submit_needs_membership_manage(eligible, alice, verified_client):
    application = isv_application_save(actor=alice, organization=eligible, data=_data())
    viewer = UserFactory(organization=eligible, roles=[Role.BUSINESS_PROFILE_CONTRIBUTOR])
    response = verified_client(viewer).post(reverse("membership:isv-submit"), {"accept_agreement": "on"})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == IsvStatus.DRAFT


# --- Review ----------------------------------------------------------------------------------------


def test_review_to_approval_grants_the_isv_success_package(eligible, alice, reviewer):
    application = _submitted(eligible, alice)
    application = isv_application_review(
        actor=reviewer, application=application, to_status=IsvStatus.IN_REVIEW
    )
    assert application.status == IsvStatus.IN_REVIEW and application.reviewed_by == reviewer
    application = isv_application_review(
        actor=reviewer, application=application, to_status=IsvStatus.APPROVED, note="Welcome aboard."
    )
    application.refresh_from_db()
    assert application.status == IsvStatus.APPROVED and application.review_note == "Welcome aboard."
    package = BenefitPackage.objects.get(organization=eligible)
    assert (package.code, package.source, package.start) == (
        "isv_success",
        PackageSource.ISV_SUCCESS,
        timezone.localdate(),
    )
    assert package.benefits.count() == BenefitTemplate.objects.filter(package_code="isv_success").count()
    assert list(
        AuditEvent.objects.filter(action__startswith="membership.isv.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "membership.isv.created",
        "membership.isv.submitted",
        "membership.isv.in_review",
        "membership.isv.approved",
    ]
    assert [event.to_status for event in history_for(application)] == [
        "draft",
        "submitted",
        "in_review",
        "approved",
    ]
    assert isv_eligibility(eligible).eligible is False


def test_only_vendor_staff_review(eligible, alice):
    application = _submitted(eligible, alice)
    with pytest.raises(PermissionDenied):
        isv_application_review(actor=alice, application=application, to_status=IsvStatus.APPROVED)
    application.refresh_from_db()
    assert application.status == IsvStatus.SUBMITTED and not BenefitPackage.objects.exists()


@pytest.mark.parametrize(
    ("to_status", "note", "errors"),
    [
        ("rejected", "  ", {"note": ["Say why the application is rejected: the partner reads the note."]}),
        ("accepted", "", {"to_status": ["Unknown status 'accepted'."]}),
        ("draft", "", {"to_status": ["A review moves an application to in review, approved or rejected."]}),
    ],
)
def test_bad_reviews_are_refused(eligible, alice, reviewer, to_status, note, errors):
    application = _submitted(eligible, alice)
    with pytest.raises(ValidationError) as excinfo:
        isv_application_review(actor=reviewer, application=application, to_status=to_status, note=note)
    assert excinfo.value.message_dict == errors
    application.refresh_from_db()
    assert application.status == IsvStatus.SUBMITTED and application.reviewed_by is None


def test_a_draft_cannot_be_approved(org_a, reviewer):
    application = IsvSuccessApplicationFactory(organization=org_a)
    with pytest.raises(ValidationError) as excinfo:
        isv_application_review(actor=reviewer, application=application, to_status=IsvStatus.APPROVED)
    assert excinfo.value.message_dict == {
        "status": ["An application that is draft cannot become approved; allowed: submitted."]
    }
    assert not BenefitPackage.objects.exists()


def test_an_approval_that_cannot_grant_the_package_changes_nothing(eligible, alice, reviewer):
    application = _submitted(eligible, alice)
    BenefitTemplate.objects.filter(package_code="isv_success").delete()
    with pytest.raises(ValidationError) as excinfo:
        isv_application_review(actor=reviewer, application=application, to_status=IsvStatus.APPROVED)
    assert excinfo.value.message_dict == {"code": ["The benefit catalogue has no package 'isv_success'."]}
    application.refresh_from_db()
    assert application.status == IsvStatus.SUBMITTED and application.reviewed_at is None
    assert not AuditEvent.objects.filter(action="membership.isv.approved").exists()


# --- Rejection and reopening -----------------------------------------------------------------------


def test_rejected_application_is_reopened_as_draft(eligible, alice, reviewer):
    application = _submitted(eligible, alice)
    application = isv_application_review(
        actor=reviewer, application=application, to_status=IsvStatus.REJECTED, note="The app is not B2B."
    )
    assert application.status == IsvStatus.REJECTED and application.review_note == "The app is not B2B."
    reopened = isv_application_reopen(actor=alice, application=application)
    reopened.refresh_from_db()
    assert reopened.status == IsvStatus.DRAFT
    assert reopened.agreement_accepted_at is None and reopened.submitted_at is None
    assert AuditEvent.objects.filter(action="membership.isv.reopened").count() == 1
    # …and can be corrected and submitted again.
    isv_application_save(
        actor=alice, organization=eligible, application=reopened, data={"app_name": "Contoso B2B"}
    )
    assert (
        isv_application_submit(actor=alice, application=reopened, accept_agreement=True).status == "submitted"
    )


def test_reopen_refuses_when_another_application_is_live(org_a, alice):
    rejected = IsvSuccessApplicationFactory(organization=org_a, status=IsvStatus.REJECTED, review_note="No.")
    IsvSuccessApplicationFactory(organization=org_a, app_name="Newer app")
    with pytest.raises(ValidationError) as excinfo:
        isv_application_reopen(actor=alice, application=rejected)
    assert excinfo.value.messages == [
        "The organization already has an ISV Success application: “Newer app” (draft). Edit that one instead."
    ]
    rejected.refresh_from_db()
    assert rejected.status == IsvStatus.REJECTED


def test_only_rejected_applications_are_reopened_by_their_managers(org_a, alice, bob, verified_client):
    draft = IsvSuccessApplicationFactory(organization=org_a)
    with pytest.raises(ValidationError, match="cannot become draft"):
        isv_application_reopen(actor=alice, application=draft)
    draft.status = IsvStatus.REJECTED
    draft.save()
    refused = verified_client(bob).post(reverse("membership:isv"), {"action": "reopen"})
    assert refused.status_code == 403
    draft.refresh_from_db()
    assert draft.status == IsvStatus.REJECTED


def test_the_decision_reaches_the_partner_in_the_action_center(eligible, alice, reviewer):
    def items():
        return list(
            ActionItem.objects.filter(organization=eligible, code=ActionItemCode.ISV_APPLICATION_DECIDED)
            .order_by("id")
            .values_list("title", "body", "status", "target_url")
        )

    application = _submitted(eligible, alice)
    isv_application_review(actor=reviewer, application=application, to_status=IsvStatus.IN_REVIEW)
    assert items() == []
    rejected = isv_application_review(
        actor=reviewer, application=application, to_status=IsvStatus.REJECTED, note="The app is not B2B."
    )
    assert items() == [
        (
            f"ISV Success application for {application.app_name} was rejected",
            "The app is not B2B.",
            ActionItemStatus.OPEN,
            "/membership/isv-success/",
        )
    ]
    reopened = isv_application_reopen(actor=alice, application=rejected)
    assert [status for _, _, status, _ in items()] == [ActionItemStatus.RESOLVED]

    isv_application_submit(actor=alice, application=reopened, accept_agreement=True)
    isv_application_review(actor=reviewer, application=reopened, to_status=IsvStatus.APPROVED)
    assert items()[-1] == (
        f"ISV Success approved for {application.app_name}: activate your benefits",
        "",
        ActionItemStatus.OPEN,
        "/membership/benefits/",
    )
