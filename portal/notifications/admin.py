"""The outbox in the admin: every e-mail the portal queued, its status and last error (an SMTP
server that is down shows here), "send again" for the failed and uncertain ones; and in
development the mailbox of the embedded SMTP server (`make run`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from portal.notifications.email import outbox_deliver_later
from portal.notifications.models import OutboxMessage, OutboxStatus


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "to_email",
        "subject",
        "category",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "category"]
    search_fields = ["to_email", "subject", "key"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
    actions = ["send_again"]
    change_list_template = "admin/notifications/outbox_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send again (failed or uncertain messages)")
    def send_again(self, request, queryset):
        chosen = queryset.filter(status__in=[OutboxStatus.FAILED, OutboxStatus.UNCERTAIN])
        ids = list(chosen.values_list("pk", flat=True))
        chosen.update(status=OutboxStatus.QUEUED, last_error="")
        outbox_deliver_later(ids)
        self.message_user(request, f"{len(ids)} message(s) queued again.")

    def get_urls(self):
        view = self.admin_site.admin_view(self.mailbox_view)
        return [path("mailbox/", view, name="portal_outboxmessage_mailbox"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "mailbox": bool(settings.PORTAL_DEV_MAILDIR)}
        return super().changelist_view(request, extra_context)

    def mailbox_view(self, request):
        """Every message the development SMTP server received, newest first."""
        if not request.user.is_staff:
            raise PermissionDenied
        if not settings.PORTAL_DEV_MAILDIR:
            raise Http404("No development mailbox: e-mail goes to the SMTP server in EMAIL_URL.")
        from portal.smtp_catcher import read_maildir  # noqa: PLC0415 - only in development

        received = []
        for message in reversed(read_maildir(settings.PORTAL_DEV_MAILDIR)[-200:]):
            text = message.get_body(preferencelist=("plain",))
            received.append(
                {
                    "date": message["Date"],
                    "to": message["To"],
                    "subject": message["Subject"],
                    "text": text.get_content() if text else "",
                    "unsubscribe": message["List-Unsubscribe"],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Mailbox (development SMTP server)",
            "received": received,
            "maildir": settings.PORTAL_DEV_MAILDIR,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/notifications/mailbox.html", context)
