from django.apps import AppConfig


class EarningsConfig(AppConfig):
    name = "earnings"
    verbose_name = "Earnings"

    def ready(self):
        # Celery autodiscovers only `tasks.py`; the export tasks live in a module of their own, and
        # the worker must know the transactions file's layout (portal.imports) to run its imports.
        from earnings import export_tasks, imports  # noqa: F401, PLC0415
