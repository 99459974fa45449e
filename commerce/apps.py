from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Commerce"

    def ready(self):
        # The price list's layout, so the Celery worker knows it (portal.imports).
        from commerce.services import price_lists  # noqa: F401, PLC0415
