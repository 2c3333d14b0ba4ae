"""Reads of integrations."""

from django.db.models import QuerySet

from apps.integrations.models import (
    BulkEnrollmentJob,
    BulkEnrollmentRow,
    WebhookDelivery,
    WebhookEndpoint,
)


def my_bulk_jobs(*, owner) -> QuerySet[BulkEnrollmentJob]:
    """The owner's bulk enrollment jobs, newest first."""
    return BulkEnrollmentJob.objects.filter(owner=owner).order_by("-created_at")


def bulk_job_rows(*, job: BulkEnrollmentJob, outcome: str | None = None) -> QuerySet:
    """A job's rows in file order, optionally only one outcome."""
    rows = BulkEnrollmentRow.objects.filter(job=job).order_by("row_number")
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows


def my_endpoints(*, owner) -> QuerySet[WebhookEndpoint]:
    """Webhook endpoints the user manages: their own; staff see every endpoint."""
    endpoints = WebhookEndpoint.objects.select_related("owner")
    return endpoints if owner.is_staff else endpoints.filter(owner=owner)


def endpoint_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")
