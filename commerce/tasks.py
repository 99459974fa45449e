"""Celery entry points of the Commerce workspace: thin wrappers around the services."""
