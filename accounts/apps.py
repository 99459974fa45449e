from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import imports, signals  # noqa: F401 - sign-in audit receivers, the import layouts
