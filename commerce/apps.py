from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Commerce"

    def ready(self):
        # Every layout of the workspace, so the Celery worker knows them (portal.imports): the
        # price list, the batch files, and the vendor feeds (registered by their URLconf otherwise).
        from commerce import imports, vendor_api, vendor_api_nce  # noqa: F401, PLC0415
        from commerce.services import price_lists  # noqa: F401, PLC0415
