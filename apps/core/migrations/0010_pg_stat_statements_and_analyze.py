"""pg_stat_statements where the server allows it, and ANALYZE for the app role.

- CREATE EXTENSION pg_stat_statements needs a superuser (it is not a trusted extension) and the
  contrib package; where either is missing the migration goes on without it (the admin's
  database health page says what is missing). Reading it also needs the library in
  shared_preload_libraries.
- ANALYZE needs the table's owner: lyceum_analyze(table) is a SECURITY DEFINER function owned
  by the migration owner (fixed search_path) that the app role may execute (ADR 0014).
"""

# No literal percent signs in these statements: under `manage.py migrate` pghistory's command
# context prefixes each statement with a parameterised set_config, and psycopg would then read
# a `%` as a placeholder.

from django.conf import settings
from django.db import migrations

PG_STAT_STATEMENTS = r"""
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE USING MESSAGE = 'pg_stat_statements not created: ' || SQLERRM;
END
$$;
"""

ANALYZE = r"""
CREATE OR REPLACE FUNCTION public.lyceum_analyze(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = target AND relkind IN ('r', 'p', 'm')) THEN
        RAISE EXCEPTION USING MESSAGE = target::text || ' is not a table',
            ERRCODE = 'wrong_object_type';
    END IF;
    EXECUTE 'ANALYZE ' || target::text;
END
$$;
"""

SIGNATURE = "public.lyceum_analyze(regclass)"


def create(apps, schema_editor):
    app = '"' + settings.DATABASE_APP_ROLE.replace('"', '""') + '"'
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PG_STAT_STATEMENTS)
        cursor.execute(ANALYZE)
        cursor.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {app}")


def drop(apps, schema_editor):
    # The extension stays: it may have been created by a DBA, and other tools read it.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


class Migration(migrations.Migration):
    dependencies = [("core", "0009_maintenance_and_idempotency")]
    operations = [migrations.RunPython(create, drop)]
