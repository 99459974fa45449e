from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Membership"

    def ready(self) -> None:
        # The data files' layouts, so the Celery worker knows them (portal.imports).
        from membership import imports  # noqa: F401, PLC0415
