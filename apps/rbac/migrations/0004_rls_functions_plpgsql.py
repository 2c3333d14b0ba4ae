"""The row-level security functions that read tables, in PL/pgSQL (docs/adr/0017).

SQL-language functions that cannot be inlined are planned again on every call; the policies
call these once per statement, and planning the recursive grant query cost more than running
it (about 20 ms per statement on a busy machine). PL/pgSQL keeps the plans for the session, and
returns at once when there is no signed-in user (the system context, anonymous requests).
Same results as rbac 0003.
"""

import importlib

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION rls.permission_scopes(permission text)
RETURNS TABLE (scope_type text, scope_id uuid)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
#variable_conflict use_column
DECLARE
    me uuid := rls.user_id();
BEGIN
    IF me IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH RECURSIVE live AS (
        SELECT g.id, g.role_id, g.scope_type AS kind, g.scope_id AS target
        FROM "rbac"."role_grant" g
        JOIN "accounts"."user" u ON u.id = g.user_id
        WHERE g.user_id = me
          AND u.is_active AND u.deleted_at IS NULL
          AND g.revoked_at IS NULL
          AND g.valid_from <= pg_catalog.now()
          AND (g.expires_at IS NULL OR g.expires_at > pg_catalog.now())
    ), chain(grant_id, role_id, depth) AS (
        SELECT live.id, live.role_id, 0 FROM live
        UNION ALL
        SELECT chain.grant_id, r.parent_id, chain.depth + 1
        FROM chain JOIN "rbac"."role" r ON r.id = chain.role_id
        WHERE r.parent_id IS NOT NULL AND chain.depth < 64
    )
    SELECT DISTINCT live.kind::text, live.target
    FROM chain
    JOIN live ON live.id = chain.grant_id
    JOIN "rbac"."role_permission" rp ON rp.role_id = chain.role_id
    JOIN "rbac"."permission" p ON p.id = rp.permission_id
    WHERE p.name = permission;
END
$$;

CREATE OR REPLACE FUNCTION rls.holds(permission text) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    me uuid := rls.user_id();
BEGIN
    IF me IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        SELECT 1 FROM "accounts"."user" u
        WHERE u.id = me AND u.is_superuser AND u.is_active AND u.deleted_at IS NULL
    ) OR EXISTS (
        SELECT 1 FROM rls.permission_scopes(permission) s WHERE s.scope_type = 'global'
    );
END
$$;

CREATE OR REPLACE FUNCTION rls.scope_ids(permission text, kind text) RETURNS uuid[]
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    found uuid[];
BEGIN
    SELECT COALESCE(pg_catalog.array_agg(s.scope_id), '{}') INTO found
    FROM rls.permission_scopes(permission) s
    WHERE s.scope_type = kind;
    RETURN found;
END
$$;
"""


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)


def restore(apps, schema_editor):
    before = importlib.import_module("apps.rbac.migrations.0003_row_level_security")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(before.FUNCTIONS)


class Migration(migrations.Migration):
    dependencies = [("rbac", "0003_row_level_security")]
    operations = [migrations.RunPython(create, restore)]
