from django.apps import AppConfig


class CosellConfig(AppConfig):
    name = "cosell"
    verbose_name = "Co-sell"
