"""Create one PostgreSQL schema per domain app, and grant the app role what it may do.

The migration owner creates and owns every table; web and worker connect as the app role
(settings.DATABASE_APP_ROLE), which gets DML on tables, usage of sequences, and nothing else: it
cannot create tables or schemas, nor drop them. Default privileges extend the grants to tables the
owner creates later, so every migration must run as the owner (docs/adr/0003-database-roles.md).
"""

from django.conf import settings
from django.db import migrations

SCHEMAS = ("accounts", "rbac", "audit", "content", "progress", "billing", "assistants", "analytics")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_schemas_and_grant(apps, schema_editor):
    role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise RuntimeError(
                f"database role {role!r} (DATABASE_APP_ROLE) does not exist. Create it first: "
                "`make run` does it on a local server, or run "
                f"CREATE ROLE {role} LOGIN PASSWORD '...' as a superuser."
            )
        app = _quote(role)
        for schema in (*SCHEMAS, "public"):
            quoted = _quote(schema)
            if schema != "public":
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            cursor.execute(f"REVOKE CREATE ON SCHEMA {quoted} FROM PUBLIC")
            cursor.execute(f"GRANT USAGE ON SCHEMA {quoted} TO {app}")
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted} TO {app}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {app}")
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
            )
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quoted} GRANT USAGE, SELECT ON SEQUENCES TO {app}"
            )


def drop_schemas(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for schema in SCHEMAS:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(schema)}")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_schemas_and_grant, drop_schemas)]
