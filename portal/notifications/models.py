"""Notifications (one per person and event), their e-mails (the outbox) and preferences."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from portal.notifications.categories import Channel
from portal.tenancy import TenantModel


class Notification(TenantModel):
    """What one person was told about one event: in the bell, and by e-mail or digest as chosen."""

    recipient = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    #: The page it is about, as a path of the portal ("/cosell/referrals/12/").
    url = models.CharField(max_length=500, blank=True)
    #: The event it tells of: the same event never notifies the same person twice.
    event_key = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    #: When a digest carried it (channel "digest").
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event_key"], name="unique_notification_per_event")
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(channel=Channel.DIGEST, digested_at__isnull=True),
                name="notification_digest_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    #: A worker was lost while sending: it may or may not have gone out; staff decide.
    UNCERTAIN = "uncertain", "Unknown (worker lost while sending)"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """An e-mail to send: written in the transaction of what caused it, sent by a worker once.

    `key` makes queuing idempotent (the same event never queues the same mail twice); the status
    moves queued → sending → sent under a row lock, so a retried task never sends it again.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    key = models.CharField(max_length=200, unique=True)
    category = models.CharField(max_length=80, blank=True)
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["queued", "sending"]),
                name="outbox_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"


class NotificationPreference(models.Model):
    """A person's choice for one category (none: the organization's default, else the category's)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="unique_preference")]

    def __str__(self) -> str:
        return f"{self.category}: {self.channel}"


class NotificationDefault(TenantModel):
    """An organization's default for one category, set by its admins."""

    category = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "category"], name="unique_notification_default")
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.channel}"


class AlertRule(TenantModel):
    """A person's own alert: a rule kind (registered by a workspace, `portal.notifications.rules`)
    with its parameters, evaluated when its data changes or on schedule, firing through the
    person's notification channels and the organization's webhooks."""

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=80)
    parameters = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    #: What the last evaluation saw (e.g. whether a threshold was crossed), so a rule fires once
    #: per change, not on every evaluation while the condition holds.
    last_state = models.JSONField(default=dict, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(
                fields=["organization", "kind"], condition=models.Q(is_active=True), name="alert_rule_active"
            )
        ]

    def __str__(self) -> str:
        return self.name
