"""The security API: Graph-shaped answers, ISO 8601 durations both ways, the GDAP lifecycle and
access assignments, DAP read/remove only, alerts, verification uploads with their assessment,
trainings, and problem+json refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.roles import Role
from security.api.common import format_iso_duration, parse_iso_duration
from security.choices import AlertStatus, CheckKind, CheckStatus, GdapStatus, Program
from security.models import (
    DapRelationship,
    GdapAccessAssignment,
    GdapRelationship,
    TrainingCourse,
    VerificationDocument,
)
from security.services.gdap import gdap_customer_approve
from security.verification.assist.facts import ProfileFacts
from security.verification.samples.documents import sample_document
from tests.factories import (
    CustomerFactory,
    CustomerMfaStatFactory,
    DapRelationshipFactory,
    GdapRelationshipFactory,
    ProgramEnrollmentFactory,
    SecurityAlertFactory,
    SecurityScoreSnapshotFactory,
    TrainingAssignmentFactory,
    UserFactory,
    VerificationCheckFactory,
    active_gdap_relationship,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/security"
PROBLEM = "application/problem+json"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
USER_ADMIN = "fe930be7-5e62-47db-91af-98c3a49a38b1"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
SCOPES = ("security:read", "security:write")


@pytest.fixture
def api(org_a, api_for):
    return api_for(org_a, scopes=SCOPES, roles=(Role.GLOBAL_ADMIN, Role.ADMIN_AGENT))


@pytest.fixture
def reader(org_a, api_for):
    return api_for(org_a, scopes=("security:read",), roles=(Role.ACCOUNT_ADMIN,))


def roles_of(body) -> set[str]:
    return {role["roleDefinitionId"] for role in body["accessDetails"]["unifiedRoles"]}


def assert_problem(response, status: int = 400):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    return response.json()


# --- Durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [("P730D", 730), ("P2Y", 730), ("P180D", 180), ("PT0S", 0), ("P0D", 0), ("P26W", 182), ("p90d", 90)],
)
def test_iso_durations_parse(text, days):
    assert parse_iso_duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "P", "PT", "730", "P1M", "P-1D", "P1.5D", "PXD", "P1DT"])
def test_bad_iso_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_iso_duration(text)


def test_iso_durations_format_as_graph_writes_them():
    assert format_iso_duration(timedelta(days=730)) == "P730D"
    assert format_iso_duration(timedelta(0)) == "PT0S"
    assert format_iso_duration(timedelta(days=1, hours=12)) == "P1DT12H"
    assert format_iso_duration(timedelta(minutes=5)) == "PT5M"


# --- Score and MFA ---------------------------------------------------------------------------------


def test_score_has_the_graph_shape_and_the_history(api, org_a):
    SecurityScoreSnapshotFactory(
        organization=org_a, taken_on=timezone.localdate() - timedelta(days=2), score=70
    )
    SecurityScoreSnapshotFactory(
        organization=org_a, taken_on=timezone.localdate() - timedelta(days=1), score=75
    )
    body = api.get(f"{BASE}/score/").json()
    assert 0 <= body["securityScore"] <= 100
    assert isinstance(body["authorizationOk"], bool)
    types = {row["requirementType"] for row in body["requirements"]}
    assert {"mfaEnforcedForAdmins", "securityContactProvided", "securityAlertsPromptlyResolved"} <= types
    for row in body["requirements"]:
        assert {"id", "complianceStatus", "score", "maxScore", "state", "kind", "mandatory"} <= set(row)
    assert body["mandatoryRequirementsCount"] >= 2
    assert [point["score"] for point in body["history"]] == [70, 75]
    listed = api.get(f"{BASE}/requirements/").json()["value"]
    assert {row["requirementType"] for row in listed} == types


def test_mfa_users_list_people_without_mfa_first_and_filters(api, org_a, alice):
    bob = UserFactory(organization=org_a, email="bob@alpha.example", roles=[Role.INCENTIVES_USER])
    from tests.conftest import confirm_totp  # noqa: PLC0415

    confirm_totp(alice)
    body = api.get(f"{BASE}/mfa/users/").json()
    emails = [row["userPrincipalName"] for row in body["value"]]
    assert emails.index(bob.email) < emails.index(alice.email)
    alice_row = next(row for row in body["value"] if row["userPrincipalName"] == alice.email)
    assert alice_row["isAdmin"] is True and alice_row["isMfaRegistered"] is True
    assert "authenticator_app" in alice_row["methodsRegistered"]
    assert body["coverage"]["usersTotal"] >= 2

    unregistered = api.get(f"{BASE}/mfa/users/", {"registered": "false"}).json()["value"]
    assert bob.email in [row["userPrincipalName"] for row in unregistered]
    assert alice.email not in [row["userPrincipalName"] for row in unregistered]
    admins = api.get(f"{BASE}/mfa/users/", {"admin": "true"}).json()["value"]
    assert [row["userPrincipalName"] for row in admins] == [alice.email]
    others = api.get(f"{BASE}/mfa/users/", {"admin": "false", "search": "bob"}).json()["value"]
    assert [row["userPrincipalName"] for row in others] == [bob.email]
    assert_problem(api.get(f"{BASE}/mfa/users/", {"mechanism": "telepathy"}))


def test_customer_mfa_is_listed_and_upserted_by_tenant_id(api, org_a, org_b):
    customer = CustomerFactory(organization=org_a)
    stat = CustomerMfaStatFactory(organization=org_a, admins_with_mfa=2, admins_total=3)
    rows = api.get(f"{BASE}/mfa/customers/").json()["results"]
    assert rows[0]["customer"]["tenantId"] == str(stat.customer.tenant_id)
    assert rows[0]["isCompliant"] is False and rows[0]["adminMfaPercent"] == 66.7

    figures = {"adminsWithMfa": 4, "adminsTotal": 4, "nonAdminsWithMfa": 30, "usersTotal": 50}
    made = api.post(f"{BASE}/mfa/customers/", {"customerTenantId": str(customer.tenant_id), **figures})
    assert made.status_code == 201, made.content
    assert made.json()["isCompliant"] is True
    again = api.post(
        f"{BASE}/mfa/customers/", {"customerTenantId": str(customer.tenant_id), **figures, "usersTotal": 60}
    )
    assert again.status_code == 200 and again.json()["usersTotal"] == 60

    put = api.put(f"{BASE}/mfa/customers/{stat.customer.tenant_id}/", {**figures, "adminsWithMfa": 1})
    assert put.status_code == 200 and put.json()["adminsWithMfa"] == 1
    assert api.get(f"{BASE}/mfa/customers/{stat.customer.tenant_id}/").json()["adminsWithMfa"] == 1

    problem = assert_problem(
        api.post(
            f"{BASE}/mfa/customers/",
            {**figures, "customerTenantId": str(customer.tenant_id), "adminsWithMfa": 9},
        )
    )
    assert "adminsWithMfa" in problem["errors"]
    theirs = CustomerFactory(organization=org_b)
    problem = assert_problem(
        api.post(f"{BASE}/mfa/customers/", {"customerTenantId": str(theirs.tenant_id), **figures})
    )
    assert "customerTenantId" in problem["errors"]
    assert_problem(api.put(f"{BASE}/mfa/customers/{theirs.tenant_id}/", figures), 404)


# --- GDAP ---------------------------------------------------------------------------------------


def test_gdap_relationship_lifecycle_through_the_api(api, org_a):
    customer = CustomerFactory(organization=org_a, name="Contoso")
    created = api.post(
        f"{BASE}/gdap/relationships/",
        {
            "displayName": "Contoso-Default-2025",
            "customer": {"tenantId": str(customer.tenant_id)},
            "duration": "P730D",
            "accessDetails": {
                "unifiedRoles": [{"roleDefinitionId": HELPDESK}, {"roleDefinitionId": READERS}]
            },
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == GdapStatus.CREATED
    assert body["duration"] == "P730D" and body["autoExtendDuration"] == "PT0S"
    assert body["customer"] == {"tenantId": str(customer.tenant_id), "displayName": "Contoso"}
    assert roles_of(body) == {HELPDESK, READERS}
    url = f"{BASE}/gdap/relationships/{body['id']}/"

    patched = api.patch(
        url,
        {
            "duration": "P2Y",
            "autoExtendDuration": "P180D",
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": HELPDESK}]},
        },
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["duration"] == "P730D" and patched.json()["autoExtendDuration"] == "P180D"
    assert roles_of(patched.json()) == {HELPDESK}

    locked = api.post(f"{url}lockForApproval/")
    assert locked.status_code == 200, locked.content
    assert locked.json()["status"] == GdapStatus.APPROVAL_PENDING
    assert locked.json()["invitationLink"].startswith("http")
    assert "displayName" in assert_problem(api.patch(url, {"displayName": "Renamed"}))["errors"]

    relationship = GdapRelationship.objects.get(relationship_id=body["id"])
    gdap_customer_approve(
        relationship=relationship, approver_name="Ada", approver_email="ada@contoso.example"
    )
    active = api.get(url).json()
    assert active["status"] == GdapStatus.ACTIVE and active["activatedDateTime"] and active["endDateTime"]

    off = api.post(f"{url}autoExtend/", {"enabled": False})
    assert off.status_code == 200 and off.json()["autoExtendDuration"] == "PT0S"

    history = api.get(f"{url}history/").json()["value"]
    assert history[0]["status"] == GdapStatus.CREATED
    assert history[-1]["status"] == GdapStatus.ACTIVE

    renewed = api.post(f"{url}renew/")
    assert renewed.status_code == 201, renewed.content
    assert renewed.json()["status"] == GdapStatus.CREATED and renewed.json()["id"] != body["id"]

    ended = api.post(f"{url}terminate/")
    assert ended.status_code == 200, ended.content
    assert ended.json()["status"] == GdapStatus.TERMINATED


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("duration", "P731D", "P730D"),
        ("duration", "PT12H", "P1D"),
        ("duration", "P6M", "Months"),
        ("duration", "two years", "ISO 8601"),
        ("duration", 730, "ISO 8601"),
        ("autoExtendDuration", "P90D", "P180D"),
    ],
)
def test_bad_durations_are_clear_400s(api, org_a, field, value, words):
    customer = CustomerFactory(organization=org_a)
    document = {
        "displayName": "Bad duration",
        "customer": {"tenantId": str(customer.tenant_id)},
        "duration": "P730D",
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": HELPDESK}]},
        field: value,
    }
    problem = assert_problem(api.post(f"{BASE}/gdap/relationships/", document, format="json"))
    assert words in " ".join(problem["errors"][field])
    assert not GdapRelationship.objects.filter(display_name="Bad duration").exists()


def test_gdap_refusals_name_the_field(api, org_a, org_b):
    customer = CustomerFactory(organization=org_a)
    base = {
        "displayName": "With GA",
        "customer": {"tenantId": str(customer.tenant_id)},
        "duration": "P730D",
        "autoExtendDuration": "P180D",
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": GLOBAL_ADMIN}]},
    }
    # Relationships with Global Administrator cannot auto-extend (spec §3.1).
    problem = assert_problem(api.post(f"{BASE}/gdap/relationships/", base, format="json"))
    assert problem["errors"]
    problem = assert_problem(
        api.post(f"{BASE}/gdap/relationships/", {**base, "displayName": "x" * 51}, format="json")
    )
    assert "displayName" in problem["errors"]
    problem = assert_problem(
        api.post(
            f"{BASE}/gdap/relationships/",
            {
                **base,
                "autoExtendDuration": "PT0S",
                "customer": {"tenantId": str(CustomerFactory(organization=org_b).tenant_id)},
            },
            format="json",
        )
    )
    assert "customer" in problem["errors"]
    problem = assert_problem(
        api.post(
            f"{BASE}/gdap/relationships/", {**base, "accessDetails": {"unifiedRoles": []}}, format="json"
        )
    )
    assert "accessDetails" in problem["errors"]


def test_reader_cannot_change_gdap(reader, org_a):
    relationship = GdapRelationshipFactory(organization=org_a)
    assert reader.get(f"{BASE}/gdap/relationships/").status_code == 200
    assert_problem(
        reader.post(f"{BASE}/gdap/relationships/{relationship.relationship_id}/lockForApproval/"), 403
    )


def test_access_assignments_nested_crud(api, org_a, org_b):
    relationship = active_gdap_relationship(org_a, roles=[HELPDESK, READERS])
    base = f"{BASE}/gdap/relationships/{relationship.relationship_id}/accessAssignments/"
    group = "2d7a9c4e-1b3f-4e5a-8c6d-9f0e1a2b3c4d"
    made = api.post(
        base,
        {
            "accessContainer": {
                "accessContainerId": group,
                "accessContainerType": "securityGroup",
                "displayName": "Helpdesk-L1",
            },
            "accessDetails": {
                "unifiedRoles": [{"roleDefinitionId": HELPDESK}, {"roleDefinitionId": READERS}]
            },
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["accessContainer"] == {
        "accessContainerId": group,
        "accessContainerType": "securityGroup",
        "displayName": "Helpdesk-L1",
    }
    assert roles_of(body) == {HELPDESK, READERS}
    assert [row["id"] for row in api.get(base).json()["results"]] == [body["id"]]

    patched = api.patch(
        f"{base}{body['id']}/",
        {"accessDetails": {"unifiedRoles": [{"roleDefinitionId": READERS}]}},
        format="json",
    )
    assert patched.status_code == 200 and roles_of(patched.json()) == {READERS}
    # Only the relationship's own roles can be assigned.
    problem = assert_problem(
        api.patch(
            f"{base}{body['id']}/",
            {"accessDetails": {"unifiedRoles": [{"roleDefinitionId": USER_ADMIN}]}},
            format="json",
        )
    )
    assert "accessDetails" in problem["errors"]
    deleted = api.delete(f"{base}{body['id']}/")
    assert deleted.status_code == 200 and deleted.json()["status"] in ("deleted", "deleting")

    theirs = active_gdap_relationship(org_b)
    assert_problem(api.get(f"{BASE}/gdap/relationships/{theirs.relationship_id}/accessAssignments/"), 404)
    assert_problem(
        api.post(f"{BASE}/gdap/relationships/{theirs.relationship_id}/accessAssignments/", {}), 404
    )
    assert not GdapAccessAssignment.objects.filter(relationship=theirs).exists()


# --- DAP: read and remove only -------------------------------------------------------------------


def test_dap_can_be_read_and_removed_but_never_created(api, org_a):
    dap = DapRelationshipFactory(organization=org_a)
    rows = api.get(f"{BASE}/dap/").json()["results"]
    assert [row["id"] for row in rows] == [dap.pk]
    assert rows[0]["isInactive"] is True

    customer = CustomerFactory(organization=org_a)
    document = {
        "customer": {"tenantId": str(customer.tenant_id)},
        "establishedDateTime": "2021-01-01T00:00:00Z",
    }
    assert_problem(api.post(f"{BASE}/dap/", document, format="json"), 405)
    assert_problem(api.put(f"{BASE}/dap/{dap.pk}/", document, format="json"), 405)
    assert_problem(api.patch(f"{BASE}/dap/{dap.pk}/", document, format="json"), 405)
    assert DapRelationship.objects.count() == 1

    assert api.delete(f"{BASE}/dap/{dap.pk}/").status_code == 204
    dap.refresh_from_db()
    assert dap.removed_at is not None
    assert api.get(f"{BASE}/dap/{dap.pk}/").json()["removedDateTime"]
    assert_problem(api.delete(f"{BASE}/dap/{dap.pk}/"))
    assert [row["id"] for row in api.get(f"{BASE}/dap/", {"removed": "false"}).json()["results"]] == []


# --- Alerts ---------------------------------------------------------------------------------------


def test_alerts_list_filter_and_respond(api, org_a):
    alert = SecurityAlertFactory(organization=org_a, created_at=timezone.now() - timedelta(hours=5))
    SecurityAlertFactory(organization=org_a, alert_type="malware")
    assert len(api.get(f"{BASE}/alerts/", {"alertType": "malware"}).json()["results"]) == 1

    problem = assert_problem(
        api.post(f"{BASE}/alerts/{alert.pk}/respond/", {"status": "resolved", "note": ""})
    )
    assert "note" in problem["errors"]
    answered = api.post(
        f"{BASE}/alerts/{alert.pk}/respond/", {"status": "resolved", "note": "Reset the password."}
    )
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert body["status"] == AlertStatus.RESOLVED and body["responseNote"] == "Reset the password."
    assert 4.9 <= body["responseTimeInHours"] <= 5.5
    assert_problem(api.post(f"{BASE}/alerts/{alert.pk}/respond/", {"status": "dismissed", "note": "again"}))
    assert len(api.get(f"{BASE}/alerts/", {"status": "active"}).json()["results"]) == 1


# --- Verification ----------------------------------------------------------------------------------


def _profile(org) -> ProfileFacts:
    return ProfileFacts.from_organization(org)


def test_enroll_and_read_the_checks(api, org_a):
    made = api.post(f"{BASE}/verification/enrollments/", {"program": Program.CSP_DIRECT_BILL})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["program"] == Program.CSP_DIRECT_BILL
    assert {check["kind"] for check in body["checks"]} >= {CheckKind.EMAIL, CheckKind.BUSINESS}
    assert body["verificationStatus"] != CheckStatus.VERIFIED
    assert (
        "program"
        in assert_problem(
            api.post(f"{BASE}/verification/enrollments/", {"program": Program.CSP_DIRECT_BILL})
        )["errors"]
    )
    checks = api.get(f"{BASE}/verification/checks/", {"program": Program.CSP_DIRECT_BILL}).json()["results"]
    assert len(checks) == len(body["checks"])


def test_document_upload_answers_the_assessment(api, org_a):
    check = VerificationCheckFactory(
        organization=org_a, kind=CheckKind.BUSINESS, status=CheckStatus.ACTION_REQUIRED
    )
    sample = sample_document(
        "good", profile=_profile(org_a), today=timezone.localdate(), seed=1, check_kind=CheckKind.BUSINESS
    )
    response = api.post(
        f"{BASE}/verification/documents/",
        {
            "checkId": check.pk,
            "docType": sample.declared_type,
            "file": SimpleUploadedFile(f"extract.{sample.file_type}", sample.data),
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["check"] == CheckKind.BUSINESS and body["checkId"] == check.pk
    assert isinstance(body["score"], int) and body["band"] in ("likely", "needs_review", "unlikely")
    assert body["findings"] and {"code", "severity", "detail", "points"} <= set(body["findings"][0])
    check.refresh_from_db()
    assert check.status == CheckStatus.DOCUMENTS_SUBMITTED
    assert api.get(f"{BASE}/verification/documents/{body['id']}/").json()["score"] == body["score"]
    # The same upload with the same Idempotency-Key answers the first result; nothing is stored twice.
    replay = api.post(
        f"{BASE}/verification/documents/",
        {
            "checkId": check.pk,
            "docType": sample.declared_type,
            "file": SimpleUploadedFile(f"extract.{sample.file_type}", sample.data),
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == body["id"]
    assert VerificationDocument.objects.filter(check_ref=check).count() == 1


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.pdf", b"", "empty"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 200, "xecutable"),
        ("notes.txt", b"just some text, not a document", "PDF"),
    ],
)
def test_refused_files_are_problem_400s_with_the_reason(api, org_a, name, data, words):
    check = VerificationCheckFactory(organization=org_a, status=CheckStatus.ACTION_REQUIRED)
    response = api.post(
        f"{BASE}/verification/documents/",
        {"checkId": check.pk, "docType": "registration_extract", "file": SimpleUploadedFile(name, data)},
        format="multipart",
    )
    problem = assert_problem(response)
    message = problem.get("detail", "") + " ".join(sum(problem.get("errors", {}).values(), []))
    assert words.lower() in message.lower(), problem
    assert not VerificationDocument.objects.filter(check_ref=check).exists()


def test_upload_to_another_organizations_check_is_refused(api, org_b):
    check = VerificationCheckFactory(organization=org_b, status=CheckStatus.ACTION_REQUIRED)
    response = api.post(
        f"{BASE}/verification/documents/",
        {
            "checkId": check.pk,
            "docType": "registration_extract",
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4"),
        },
        format="multipart",
    )
    assert "checkId" in assert_problem(response)["errors"]


def test_appeal_a_rejected_check(api, org_a):
    check = VerificationCheckFactory(organization=org_a, status=CheckStatus.REJECTED)
    answered = api.post(
        f"{BASE}/verification/checks/{check.pk}/appeal/", {"note": "The register was updated."}
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == CheckStatus.APPEAL_SUBMITTED and answered.json()["appealsLeft"] == 2
    history = api.get(f"{BASE}/verification/checks/{check.pk}/history/").json()["value"]
    assert history[-1]["status"] == CheckStatus.APPEAL_SUBMITTED
    assert_problem(api.post(f"{BASE}/verification/checks/{check.pk}/appeal/", {"note": "again"}))


# --- Training -----------------------------------------------------------------------------------


def test_trainings_assign_complete_cancel(api, org_a, alice):
    made = api.post(
        f"{BASE}/trainings/",
        {
            "courseCode": TrainingCourse.objects.order_by("code").first().code,
            "userId": alice.pk,
            "dueDate": str(timezone.localdate() + timedelta(days=10)),
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "assigned" and body["userPrincipalName"] == alice.email
    done = api.post(f"{BASE}/trainings/{body['id']}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert_problem(api.post(f"{BASE}/trainings/{body['id']}/cancel/"))
    assert (
        "courseCode"
        in assert_problem(
            api.post(
                f"{BASE}/trainings/", {"courseCode": "nope", "userId": alice.pk, "dueDate": "2099-01-01"}
            )
        )["errors"]
    )
    past = api.post(
        f"{BASE}/trainings/",
        {"courseCode": body["course"]["code"], "userId": alice.pk, "dueDate": "2020-01-01"},
    )
    assert "dueDate" in assert_problem(past)["errors"]
    other = TrainingAssignmentFactory(organization=org_a)
    canceled = api.post(f"{BASE}/trainings/{other.pk}/cancel/")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert {row["id"] for row in api.get(f"{BASE}/trainings/", {"status": "canceled"}).json()["results"]} == {
        other.pk
    }


# --- Scopes and capabilities ---------------------------------------------------------------------


def test_scopes_and_capabilities_are_enforced(org_a, api_for):
    no_scope = api_for(org_a, scopes=("accounts:read",), roles=(Role.GLOBAL_ADMIN,))
    assert_problem(no_scope.get(f"{BASE}/score/"), 403)
    read_only = api_for(org_a, scopes=("security:read",), roles=(Role.GLOBAL_ADMIN,))
    alert = SecurityAlertFactory(organization=org_a)
    assert_problem(
        read_only.post(f"{BASE}/alerts/{alert.pk}/respond/", {"status": "resolved", "note": "x"}), 403
    )
    helpdesk = api_for(org_a, scopes=SCOPES, roles=(Role.HELPDESK_AGENT,))
    assert_problem(helpdesk.get(f"{BASE}/alerts/"), 403)
    compliance = api_for(org_a, scopes=SCOPES, roles=(Role.COMPLIANCE_ADMIN,))
    ProgramEnrollmentFactory(organization=org_a)
    assert compliance.get(f"{BASE}/verification/enrollments/").status_code == 200
    assert_problem(compliance.get(f"{BASE}/gdap/relationships/"), 403)


def test_anonymous_callers_get_problem_401(client):
    response = client.get(f"{BASE}/score/")
    assert_problem(response, 401)


def test_fixed_dates_render_as_utc(api, org_a):
    dap = DapRelationshipFactory(organization=org_a, established_at=datetime(2021, 3, 1, 9, tzinfo=UTC))
    assert api.get(f"{BASE}/dap/{dap.pk}/").json()["establishedDateTime"] == "2021-03-01T09:00:00Z"
