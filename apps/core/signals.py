"""Celery signal receivers: audit context and metrics for work that does not come through a
request.

Every database change a task makes is grouped under one pghistory context carrying the task's
name and id, so the audit trail says which job changed a row. (Management commands get theirs
in manage.py, see apps.core.context.command_context.)
"""

import pghistory
from celery import signals

from apps.core import metrics
from apps.core.tasks import heartbeat

_open_contexts: dict[str, pghistory.context] = {}


@signals.task_prerun.connect
def enter_task_context(task_id=None, task=None, **_kwargs) -> None:
    context = pghistory.context(task=task.name, task_id=task_id)
    context.__enter__()
    _open_contexts[task_id] = context


@signals.task_postrun.connect
def exit_task_context(task_id=None, **_kwargs) -> None:
    context = _open_contexts.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)


@signals.task_prerun.connect
def start_task_clock(task_id=None, **_kwargs) -> None:
    metrics.task_started(task_id=task_id)


@signals.task_postrun.connect
def count_task_outcome(task_id=None, task=None, state=None, **_kwargs) -> None:
    """lyceum_celery_tasks_total{task, outcome} and the task's run time (apps/core/metrics.py)."""
    metrics.task_finished(task_id=task_id, task_name=task.name, state=state)


@signals.task_revoked.connect
def count_task_revoked(sender=None, **_kwargs) -> None:
    metrics.CELERY_TASKS.inc(task=getattr(sender, "name", "unknown"), outcome="revoked")


@signals.worker_ready.connect
def beat_on_start(sender=None, **_kwargs) -> None:
    """A worker reports itself as soon as it is up, instead of waiting for beat's first tick."""
    heartbeat.delay()
