from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and compliance"

    def ready(self) -> None:
        from security import receivers  # noqa: F401 - grants default GDAP roles to new customers
