"""The root URLconf: the one place that mounts every app's pages and API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.oauth import ApiClientRevokeTokenView, ApiClientTokenView
from home import views
from portal.admin_site import protect_admin_with_otp

protect_admin_with_otp(admin.site)

# Only the token endpoints of django-oauth-toolkit: its application, authorized-token, device,
# registration and OpenID pages are not mounted (API clients come from the API clients page).
oauth2_patterns = (
    [
        path("token/", ApiClientTokenView.as_view(), name="token"),
        path("revoke_token/", ApiClientRevokeTokenView.as_view(), name="revoke-token"),
    ],
    "oauth2_provider",
)

home_patterns = (
    [
        path("", views.index, name="index"),
        path("accounts/profile/", views.profile, name="profile"),
    ],
    "home",
)

#: Every app's API module ends with `urlpatterns`, mounted at /api/v1/<app>/<resource>/.
API_MODULES = {
    "accounts": "accounts.api",
    "portal": "portal.api_views",
    "commerce": "commerce.api",
    "earnings": "earnings.api",
    "incentives": "incentives.api",
    "cosell": "cosell.api",
    "security": "security.api",
    "membership": "membership.api",
}
#: The foundation's per-person resources, each at its own prefix (/api/v1/notifications/, …).
FOUNDATION_API_MODULES = {
    "notifications": "portal.notifications.api",
    "alert-rules": "portal.notifications.api_rules",
}
#: The vendor feeds (vendor clients only), mounted together at /api/v1/vendor/<feed>/.
VENDOR_API_MODULES = ("accounts.vendor_api", "commerce.vendor_api", "commerce.vendor_api_nce")
api_v1 = [
    path(f"{prefix}/", include(module))
    for prefix, module in {**API_MODULES, **FOUNDATION_API_MODULES}.items()
]
api_v1 += [path("vendor/", include(module)) for module in VENDOR_API_MODULES]

urlpatterns = [
    # The API first: it is the hot path, and resolving it need not walk the page routes.
    path("api/v1/", include(api_v1)),
    path("", include(home_patterns)),
    path("", include("accounts.urls")),
    path("", include("portal.urls")),
    path("history/", include("portal.history_urls")),
    path("incentives/", include("incentives.urls")),
    path("earnings/", include("earnings.urls")),
    path("membership/", include("membership.urls")),
    path("cosell/", include("cosell.urls")),
    path("security/", include("security.urls")),
    path("commerce/", include("commerce.urls")),
    path("admin/", admin.site.urls),
    path("o/", include(oauth2_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
