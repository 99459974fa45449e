from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The sign-in audit and lockout receivers, the import layouts, the vendor clients' admin page.
        from accounts import admin_vendor, imports, signals  # noqa: F401
