"""Celery tasks of analytics: view refreshes (one beat schedule per view), export jobs, expiry."""

from celery import shared_task

from apps.analytics import services


@shared_task(name="analytics.tasks.refresh_view")
def refresh_view(name: str) -> dict:
    """Beat (one schedule per view) or the admin: refresh one view, recording the run."""
    run = services.view_refresh(view=name)
    return {"view": run.view, "outcome": run.outcome, "rows": run.rows, "ms": run.duration_ms}


@shared_task(name=services.EXPORT_TASK)
def export_run(job_id: str) -> str:
    """Write an export job's CSV."""
    return services.export_job_run(job_id=job_id).status


@shared_task(name="analytics.tasks.exports_expire")
def exports_expire() -> int:
    """Beat, hourly: delete export files past their expiry."""
    return services.exports_expire()
