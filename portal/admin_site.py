"""The Django admin demands a verified second factor, vendor-side staff included."""

from django.contrib.admin import AdminSite
from django_otp.admin import OTPAdminSite


def protect_admin_with_otp(site: AdminSite) -> None:
    # Swapping the class keeps every ModelAdmin registered on the default site; OTPAdminSite's
    # has_permission() then also requires request.user.is_verified().
    site.__class__ = OTPAdminSite
    site.site_header = "Partner Portal — vendor administration"
    site.site_title = "Partner Portal admin"
