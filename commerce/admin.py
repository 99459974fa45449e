"""The vendor-side admin for the catalog, price lists, subscriptions and migrations."""

from django.contrib import admin  # noqa: F401
