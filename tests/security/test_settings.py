"""The partner tenant's security settings: security contact and MFA policies (spec/security.md §1–2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portal.models import AuditEvent
from security.models import SecuritySettings, UserMfaPolicy
from security.services.settings import security_settings_for, security_settings_update, user_mfa_policy_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_settings_are_created_once_with_everything_off(org_a):
    first = security_settings_for(org_a)
    again = security_settings_for(org_a)

    assert first.pk == again.pk
    assert (first.security_contact_email, first.security_defaults_enabled) == ("", False)
    assert first.has_security_contact is False


def test_update_records_each_changed_field_in_the_audit(org_a, alice):
    settings_row = security_settings_update(
        actor=alice,
        organization=org_a,
        security_contact_name="  Security Desk ",
        security_contact_email="Security@Alpha.example",
        security_contact_phone="+49 30 1234567",
        security_defaults_enabled=True,
        conditional_access_policy_count=2,
    )

    assert settings_row.security_contact_email == "security@alpha.example"
    assert settings_row.security_contact_name == "Security Desk"
    assert settings_row.updated_by == alice
    event = AuditEvent.objects.get(action="security.settings_updated")
    assert event.changes == {
        "security_contact_name": ["", "Security Desk"],
        "security_contact_email": ["", "security@alpha.example"],
        "security_contact_phone": ["", "+49 30 1234567"],
        "security_defaults_enabled": [False, True],
        "conditional_access_policy_count": [0, 2],
    }
    assert event.organization_id == org_a.pk


def test_an_update_that_changes_nothing_writes_no_audit_row(org_a, alice):
    security_settings_update(actor=alice, organization=org_a, security_contact_email="sec@alpha.example")

    security_settings_update(actor=alice, organization=org_a, security_contact_email="SEC@alpha.example")

    assert AuditEvent.objects.filter(action="security.settings_updated").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"security_contact_email": ""}, "security_contact_email", "A security contact email is required"),
        ({"security_contact_email": "not-an-email"}, "security_contact_email", "is not a valid email"),
        ({"security_contact_phone": "call me"}, "security_contact_phone", "Use digits"),
        ({"security_contact_name": "x" * 151}, "security_contact_name", "150 characters"),
        ({"security_defaults_enabled": "yes"}, "security_defaults_enabled", "true or false"),
        ({"conditional_access_policy_count": -1}, "conditional_access_policy_count", "whole number"),
        ({"updated_by": 5}, "updated_by", "cannot be changed"),
    ],
)
def test_update_refuses_bad_values_and_changes_nothing(org_a, alice, fields, field, message):
    security_settings_update(actor=alice, organization=org_a, security_contact_email="sec@alpha.example")

    with pytest.raises(ValidationError) as caught:
        security_settings_update(actor=alice, organization=org_a, **fields)

    assert message in caught.value.message_dict[field][0]
    assert SecuritySettings.objects.get(organization=org_a).security_contact_email == "sec@alpha.example"


def test_organizations_keep_their_own_settings(org_a, org_b, alice):
    security_settings_update(actor=alice, organization=org_a, security_contact_email="sec@alpha.example")

    assert security_settings_for(org_b).security_contact_email == ""


def test_user_mfa_policy_is_recorded_and_audited(org_a, alice, bob):
    policy = user_mfa_policy_set(actor=alice, user=bob, per_user_mfa_enabled=True, third_party_mfa=False)

    assert (policy.organization_id, policy.per_user_mfa_enabled, policy.third_party_mfa) == (
        org_a.pk,
        True,
        False,
    )
    event = AuditEvent.objects.get(action="security.user_mfa_policy_set")
    assert event.changes == {"user": bob.email, "per_user_mfa_enabled": [False, True]}

    user_mfa_policy_set(actor=alice, user=bob, per_user_mfa_enabled=True, third_party_mfa=False)
    assert AuditEvent.objects.filter(action="security.user_mfa_policy_set").count() == 1
    assert UserMfaPolicy.objects.filter(user=bob).count() == 1


def test_user_mfa_policy_is_for_people_of_a_partner_only(org_a, alice):
    service = UserFactory(organization=org_a, is_service_account=True)
    staff = UserFactory(organization=None, is_staff=True)

    for user in (service, staff):
        with pytest.raises(ValidationError) as caught:
            user_mfa_policy_set(actor=alice, user=user, per_user_mfa_enabled=True, third_party_mfa=False)
        assert "user" in caught.value.message_dict
    assert not UserMfaPolicy.objects.exists()
