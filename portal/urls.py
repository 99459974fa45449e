"""The foundation's own pages (status, readiness, metrics, jobs, notifications); home.urls mounts them
at the root."""

from django.urls import path

from portal import metrics, status, views
from portal.notifications import views as notifications
from portal.notifications import views_rules as alert_rules

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
    path("notifications/", notifications.notification_list, name="notification-list"),
    path("notifications/bell/", notifications.notification_bell, name="notification-bell"),
    path("notifications/read/", notifications.notifications_mark_all_read, name="notifications-read"),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification-open"),
    path("notifications/<int:pk>/read/", notifications.notification_mark_read, name="notification-read"),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification-preferences",
    ),
    path("notifications/defaults/", notifications.notification_defaults, name="notification-defaults"),
    path("notifications/alerts/", alert_rules.alert_rule_list, name="alert-rule-list"),
    path("notifications/alerts/new/<str:kind>/", alert_rules.alert_rule_new, name="alert-rule-new"),
    path("notifications/alerts/<int:pk>/toggle/", alert_rules.alert_rule_toggle, name="alert-rule-toggle"),
    path("notifications/alerts/<int:pk>/delete/", alert_rules.alert_rule_remove, name="alert-rule-delete"),
]
