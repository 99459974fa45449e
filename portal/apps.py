from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal foundations"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from portal import api_schema  # noqa: F401 - registers the OpenAPI auth extensions
        from portal.notifications import rules  # noqa: F401 - the alert rules' category and webhook event

        # Each workspace's notification categories and alert rule kinds, like the admin's modules.
        autodiscover_modules("notifications", "alerts")
