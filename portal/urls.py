"""The foundation's own pages (status, readiness, metrics, jobs); home.urls mounts them at the root."""

from django.urls import path

from portal import metrics, status, views

app_name = "portal"

urlpatterns = [
    path("status/", views.status_page, name="status"),
    path("status/health/", views.status_health, name="health"),
    # Readiness (database, Redis, a live Celery worker) and Prometheus metrics: both open routes
    # (middleware OPEN_ROUTES); /metrics checks its bearer token or a verified staff session itself.
    path("status/ready/", status.ready, name="ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("jobs/", views.JobListView.as_view(), name="job-list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:pk>/progress/", views.JobProgressView.as_view(), name="job-progress"),
    path("jobs/<int:pk>/result/", views.JobResultFileView.as_view(), name="job-result-file"),
]
