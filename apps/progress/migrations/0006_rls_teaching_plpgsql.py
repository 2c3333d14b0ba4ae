"""progress.rls_teaching_course_ids() in PL/pgSQL: plans kept for the session, and an immediate
empty answer without a signed-in user (see rbac 0004 for why). Same result as progress 0005."""

import importlib

from django.db import migrations

TEACHING = r"""
CREATE OR REPLACE FUNCTION progress.rls_teaching_course_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    me uuid := rls.user_id();
    found uuid[];
BEGIN
    IF me IS NULL THEN
        RETURN '{}';
    END IF;
    WITH scopes AS (
        SELECT s.scope_type, s.scope_id FROM rls.permission_scopes('enrollment.view') s
    )
    SELECT COALESCE(pg_catalog.array_agg(t.id), '{}') INTO found FROM (
        SELECT c.id FROM "content"."course" c WHERE c.instructor_id = me
        UNION
        SELECT s.scope_id FROM scopes s WHERE s.scope_type = 'course'
        UNION
        SELECT c.id
        FROM scopes s
        JOIN "content"."category" k
          ON k.path LIKE '%/' || pg_catalog.replace(s.scope_id::text, '-', '') || '/%'
        JOIN "content"."course" c ON c.category_id = k.id
        WHERE s.scope_type = 'category'
    ) t;
    RETURN found;
END
$$;
"""


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(TEACHING)


def restore(apps, schema_editor):
    before = importlib.import_module("apps.progress.migrations.0005_row_level_security")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(before.TEACHING)


class Migration(migrations.Migration):
    dependencies = [
        ("progress", "0005_row_level_security"),
        ("rbac", "0004_rls_functions_plpgsql"),
    ]
    operations = [migrations.RunPython(create, restore)]
