from django.urls import path

from commerce import views, views_nce, views_pricing, views_schedules

app_name = "commerce"

urlpatterns = [
    path("", views.index, name="index"),
    # --- Subscriptions and migrations ---
    path("subscriptions/", views.SubscriptionListView.as_view(), name="subscription-list"),
    path("subscriptions/<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription-detail"),
    path("subscriptions/migrate/", views.batch_from_selection, name="batch-from-selection"),
    path("new-commerce/", views.NceSubscriptionListView.as_view(), name="nce-subscription-list"),
    path("customers/<int:pk>/", views.customer_subscriptions, name="customer-subscriptions"),
    path("migrations/", views.migration_list, name="migration-list"),
    path("migrations/<int:pk>/", views.MigrationDetailView.as_view(), name="migration-detail"),
    path("migrations/<int:pk>/retry/", views.migration_retry, name="migration-retry"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/new/", views.batch_upload, name="batch-upload"),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
]

# --- Price lists ---------------------------------------------------------------------------------
urlpatterns += [
    path("price-lists/", views_pricing.PriceListIndexView.as_view(), name="price-list-index"),
    path("price-lists/<int:pk>/", views_pricing.PriceListDetailView.as_view(), name="price-list-detail"),
    path("price-lists/<int:pk>/rows.csv", views_pricing.price_list_rows_csv, name="price-list-rows-csv"),
    path("price-lists/<int:pk>/diff/", views_pricing.price_list_diff, name="price-list-diff"),
    path("price-lists/<int:pk>/diff.csv", views_pricing.price_list_diff_csv, name="price-list-diff-csv"),
]
# --- End of price lists --------------------------------------------------------------------------

# --- New-commerce subscriptions: the 7-day window -----------------------------------------------
urlpatterns += [
    path(
        "new-commerce/<int:pk>/",
        views_nce.NceSubscriptionDetailView.as_view(),
        name="nce-subscription-detail",
    ),
    path("new-commerce/<int:pk>/seats/", views_nce.nce_subscription_seats, name="nce-subscription-seats"),
    path(
        "new-commerce/<int:pk>/cancel/",
        views_nce.nce_subscription_cancel_view,
        name="nce-subscription-cancel",
    ),
]
# --- End of new-commerce subscriptions -----------------------------------------------------------

# --- Migration schedules -------------------------------------------------------------------------
urlpatterns += [
    path("schedules/", views_schedules.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/new/", views_schedules.schedule_new, name="schedule-new"),
    path("schedules/<int:pk>/", views_schedules.ScheduleDetailView.as_view(), name="schedule-detail"),
    path("schedules/<int:pk>/cancel/", views_schedules.schedule_cancel_view, name="schedule-cancel"),
]
# --- End of migration schedules ------------------------------------------------------------------

# --- Files in Microsoft's NCE Batch Migration tool layouts (commerce.bam_files) ------------------
urlpatterns += [
    path("subscriptions/export.csv", views.subscriptions_bam_csv, name="subscription-bam-csv"),
    path("new-commerce/export.csv", views.nce_subscriptions_bam_csv, name="nce-subscription-bam-csv"),
    path("batches/<int:pk>/result.csv", views.batch_result_csv, name="batch-result-csv"),
    path("batches/<int:pk>/status.csv", views.batch_status_csv, name="batch-status-csv"),
]
# --- End of BAM files ----------------------------------------------------------------------------
