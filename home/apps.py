from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The top of the layers: what aggregates the workspaces (Home page, URLconf, demo and scale data)."""

    name = "home"
    verbose_name = "Home"
