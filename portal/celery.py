"""Celery for batch jobs: late acks and redelivery on worker loss are set in settings."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_like_the_web(**kwargs):
    """Workers and beat log through settings.LOGGING (JSON lines with the task id, or plain text
    with LOG_FORMAT=text) instead of Celery's own format; LOG_LEVEL sets the level, not `-l`."""
    from django.conf import settings  # noqa: PLC0415 - settings are read once Celery starts

    logging.config.dictConfig(settings.LOGGING)
