from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = "Incentives"

    def ready(self):
        # Connects the receiver of Earnings' `payment_sent` (claims paid → Completed).
        from incentives import receivers  # noqa: F401, PLC0415
