"""Audit context for management commands (set in manage.py, before Django runs the command)."""

import contextlib

import pghistory

# Long-running servers: each request or task they handle sets its own context.
_SERVER_COMMANDS = {"runserver", "celery", "gunicorn"}


def command_context(argv: list[str]) -> contextlib.AbstractContextManager:
    """A pghistory context naming the management command in `argv`, or none for servers."""
    command = argv[1] if len(argv) > 1 else "help"
    if command in _SERVER_COMMANDS:
        return contextlib.nullcontext()
    return pghistory.context(command=command)
