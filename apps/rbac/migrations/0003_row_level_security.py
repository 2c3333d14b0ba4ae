"""The functions row-level security policies are written with (docs/adr/0017), in schema `rls`.

- `rls.context()`: the session's `app.context` ('request', 'system' or '' = nothing).
- `rls.is_system()`: the system context (Celery tasks, management commands, system_context()).
- `rls.user_id()`: the signed-in user of a request (`app.current_user_id`), else NULL.
- `rls.permission_scopes(permission)`: the scopes (scope_type, scope_id) in which that user holds
  `permission` through live grants, with role inheritance: the SQL of
  apps.rbac.selectors.user_effective_permissions for one permission. Nothing for inactive or
  deleted users.
- `rls.holds(permission)`: an active superuser, or a global grant of `permission`.
- `rls.scope_ids(permission, scope_type)`: ids of the scopes of that type where it is held.

All are STABLE and SECURITY INVOKER (the app role may read the rbac and accounts tables anyway),
with schema-qualified names, so a caller's search_path cannot change what they read.
"""

from django.conf import settings
from django.db import migrations

FUNCTIONS = r"""
CREATE SCHEMA IF NOT EXISTS rls;
REVOKE ALL ON SCHEMA rls FROM PUBLIC;

CREATE OR REPLACE FUNCTION rls.context() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(pg_catalog.current_setting('app.context', true), '')
$$;

CREATE OR REPLACE FUNCTION rls.is_system() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT rls.context() OPERATOR(pg_catalog.=) 'system'
$$;

CREATE OR REPLACE FUNCTION rls.user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN rls.context() OPERATOR(pg_catalog.=) 'request'
        THEN NULLIF(pg_catalog.current_setting('app.current_user_id', true), '')::uuid
    END
$$;

CREATE OR REPLACE FUNCTION rls.permission_scopes(permission text)
RETURNS TABLE (scope_type text, scope_id uuid)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH RECURSIVE live AS (
        SELECT g.id, g.role_id, g.scope_type, g.scope_id
        FROM "rbac"."role_grant" g
        JOIN "accounts"."user" u ON u.id = g.user_id
        WHERE g.user_id = rls.user_id()
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
    SELECT DISTINCT live.scope_type::text, live.scope_id
    FROM chain
    JOIN live ON live.id = chain.grant_id
    JOIN "rbac"."role_permission" rp ON rp.role_id = chain.role_id
    JOIN "rbac"."permission" p ON p.id = rp.permission_id
    WHERE p.name = permission
$$;

CREATE OR REPLACE FUNCTION rls.holds(permission text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (
        SELECT 1 FROM "accounts"."user" u
        WHERE u.id = rls.user_id() AND u.is_superuser AND u.is_active AND u.deleted_at IS NULL
    ) OR EXISTS (
        SELECT 1 FROM rls.permission_scopes(permission) s WHERE s.scope_type = 'global'
    )
$$;

CREATE OR REPLACE FUNCTION rls.scope_ids(permission text, kind text) RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(pg_catalog.array_agg(s.scope_id), '{}')
    FROM rls.permission_scopes(permission) s
    WHERE s.scope_type = kind
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS rls.scope_ids(text, text);
DROP FUNCTION IF EXISTS rls.holds(text);
DROP FUNCTION IF EXISTS rls.permission_scopes(text);
DROP FUNCTION IF EXISTS rls.user_id();
DROP FUNCTION IF EXISTS rls.is_system();
DROP FUNCTION IF EXISTS rls.context();
DROP SCHEMA IF EXISTS rls;
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        cursor.execute(f"GRANT USAGE ON SCHEMA rls TO {_quote(settings.DATABASE_APP_ROLE)}")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("rbac", "0002_builtin_roles"),
        ("accounts", "0002_profile_preferences_soft_delete"),
    ]
    operations = [migrations.RunPython(create, drop)]
