from django.urls import path

from earnings import views

app_name = "earnings"

urlpatterns = [
    path("", views.index, name="index"),
]
