"""Celery tasks of integrations: bulk enrollment jobs, the webhook relay, expiry."""

from celery import shared_task

from apps.integrations.services import bulk, webhooks


@shared_task(name=bulk.RUN_TASK)
def bulk_enrollment_run(job_id: str) -> str:
    """Enroll the rows of a bulk job (resumes a job whose worker died)."""
    return bulk.bulk_enrollment_run(job_id=job_id).status


@shared_task(name="integrations.tasks.bulk_jobs_expire")
def bulk_jobs_expire() -> int:
    """Beat, daily: delete bulk jobs past their expiry."""
    return bulk.bulk_jobs_expire()


@shared_task(name="integrations.tasks.deliveries_dispatch", ignore_result=True)
def deliveries_dispatch() -> int:
    """Beat, every few seconds: claim due webhook deliveries and send a task for each."""
    return webhooks.deliveries_dispatch()


@shared_task(name=webhooks.SEND_TASK, ignore_result=True)
def delivery_send(delivery_id: str, token: str) -> str:
    """Post one claimed webhook delivery."""
    return webhooks.delivery_send(delivery_id=delivery_id, token=token)
