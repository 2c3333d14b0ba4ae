"""Row-level security on what assistants keep about a person (docs/adr/0017-row-level-security.md).

- memory, memory_interaction, conversation: the person (user_id), staff holding
  assistant.manage globally, the system.
- message: whoever sees the conversation (its own policies apply inside the sub-select), staff,
  the system.

Instructors get nothing here: a learner's memories and chats are theirs, not the course's.
Usage records stay unprotected: they carry counts and token totals for quotas and reports, no
content.
"""

from django.db import migrations

from apps.core.rls_sql import Via, protect

TABLES = [
    protect(
        '"assistants"."memory"', "memory", staff_permission="assistant.manage", owner="user_id"
    ),
    protect(
        '"assistants"."memory_interaction"',
        "memory_interaction",
        staff_permission="assistant.manage",
        owner="user_id",
    ),
    protect(
        '"assistants"."conversation"',
        "conversation",
        staff_permission="assistant.manage",
        owner="user_id",
    ),
    protect(
        '"assistants"."message"',
        "message",
        staff_permission="assistant.manage",
        via=Via("conversation_id", '"assistants"."conversation"', "conversation"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("assistants", "0003_profile_api_key"),
        ("rbac", "0003_row_level_security"),
    ]
    operations = [migrations.RunSQL(forward, reverse) for forward, reverse in TABLES]
