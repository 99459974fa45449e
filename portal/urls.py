from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import router as accounts_router
from accounts.oauth import ApiClientRevokeTokenView, ApiClientTokenView
from commerce.api import router as commerce_router
from commerce.api_migrations import migration_urlpatterns as commerce_migration_urls
from earnings.api import router as earnings_router
from incentives.api import router as incentives_router
from portal import metrics, status, views
from portal.admin_site import protect_admin_with_otp
from portal.api_views import router as portal_router

protect_admin_with_otp(admin.site)

portal_patterns = (
    [
        path("status/", views.status_page, name="status"),
        path("status/health/", views.status_health, name="health"),
        # Readiness (database, Redis, a live Celery worker) and Prometheus metrics: both open routes
        # (middleware OPEN_ROUTES); /metrics checks its bearer token or a verified staff session itself.
        path("status/ready/", status.ready, name="ready"),
        path("metrics", metrics.metrics, name="metrics"),
        path("jobs/", views.JobListView.as_view(), name="job-list"),
        path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
        path("jobs/<int:pk>/progress/", views.JobProgressView.as_view(), name="job-progress"),
    ],
    "portal",
)

# Only the token endpoints of django-oauth-toolkit: its application, authorized-token, device,
# registration and OpenID pages are not mounted (API clients come from the API clients page).
oauth2_patterns = (
    [
        path("token/", ApiClientTokenView.as_view(), name="token"),
        path("revoke_token/", ApiClientRevokeTokenView.as_view(), name="revoke-token"),
    ],
    "oauth2_provider",
)

# Each workspace registers its API router here: /api/v1/<app>/<resource>/.
api_v1 = [
    path("accounts/", include(accounts_router.urls)),
    path("portal/", include(portal_router.urls)),
    path("commerce/", include(commerce_router.urls + commerce_migration_urls)),
    path("earnings/", include(earnings_router.urls)),
    path("incentives/", include(incentives_router.urls)),
    path("cosell/", include("cosell.api")),
    path("security/", include("security.api")),
    path("membership/", include("membership.api")),
]

urlpatterns = [
    # The API first: it is the hot path, and resolving it need not walk the page routes.
    path("api/v1/", include(api_v1)),
    path("", include("accounts.urls")),
    path("", include(portal_patterns)),
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
