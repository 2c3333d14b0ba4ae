"""Periodic tasks of assistants."""

from celery import shared_task

from apps.assistants.services.memories import memories_expire


@shared_task(name="assistants.tasks.expire_memories")
def expire_memories() -> dict[str, int]:
    """Beat: delete expired (and long-forgotten) memories, trim old memory interactions."""
    return memories_expire()
