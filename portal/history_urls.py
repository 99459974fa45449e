"""The history routes, included by home.urls under "history/" (namespace "history")."""

from django.urls import path

from portal.history_views import history_download

app_name = "history"

urlpatterns = [
    path("<int:content_type_id>/<str:object_id>/download/", history_download, name="download"),
]
