import pytest
from django.core.management import call_command

from accounts.demo import ORGANIZATIONS
from accounts.models import Customer, Organization, User
from commerce.models import LegacySubscription

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_every_role_and_tops_up_with_scale(capsys):
    call_command("seed_demo", "--quiet")
    assert Organization.objects.count() == len(ORGANIZATIONS)
    fabrikam = Organization.objects.get(partner_global_id="4812345")
    roles = set(fabrikam.users.values_list("role_assignments__role", flat=True))
    assert "compliance_admin" in roles and "referrals_user" in roles
    first = Customer.objects.count()
    assert LegacySubscription.objects.exists()
    call_command("seed_demo", "--scale", "2", "--quiet")
    assert Customer.objects.count() == 2 * first
    call_command("seed_demo", "--if-empty")
    assert "Demo logins" in capsys.readouterr().out
    assert User.objects.filter(email="admin@vendor.example", is_staff=True).exists()
