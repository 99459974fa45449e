from django.urls import path

from cosell import views

app_name = "cosell"

urlpatterns = [
    path("", views.index, name="index"),
]
