"""The integrations schema: what integrators use beyond the plain API.

- Bulk enrollment jobs: a CSV or JSON list is stored as rows when it is uploaded, a worker
  enrolls row by row and records each row's outcome, the job keeps the counts.
- Webhooks: endpoints (URL, signing secret, event types) and deliveries. A delivery row is
  written for each matching active endpoint by a trigger on `audit.events` (migration 0002), in
  the transaction that records the domain event: the outbox. A relay sends them.
"""

import uuid

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.core.fields import EncryptedTextField
from apps.core.models import TimeStampedModel, UUIDModel

# -- bulk enrollment ----------------------------------------------------------------------


class BulkJobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RowOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    ENROLLED = "enrolled", "Enrolled"
    ALREADY_ENROLLED = "already_enrolled", "Already enrolled"
    ERROR = "error", "Error"


class BulkEnrollmentJob(models.Model):
    """One uploaded list of (email, course) rows, enrolled by a worker."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=4, help_text="csv or json")
    filename = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=BulkJobStatus.choices, default=BulkJobStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    already_enrolled = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = 'integrations"."bulk_enrollment_job'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BulkJobStatus.values), name="bulk_job_status"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=("csv", "json")), name="bulk_job_source"
            ),
            models.CheckConstraint(
                condition=models.Q(processed_rows__lte=models.F("total_rows")),
                name="bulk_job_processed_lte_total",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    processed_rows=models.F("enrolled")
                    + models.F("already_enrolled")
                    + models.F("failed")
                ),
                name="bulk_job_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"bulk enrollment {self.pk} ({self.status}, {self.processed_rows}/{self.total_rows})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == BulkJobStatus.DONE else 0
        return self.processed_rows * 100 // self.total_rows


class BulkEnrollmentRow(models.Model):
    """One input row of a job and, once processed, its outcome."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(BulkEnrollmentJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(help_text="1 = the first data row (after a header).")
    email = models.CharField(max_length=254, blank=True)
    course_ref = models.CharField(max_length=200, blank=True, help_text="Course id or slug.")
    outcome = models.CharField(
        max_length=16, choices=RowOutcome.choices, default=RowOutcome.PENDING
    )
    code = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=500, blank=True)
    enrollment_id = models.UUIDField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = 'integrations"."bulk_enrollment_row'
        ordering = ("job", "row_number")
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="bulk_row_unique"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=RowOutcome.values), name="bulk_row_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.email} {self.course_ref} ({self.outcome})"


# -- webhooks -----------------------------------------------------------------------------

# The domain events an endpoint may subscribe to (audit.events event_type values).
WEBHOOK_EVENT_TYPES = (
    "enrollment.created",
    "enrollment.reactivated",
    "enrollment.dropped",
    "enrollment.suspended",
    "enrollment.reset",
    "lesson.completed",
    "course.completed",
    "certificate.issued",
    "course.published",
    "course.archived",
    "order.created",
    "order.paid",
    "order.failed",
    "order.cancelled",
    "refund.issued",
    "subscription.created",
    "subscription.plan_changed",
    "subscription.renewed",
    "subscription.cancelled",
    "subscription.duplicate_discarded",
    "user.registered",
)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


# The signing secret (and the failure counter, which changes on every failed attempt) stay out
# of the audit trail.
@pghistory.track(
    exclude=["secret", "consecutive_failures"],
    meta={"db_table": 'audit"."integrations_webhookendpoint_event'},
)
class WebhookEndpoint(UUIDModel, TimeStampedModel):
    """A receiver URL and the event types it wants. Disabled automatically after
    WEBHOOK_DISABLE_AFTER consecutive failed attempts (until re-enabled)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # The HMAC key must be readable to sign: encrypted at rest (ADR 0016), not hashed.
    secret = EncryptedTextField(editable=False)
    event_types = ArrayField(models.CharField(max_length=100), default=list)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)

    class Meta(TimeStampedModel.Meta):
        db_table = 'integrations"."webhook_endpoint'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(url__startswith="http://")
                | models.Q(url__startswith="https://"),
                name="webhook_endpoint_http_url",
            ),
            models.CheckConstraint(
                condition=models.Q(secret__sealed=True), name="webhook_endpoint_secret_encrypted"
            ),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(UUIDModel):
    """One event for one endpoint. Its id is the `Webhook-Id` header: receivers dedupe on it,
    since a delivery may arrive more than once (at least once, in no guaranteed order)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(db_index=True)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.CharField(max_length=500, blank=True, help_text="Body excerpt.")
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = 'integrations"."webhook_delivery'
        ordering = ("-created_at",)
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status",
            ),
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
