from django.apps import AppConfig


class EarningsConfig(AppConfig):
    name = "earnings"
    verbose_name = "Earnings"

    def ready(self):
        # Celery autodiscovers only `tasks.py`; the export tasks live in a module of their own, and
        # the worker must know the layouts of the transactions file and of the partner's records to
        # reconcile (portal.imports) to run their imports.
        from earnings import export_tasks, imports, imports_reconcile  # noqa: F401, PLC0415
