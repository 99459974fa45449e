from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security and compliance"

    def ready(self) -> None:
        # The receivers grant default GDAP roles to new customers; the import layouts make the
        # pipeline's worker know the MFA and Azure subscription files.
        from security import imports, receivers  # noqa: F401
