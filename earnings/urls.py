from django.urls import path

from earnings import views

app_name = "earnings"

# --- Pages: earnings, revenue, ineligible, payments, reports ---
urlpatterns = [
    path("", views.index, name="index"),
    path("top-customers/", views.top_customers, name="top-customers"),
    path("rows/<int:pk>/", views.EarningDetailView.as_view(), name="earning-detail"),
    path("revenue/", views.revenue, name="revenue"),
    path("ineligible/", views.ineligible, name="ineligible"),
    path("payments/", views.PaymentListView.as_view(), name="payment-list"),
    path("payments/<int:pk>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("reports/", views.reports, name="reports"),
    path("payment-profile/", views.payment_profile, name="payment-profile"),
    path("payment-profile/<int:pk>/hold/", views.hold_toggle, name="hold-toggle"),
]

# --- Downloads and exports ---
from earnings import views_exports  # noqa: E402

urlpatterns += [
    path("downloads/<slug:report>.<slug:fmt>", views_exports.download, name="download"),
    path("exports/", views_exports.export_list, name="export-list"),
    path("exports/new/", views_exports.export_new, name="export-create"),
    path("exports/<int:pk>/", views_exports.export_detail, name="export-detail"),
    path("exports/<int:pk>/progress/", views_exports.export_progress, name="export-progress"),
    path("exports/<int:pk>/file/", views_exports.export_file, name="export-file"),
]

# --- Reconciliation ---
from earnings import views_reconcile  # noqa: E402

urlpatterns += [
    path("reconcile/", views_reconcile.reconcile_list, name="reconcile-list"),
    path("reconcile/new/", views_reconcile.reconcile_new, name="reconcile-new"),
    path("reconcile/<int:pk>/", views_reconcile.ReconcileDetailView.as_view(), name="reconcile-detail"),
    path("reconcile/<int:pk>/result.csv", views_reconcile.reconcile_csv, name="reconcile-csv"),
    path("reconcile/jobs/<int:pk>/", views_reconcile.ReconcileJobView.as_view(), name="reconcile-job"),
    path(
        "reconcile/jobs/<int:pk>/progress/",
        views_reconcile.ReconcileJobProgressView.as_view(),
        name="reconcile-job-progress",
    ),
    path(
        "reconcile/jobs/<int:pk>/result.csv",
        views_reconcile.reconcile_job_result,
        name="reconcile-job-result",
    ),
]
