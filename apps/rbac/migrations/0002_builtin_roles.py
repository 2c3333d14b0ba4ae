"""Seed the built-in permissions and roles (apps/rbac/builtin.py, docs/adr/0006-rbac.md)."""

from django.db import migrations

from apps.rbac.builtin import builtin_sync


def seed(apps, schema_editor):
    builtin_sync(
        permission_model=apps.get_model("rbac", "Permission"),
        role_model=apps.get_model("rbac", "Role"),
        role_permission_model=apps.get_model("rbac", "RolePermission"),
    )


class Migration(migrations.Migration):
    dependencies = [("rbac", "0001_initial")]

    # Going back leaves the rows: system roles cannot be deleted, and 0001's reversal drops them.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
