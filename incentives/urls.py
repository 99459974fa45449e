from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("", views.index, name="index"),
]
