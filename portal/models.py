"""Tables shared by every workspace: jobs, history events, the audit log, webhooks, idempotency keys,
notifications and their e-mails (`portal.notifications.models`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from portal.choices import DeliveryStatus, JobStatus
from portal.notifications.models import (  # noqa: F401 - the portal app's models
    Notification,
    NotificationDefault,
    NotificationPreference,
    OutboxMessage,
)
from portal.tenancy import TenantModel


class JobRun(TenantModel):
    """One run of a batch job: its parameters, progress and outcome (design §3)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=80, db_index=True)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def is_import(self) -> bool:
        """A run of the import pipeline (portal.imports): its page shows counts, problems, result file."""
        return self.kind.startswith("import:")

    @property
    def import_errors(self) -> list[dict]:
        """The problems of an import, row by row (the job's first error is the rejection's message)."""
        return [error for error in self.errors if "row" in error]


class JobChunk(models.Model):
    """A committed chunk of a job; its unique key makes a replayed chunk a no-op."""

    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="chunks")
    key = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="unique_job_chunk"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.key}"


class HistoryEvent(TenantModel):
    """A status change of any object: who, when, from, to, note (design §3, "History is kept").

    Rows are only ever appended, through `portal.history`, as links of the organization's hash
    chain (`portal.chain`): the trigger `history_append_only` (migration portal 0003) refuses
    UPDATE and DELETE, and `manage.py history_verify` finds a row changed behind that guard. The
    foreign keys protect rather than cascade or null, so deleting a person, an organization or a
    model type can't rewrite its history.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", db_index=True
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    subject = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    from_status = models.CharField(max_length=60, blank=True)
    to_status = models.CharField(max_length=60)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="Structured detail the hash covers.")
    at = models.DateTimeField(default=timezone.now)
    seq = models.PositiveBigIntegerField(help_text="Position in the organization's chain: 1, 2, 3, …")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="unique_history_seq"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="history_seq_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class WebhookEndpoint(TenantModel):
    """Where an organization wants its events delivered, and which ones."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, help_text="Shared secret for the HMAC signature.")
    events = ArrayField(models.CharField(max_length=80))
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantModel):
    """One event sent (or being retried) to one endpoint: the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=80)
    event_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="unique_delivery_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"


class IdempotencyKey(models.Model):
    """The stored answer to a POST sent with an Idempotency-Key header."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class AuditEvent(TenantModel):
    """Who did what, when, and from where. Written by services, never edited."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # The table keeps the name it had when the model lived in accounts.
        db_table = "accounts_auditevent"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-at"], name="accounts_au_organiz_ead0c7_idx"),
            # An object's recent changes (e.g. the user page's "Recent changes").
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
