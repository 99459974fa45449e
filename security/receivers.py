"""Reactions of the Security app to other apps' signals."""

from django.dispatch import receiver

from accounts.signals import customers_created
from security.services.gdap import gdap_default_grant


@receiver(customers_created)
def grant_default_gdap_roles(sender, organization_id, customer_ids, actor=None, **kwargs):
    gdap_default_grant(organization_id=organization_id, customer_ids=customer_ids, actor=actor)
