"""Audit and row-level security context for management commands (set in manage.py, before
Django runs the command)."""

import contextlib

import pghistory

from apps.core.rls import system_context

# Long-running servers: each request or task they handle sets its own context.
_SERVER_COMMANDS = {"runserver", "celery", "gunicorn"}


def command_context(argv: list[str]) -> contextlib.AbstractContextManager:
    """A pghistory context naming the management command in `argv`, and the row-level security
    system context (docs/adr/0017-row-level-security.md); none for servers."""
    command = argv[1] if len(argv) > 1 else "help"
    if command in _SERVER_COMMANDS:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(pghistory.context(command=command))
    stack.enter_context(system_context())
    return stack
