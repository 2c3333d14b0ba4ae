"""Periodic tasks of billing."""

from celery import shared_task

from apps.billing.services import subscriptions_expire


@shared_task(name="billing.tasks.expire_subscriptions")
def expire_subscriptions() -> dict[str, int]:
    """Beat: subscriptions past their period end become past due or cancelled (ADR 0013)."""
    return subscriptions_expire()
