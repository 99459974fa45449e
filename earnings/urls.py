from django.urls import path

from earnings import views

app_name = "earnings"

# --- Pages: earnings, revenue, ineligible, payments, reports ---
urlpatterns = [
    path("", views.index, name="index"),
]

# --- Downloads and exports ---

# --- Reconciliation ---
