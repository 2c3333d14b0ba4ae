"""The materialized views of analytics and the function that refreshes them.

Each view has a UNIQUE index so it can be refreshed CONCURRENTLY: a refresh then takes an
EXCLUSIVE lock, which lets readers (ACCESS SHARE) go on reading the previous contents, instead of
the ACCESS EXCLUSIVE lock of a plain refresh, which would queue every reader behind it.

Only a view's owner may refresh it, and the app role owns nothing, so refreshes go through
`analytics.refresh_view(name)`: SECURITY DEFINER, owned by the migration owner, search_path fixed
to pg_catalog, pg_temp (every name below is schema-qualified), accepting only the view names of
this app, EXECUTE granted to the app role only. It takes a transaction-scoped advisory lock per
view with pg_try_advisory_xact_lock: a second refresh of the same view while one runs returns
'skipped' at once instead of queueing behind it. It returns (outcome, row_total).

Days are UTC days. The revenue summary is a view over zero rows until billing exists.
"""

from django.conf import settings
from django.db import migrations

VIEWS = {
    "user_activity_daily": (
        """
        SELECT a.user_id,
               (a.created_at AT TIME ZONE 'UTC')::date AS day,
               a.activity_type,
               count(*)::bigint AS events,
               coalesce(sum(a.duration_seconds), 0)::bigint AS duration_seconds,
               min(a.created_at) AS first_at,
               max(a.created_at) AS last_at
        FROM progress.activity a
        GROUP BY a.user_id, (a.created_at AT TIME ZONE 'UTC')::date, a.activity_type
        """,
        ["(user_id, day, activity_type)"],
        ["(day)"],
    ),
    "enrollment_trends": (
        """
        WITH events AS (
            SELECT e.course_id, (e.created_at AT TIME ZONE 'UTC')::date AS day,
                   1 AS enrolled, 0 AS completed
            FROM progress.enrollment e
            UNION ALL
            SELECT e.course_id, (e.completed_at AT TIME ZONE 'UTC')::date, 0, 1
            FROM progress.enrollment e
            WHERE e.completed_at IS NOT NULL
        ), daily AS (
            SELECT course_id, day, sum(enrolled)::integer AS enrollments,
                   sum(completed)::integer AS completions
            FROM events
            GROUP BY course_id, day
        )
        SELECT d.course_id, d.day, d.enrollments, d.completions,
               (sum(d.enrollments) OVER w)::bigint AS cumulative_enrollments,
               (sum(d.completions) OVER w)::bigint AS cumulative_completions
        FROM daily d
        WINDOW w AS (PARTITION BY d.course_id ORDER BY d.day)
        """,
        ["(course_id, day)"],
        ["(day)"],
    ),
    "course_performance": (
        """
        SELECT c.id AS course_id, c.title, c.slug, c.status, c.instructor_id, c.category_id,
               count(e.id)::integer AS enrollments,
               (count(e.id) FILTER (WHERE e.status = 'active'))::integer AS active,
               (count(e.id) FILTER (WHERE e.status = 'completed'))::integer AS completed,
               (count(e.id) FILTER (WHERE e.status = 'dropped'))::integer AS dropped,
               round(avg(e.progress_percent), 2) AS avg_progress,
               round(avg(e.average_quiz_score), 2) AS avg_quiz_score,
               coalesce(sum(e.study_time_seconds), 0)::bigint AS study_time_seconds,
               max(e.created_at) AS last_enrolled_at
        FROM content.course c
        LEFT JOIN progress.enrollment e ON e.course_id = c.id
        WHERE c.deleted_at IS NULL
        GROUP BY c.id
        """,
        ["(course_id)"],
        ["(instructor_id)"],
    ),
    "lesson_statistics": (
        """
        WITH viewed AS (
            SELECT a.resource_id AS lesson_id, count(*)::bigint AS views,
                   count(DISTINCT a.user_id)::integer AS viewers
            FROM progress.activity a
            WHERE a.resource_type = 'lesson' AND a.resource_id IS NOT NULL
            GROUP BY a.resource_id
        ), progressed AS (
            SELECT lp.lesson_id, count(*)::integer AS started,
                   (count(*) FILTER (WHERE lp.completed_at IS NOT NULL))::integer AS completed,
                   round(avg(lp.time_spent_seconds), 2) AS avg_time_seconds
            FROM progress.lesson_progress lp
            GROUP BY lp.lesson_id
        ), attempted AS (
            SELECT ic.lesson_id, count(*)::integer AS quiz_attempts,
                   round(avg(qa.percent), 2) AS avg_quiz_percent
            FROM progress.quiz_attempt qa
            JOIN content.interactive_content ic ON ic.id = qa.quiz_id
            GROUP BY ic.lesson_id
        )
        SELECT l.id AS lesson_id, m.course_id, l.module_id, m.position AS module_position,
               l.position, l.title, l.lesson_type,
               coalesce(v.views, 0)::bigint AS views,
               coalesce(v.viewers, 0)::integer AS viewers,
               coalesce(p.started, 0)::integer AS started,
               coalesce(p.completed, 0)::integer AS completed,
               round(100.0 * p.completed / nullif(p.started, 0), 2) AS completion_rate,
               p.avg_time_seconds,
               coalesce(q.quiz_attempts, 0)::integer AS quiz_attempts,
               q.avg_quiz_percent
        FROM content.lesson l
        JOIN content.module m ON m.id = l.module_id
        JOIN content.course c ON c.id = m.course_id AND c.deleted_at IS NULL
        LEFT JOIN viewed v ON v.lesson_id = l.id
        LEFT JOIN progressed p ON p.lesson_id = l.id
        LEFT JOIN attempted q ON q.lesson_id = l.id
        """,
        ["(lesson_id)"],
        ["(course_id)"],
    ),
    "quiz_item_statistics": (
        """
        WITH items AS (
            SELECT qa.quiz_id, r.key AS question_id, count(*)::integer AS attempts,
                   (count(*) FILTER (WHERE r.value->>'correct' = 'true'))::integer AS correct
            FROM progress.quiz_attempt qa
            CROSS JOIN LATERAL jsonb_each(
                CASE WHEN jsonb_typeof(qa.results) = 'object' THEN qa.results
                     ELSE '{}'::jsonb END
            ) r
            GROUP BY qa.quiz_id, r.key
        )
        SELECT i.quiz_id, i.question_id, ic.lesson_id, m.course_id,
               coalesce((SELECT q->>'prompt'
                FROM jsonb_array_elements(
                    CASE WHEN jsonb_typeof(ic.configuration->'questions') = 'array'
                         THEN ic.configuration->'questions' ELSE '[]'::jsonb END
                ) q
                WHERE q->>'id' = i.question_id LIMIT 1), '') AS prompt,
               i.attempts, i.correct,
               round(100.0 * i.correct / i.attempts, 2) AS correct_rate,
               round(100.0 - 100.0 * i.correct / i.attempts, 2) AS difficulty
        FROM items i
        JOIN content.interactive_content ic ON ic.id = i.quiz_id
        JOIN content.lesson l ON l.id = ic.lesson_id
        JOIN content.module m ON m.id = l.module_id
        """,
        ["(quiz_id, question_id)"],
        ["(course_id, difficulty DESC)"],
    ),
    "revenue_summary": (
        """
        SELECT NULL::date AS month, NULL::uuid AS category_id, NULL::varchar(3) AS currency,
               0::integer AS orders, 0::bigint AS gross_minor
        WHERE false
        """,
        ["(month, category_id, currency)"],
        [],
    ),
}

REFRESH = """
CREATE OR REPLACE FUNCTION analytics.refresh_view(name text)
RETURNS TABLE (outcome text, row_total bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    view_name text := $1;
    populated boolean;
BEGIN
    IF view_name IS NULL OR NOT (view_name = ANY (ARRAY[%(names)s])) THEN
        RAISE EXCEPTION 'not an analytics view: %%', view_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('analytics.refresh_view'), hashtext(view_name)) THEN
        outcome := 'skipped';
        row_total := NULL;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT c.relispopulated INTO populated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'analytics' AND c.relname = view_name AND c.relkind = 'm';
    IF populated THEN
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.%%I', view_name);
    ELSE
        EXECUTE format('REFRESH MATERIALIZED VIEW analytics.%%I', view_name);
    END IF;
    EXECUTE format('SELECT count(*) FROM analytics.%%I', view_name) INTO row_total;
    outcome := 'refreshed';
    RETURN NEXT;
END
$$;
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create(apps, schema_editor):
    app = _quote(settings.DATABASE_APP_ROLE)
    with schema_editor.connection.cursor() as cursor:
        for name, (query, unique, indexes) in VIEWS.items():
            cursor.execute(f"CREATE MATERIALIZED VIEW analytics.{name} AS {query} WITH DATA")
            cursor.execute(f"CREATE UNIQUE INDEX {name}_key ON analytics.{name} {unique[0]}")
            for number, columns in enumerate(indexes, 1):
                cursor.execute(f"CREATE INDEX {name}_idx{number} ON analytics.{name} {columns}")
            cursor.execute(f"REVOKE ALL ON analytics.{name} FROM PUBLIC, {app}")
            cursor.execute(f"GRANT SELECT ON analytics.{name} TO {app}")
        names = ", ".join(f"'{name}'" for name in VIEWS)
        cursor.execute(REFRESH % {"names": names})
        cursor.execute("REVOKE ALL ON FUNCTION analytics.refresh_view(text) FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION analytics.refresh_view(text) TO {app}")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS analytics.refresh_view(text)")
        for name in reversed(VIEWS):
            cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS analytics.{name}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
