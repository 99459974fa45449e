from django.urls import path

from commerce import views, views_pricing

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
