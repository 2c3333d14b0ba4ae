"""Row-level security context at the edges of requests, tasks and connections (apps/core/rls.py).

- Requests: cleared when a request starts (if anything was left) and when it finishes (after a
  streamed response is consumed); RowLevelSecurityMiddleware (apps/rbac) sets it in between.
- Celery tasks: run in the system context, given back at the end (an eager task inside a
  request returns the request's context).
- Connections: a re-opened connection gets the context its wrapper holds.
"""

import contextlib

from celery import signals as celery_signals
from django.core import signals as request_signals
from django.db.backends.signals import connection_created

from apps.core import rls

_task_contexts: dict[str, contextlib.ExitStack] = {}

request_signals.request_started.connect(rls.on_request_boundary, dispatch_uid="rls_request_start")
request_signals.request_finished.connect(rls.on_request_boundary, dispatch_uid="rls_request_end")
connection_created.connect(rls.on_connection_created, dispatch_uid="rls_connection_created")


@celery_signals.task_prerun.connect
def enter_task_system_context(task_id=None, **_kwargs) -> None:
    stack = contextlib.ExitStack()
    stack.enter_context(rls.system_context())
    _task_contexts[task_id] = stack


@celery_signals.task_postrun.connect
def exit_task_system_context(task_id=None, **_kwargs) -> None:
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()
