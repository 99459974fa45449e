from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal foundations"

    def ready(self) -> None:
        from portal import api_schema  # noqa: F401 - registers the OpenAPI auth extensions
