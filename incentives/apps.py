from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = "Incentives"

    def ready(self):
        # Connects the receiver of Earnings' `payment_sent` (claims paid → Completed); the import
        # layout makes the pipeline's worker know the opportunity file.
        from incentives import imports, receivers  # noqa: F401, PLC0415
