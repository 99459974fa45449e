"""Home shows the security score and each program's verification status to the people who may see them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.roles import Role
from security.choices import CheckKind, CheckStatus, Program
from tests.factories import ProgramEnrollmentFactory, UserFactory, VerificationCheckFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_score_and_the_verification_status(org_a, alice, verified_client):
    enrollment = ProgramEnrollmentFactory(organization=org_a, program=Program.CSP_INDIRECT_RESELLER)
    VerificationCheckFactory(
        organization=org_a, enrollment=enrollment, kind=CheckKind.EMAIL, status=CheckStatus.VERIFIED
    )
    VerificationCheckFactory(
        organization=org_a,
        enrollment=enrollment,
        kind=CheckKind.EMPLOYMENT,
        status=CheckStatus.ACTION_REQUIRED,
    )
    page = verified_client(alice).get(reverse("home:index"))
    assert 0 <= page.context["security_score"].score <= 100
    assert b'data-testid="home-security-score"' in page.content
    assert [(e.program, status) for e, status in page.context["verifications"]] == [
        (Program.CSP_INDIRECT_RESELLER, CheckStatus.ACTION_REQUIRED)
    ]
    assert b"CSP indirect reseller" in page.content and b"Action required" in page.content


def test_people_without_security_or_account_view_see_neither(org_a, bob, verified_client):
    ProgramEnrollmentFactory(organization=org_a)
    page = verified_client(bob).get(reverse("home:index"))
    assert b'data-testid="home-security-score"' not in page.content
    assert "verifications" not in page.context


def test_a_compliance_admin_sees_verification_but_not_the_score(org_a, verified_client):
    compliance = UserFactory(organization=org_a, roles=[Role.COMPLIANCE_ADMIN])
    ProgramEnrollmentFactory(organization=org_a)
    page = verified_client(compliance).get(reverse("home:index"))
    assert b'data-testid="home-security-score"' not in page.content
    assert len(page.context["verifications"]) == 1
