"""The benchmark data generator (manage.py generate_scale, docs/performance.md) at a tiny scale:
every stage loads rows that satisfy the database's rules, activity spreads over monthly
partitions, the views are refreshed and recorded, the caches' versions move as the disabled
triggers would have moved them, and a second run resumes (nothing left to do)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

# The command commits a transaction per stage (as it runs on a database of its own).
pytestmark = pytest.mark.django_db(transaction=True)


def scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


@pytest.fixture
def stage_table():
    """The command's own bookkeeping table (not a model: flushing leaves it)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS public.bench_generate_stage")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS public.bench_generate_stage")


def test_generate_scale_loads_every_stage_and_resumes(stage_table):
    # None after an earlier transactional test flushed the tables
    version_before = scalar("SELECT version FROM content.catalog_version WHERE id = 1")
    out = io.StringIO()
    call_command("generate_scale", "--scale", "0.001", stdout=out)
    assert scalar("SELECT count(*) FROM accounts.user") >= 100
    assert scalar("SELECT count(*) FROM content.course") >= 20
    assert scalar("SELECT count(*) FROM progress.enrollment") >= 1000
    assert scalar("SELECT count(*) FROM progress.lesson_progress") > 1000
    assert scalar("SELECT count(*) FROM assistants.memory") == 1000
    # 10,000 activity rows over the last year, each in its month's partition (a year back from
    # today touches 12 or 13 calendar months)
    assert scalar("SELECT count(*) FROM progress.activity") == 10_000
    assert scalar("SELECT count(DISTINCT tableoid) FROM progress.activity") in (12, 13)

    # one course with 1,000 lessons x scale (the outline's course) and its structure version
    assert (
        scalar(
            "SELECT count(*) FROM content.lesson l JOIN content.module m ON m.id = l.module_id "
            "JOIN content.course c ON c.id = m.course_id WHERE c.slug = 'bench-course-0'"
        )
        >= 1
    )
    assert (
        scalar(
            "SELECT count(*) FROM content.course c LEFT JOIN content.course_structure s "
            "ON s.course_id = c.id WHERE s.version IS NULL"
        )
        == 0
    )
    version_after = scalar("SELECT version FROM content.catalog_version WHERE id = 1")
    assert version_after is not None and version_after != version_before
    # every view refreshed, as beat records it (dashboards cache their figures per refresh)
    assert scalar(
        "SELECT count(DISTINCT view) FROM analytics.refresh_run WHERE outcome = 'refreshed'"
    ) == scalar("SELECT count(*) FROM pg_matviews WHERE schemaname = 'analytics'")
    again = io.StringIO()
    call_command("generate_scale", "--scale", "0.001", stdout=again)
    assert again.getvalue().count("already there") >= 7
