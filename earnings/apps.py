from django.apps import AppConfig


class EarningsConfig(AppConfig):
    name = "earnings"
    verbose_name = "Earnings"

    def ready(self):
        # Celery autodiscovers only `tasks.py`; the export tasks live in a module of their own.
        from earnings import export_tasks  # noqa: F401, PLC0415
