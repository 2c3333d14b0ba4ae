"""Row-level security on the learning tables (docs/adr/0017-row-level-security.md).

- enrollment, activity: the learner (user_id), the course's teachers (course_id in
  progress.rls_teaching_course_ids()), staff holding enrollment.view globally, the system.
- lesson_progress, quiz_attempt, certificate: whoever sees the enrollment (the enrollment's own
  policies apply inside the sub-select), staff, the system.
- activity is partitioned: the parent's policies filter every query through it; each partition
  gets RLS with no policy, so naming a partition directly shows the app role nothing (new
  partitions get the same from lyceum_ensure_monthly_partitions, core 0012).
- progress.certificate_verify(code): the public verification page's narrow way in (SECURITY
  DEFINER): the printed fields of one valid certificate, by its code.
- The capacity trigger counts every seat of a course, not just the rows the enrolling user may
  see: its function becomes SECURITY DEFINER with a fixed search_path.
"""

from django.db import migrations

from apps.core.rls_sql import Via, protect

TEACHING = r"""
CREATE OR REPLACE FUNCTION progress.rls_teaching_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH scopes AS (
        SELECT s.scope_type, s.scope_id FROM rls.permission_scopes('enrollment.view') s
    )
    SELECT COALESCE(pg_catalog.array_agg(t.id), '{}') FROM (
        SELECT c.id FROM "content"."course" c WHERE c.instructor_id = rls.user_id()
        UNION
        SELECT s.scope_id FROM scopes s WHERE s.scope_type = 'course'
        UNION
        SELECT c.id
        FROM scopes s
        JOIN "content"."category" k
          ON k.path LIKE '%/' || pg_catalog.replace(s.scope_id::text, '-', '') || '/%'
        JOIN "content"."course" c ON c.category_id = k.id
        WHERE s.scope_type = 'category'
    ) t
$$;

CREATE OR REPLACE FUNCTION progress.certificate_verify(lookup text)
RETURNS TABLE (
    code varchar, learner_name varchar, course_title varchar, instructor_name varchar,
    issued_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.code, c.learner_name, c.course_title, c.instructor_name, c.issued_at
    FROM "progress"."certificate" c
    WHERE c.code = pg_catalog.upper(pg_catalog.btrim(lookup)) AND c.revoked_at IS NULL
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS progress.certificate_verify(text);
DROP FUNCTION IF EXISTS progress.rls_teaching_course_ids();
"""

# The pgtrigger function of the enrollment capacity trigger, whatever its generated name.
CAPACITY = r"""
DO $$
DECLARE fn regprocedure;
BEGIN
    FOR fn IN
        SELECT t.tgfoid::regprocedure FROM pg_trigger t
        WHERE t.tgrelid = '"progress"."enrollment"'::regclass
          AND pg_catalog.starts_with(t.tgname, 'pgtrigger_enrollment_capacity_')
    LOOP
        EXECUTE 'ALTER FUNCTION ' || fn::text || ' {change}';
    END LOOP;
END
$$;
"""

PARTITIONS = r"""
DO $$
DECLARE part regclass;
BEGIN
    FOR part IN
        SELECT i.inhrelid::regclass FROM pg_inherits i
        WHERE i.inhparent = '"progress"."activity"'::regclass
    LOOP
        EXECUTE 'ALTER TABLE ' || part::text || ' {change} ROW LEVEL SECURITY';
    END LOOP;
END
$$;
"""


def _sql(text: str, change: str = "") -> str:
    # No percent sign in a DO block: under `manage.py migrate` pghistory's context wrapper adds
    # parameters to statements that do not start with CREATE/ALTER/DROP/SELECT, and psycopg then
    # reads a percent sign as a placeholder.
    return text.replace("{change}", change)


ENROLLMENT = Via("enrollment_id", '"progress"."enrollment"', "enrollment")
TABLES = [
    protect(
        '"progress"."enrollment"',
        "enrollment",
        staff_permission="enrollment.view",
        owner="user_id",
        teaching="course_id",
    ),
    protect(
        '"progress"."lesson_progress"',
        "lesson_progress",
        staff_permission="enrollment.view",
        via=ENROLLMENT,
    ),
    protect(
        '"progress"."quiz_attempt"',
        "quiz_attempt",
        staff_permission="enrollment.view",
        via=ENROLLMENT,
    ),
    protect(
        '"progress"."certificate"',
        "certificate",
        staff_permission="enrollment.view",
        via=ENROLLMENT,
    ),
    protect(
        '"progress"."activity"',
        "activity",
        staff_permission="enrollment.view",
        owner="user_id",
        teaching="course_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("progress", "0004_enrollment_type_subscription"),
        ("rbac", "0003_row_level_security"),
        ("core", "0012_partitions_inherit_rls"),
    ]
    operations = [
        migrations.RunSQL(_sql(TEACHING), _sql(DROP_FUNCTIONS)),
        migrations.RunSQL(
            _sql(CAPACITY, "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"),
            _sql(CAPACITY, "SECURITY INVOKER RESET search_path"),
        ),
        *(migrations.RunSQL(forward, reverse) for forward, reverse in TABLES),
        migrations.RunSQL(_sql(PARTITIONS, "ENABLE"), _sql(PARTITIONS, "DISABLE")),
    ]
