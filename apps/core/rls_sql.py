"""SQL that migrations use to put a table under row-level security (docs/adr/0017).

Migrations call `protect(...)`, so what a policy says is written once. Migrations that already
ran keep the SQL they ran: change a policy by adding a migration, never by editing this module in
a way that changes what an existing call produces.

Every protected table gets RLS enabled (the app role does not own it, so ENABLE is enough; the
owner role, which runs migrations and tests, bypasses RLS as table owner) and explicit permissive
policies, each for every command (USING for reads, updates and deletes, WITH CHECK for the new
row of inserts and updates):

- `<name>_system`: the system context (tasks, commands, `rls.system_context()`);
- `<name>_staff`: a signed-in user holding `staff_permission` globally (or a superuser);
- `<name>_owner`: the row's owner column is the signed-in user;
- `<name>_teaching`: the row's course is one the user teaches or has `enrollment.view` on
  (`progress.rls_teaching_course_ids()`);
- `<name>_via_<parent>`: the parent row (through the foreign key) is visible, by the parent's
  own policies.

Function calls are wrapped in a scalar sub-select so PostgreSQL runs each once per statement (an
InitPlan), not once per row.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Via:
    """Visibility borrowed from a parent table: `column` references `parent`'s `id`."""

    column: str
    parent: str  # quoted, schema-qualified: '"billing"."order"'
    label: str  # for the policy name


def _policy(table: str, name: str, condition: str) -> str:
    return f"CREATE POLICY {name} ON {table} FOR ALL USING ({condition}) WITH CHECK ({condition});"


def protect(
    table: str,
    name: str,
    *,
    staff_permission: str,
    owner: str | None = None,
    teaching: str | None = None,
    via: Via | None = None,
) -> tuple[str, str]:
    """(forward, reverse) SQL enabling row-level security on `table` with its policies."""
    policies = [
        (f"{name}_system", "(SELECT rls.is_system())"),
        (f"{name}_staff", f"(SELECT rls.holds('{staff_permission}'))"),
    ]
    if owner:
        policies.append((f"{name}_owner", f"{owner} = (SELECT rls.user_id())"))
    if teaching:
        policies.append(
            (
                f"{name}_teaching",
                f"{teaching} = ANY ((SELECT progress.rls_teaching_course_ids())::uuid[])",
            )
        )
    if via:
        policies.append(
            (
                f"{name}_via_{via.label}",
                # Identifiers written in migrations, never input.
                f"{via.column} IN (SELECT p.id FROM {via.parent} p)",  # noqa: S608
            )
        )
    forward = [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"]
    forward += [_policy(table, policy, condition) for policy, condition in policies]
    reverse = [f"DROP POLICY IF EXISTS {policy} ON {table};" for policy, _ in policies]
    reverse.append(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
    return "\n".join(forward), "\n".join(reverse)


def via_exists(table: str, name: str, via: Via) -> tuple[str, str]:
    """(forward, reverse) SQL turning `protect(..., via=via)`'s `<name>_via_<label>` policy into
    a correlated `EXISTS` (progress 0007, billing 0004, assistants 0005).

    `column IN (SELECT p.id FROM parent p)`, OR'ed with the other policies, cannot become a
    semi-join: PostgreSQL plans it as a subplan over every parent row the user may see (a
    sequential scan of all enrollments, filtered by the parent's policies, for a teacher), and
    searches it for each child row. `EXISTS (SELECT 1 FROM parent p WHERE p.id = column)` is one
    primary-key probe per child row (the parent's policies then apply to that one row), or a
    hashed subplan where the planner finds that cheaper. Same rows either way.
    """
    relation = table.rsplit(".", 1)[-1]  # the bare table name qualifies the outer column
    policy = f"{name}_via_{via.label}"
    # Identifiers written in migrations, never input.
    exists = f"EXISTS (SELECT 1 FROM {via.parent} p WHERE p.id = {relation}.{via.column})"  # noqa: S608
    before = f"{via.column} IN (SELECT p.id FROM {via.parent} p)"  # noqa: S608

    def alter(condition: str) -> str:
        return f"ALTER POLICY {policy} ON {table} USING ({condition}) WITH CHECK ({condition});"

    return alter(exists), alter(before)
