from django.contrib import admin
from django.db import models
from django.utils.html import format_html

from portal.models import HistoryEvent, JobRun, WebhookDelivery, WebhookEndpoint
from portal.notifications import admin as notifications_admin  # noqa: F401 - registers the outbox


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "organization", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    @admin.display(description="Progress")
    def progress(self, obj: JobRun):
        return format_html("{} / {} ({}%)", obj.done, obj.total, obj.percent)


@admin.register(HistoryEvent)
class HistoryEventAdmin(admin.ModelAdmin):
    """The one history, read-only: rows are appended by services and the database refuses the rest."""

    list_display = [
        "at",
        "organization",
        "seq",
        "content_type",
        "object_id",
        "from_status",
        "to_status",
        "actor_label",
    ]
    list_filter = ["content_type", "to_status"]
    list_select_related = ["organization", "content_type"]
    search_fields = ["object_id", "actor_label", "note", "hash"]
    readonly_fields = [f.name for f in HistoryEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["url", "organization", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["organization"]
    raw_id_fields = ["organization"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "response_status"]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
