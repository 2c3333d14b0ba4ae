"""The database refuses what the services refuse, when the application is bypassed (raw SQL)."""

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from apps.content.models import Category, Course, Lesson
from tests.content.factories import (
    QUIZ_CONFIG,
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    LessonPlanFactory,
    ModuleFactory,
    published,
)

pytestmark = pytest.mark.django_db


def run(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def refused(statement: str, params=()) -> str:
    """Run SQL that must fail; return the database's message and the constraint it names."""
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        run(statement, params)
    return f"{info.value} [{info.value.__cause__.diag.constraint_name}]"


def insert_category(name, parent_id=None):
    return run(
        """INSERT INTO "content"."category"
           (id, created_at, updated_at, name, slug, description, parent_id, level, path,
            is_active, metadata)
           VALUES (%s, now(), now(), %s, %s, '', %s, 1, '', true, '{}') RETURNING level, path""",
        [uuid.uuid4(), name, name.lower().replace(" ", "-"), parent_id],
    )[0]


# -- categories ---------------------------------------------------------------------------


def test_the_tree_trigger_keeps_level_and_path_from_the_parent():
    root = CategoryFactory()
    level, path = insert_category("child", root.id)
    assert level == 2
    assert path == f"/{root.id.hex}/" + path.split("/")[2] + "/"
    assert path.startswith(root.path)


def test_a_sixth_level_is_refused():
    node = CategoryFactory()
    for _ in range(4):
        node = CategoryFactory(parent=node)
    assert node.level == 5
    message = refused(
        """INSERT INTO "content"."category"
           (id, created_at, updated_at, name, slug, description, parent_id, level, path,
            is_active, metadata)
           VALUES (gen_random_uuid(), now(), now(), 'deep', 'deep', '', %s, 1, '', true, '{}')""",
        [node.id],
    )
    assert "category_level_range" in message


def test_a_cycle_is_refused_and_a_move_carries_the_subtree():
    a = CategoryFactory()
    b = CategoryFactory(parent=a)
    c = CategoryFactory(parent=b)
    message = refused('UPDATE "content"."category" SET parent_id = %s WHERE id = %s', [c.id, a.id])
    assert "category cycle" in message
    assert "category cycle" in refused(
        'UPDATE "content"."category" SET parent_id = id WHERE id = %s', [a.id]
    )
    other = CategoryFactory()
    run('UPDATE "content"."category" SET parent_id = %s WHERE id = %s', [other.id, b.id])
    c.refresh_from_db()
    assert c.level == 3
    assert c.path == f"/{other.id.hex}/{b.id.hex}/{c.id.hex}/"
    subtree = run(
        'SELECT id FROM "content"."category" WHERE path LIKE %s ORDER BY level', [other.path + "%"]
    )
    assert [row[0] for row in subtree] == [other.id, b.id, c.id]


def test_moving_a_subtree_beyond_level_five_is_refused():
    top = CategoryFactory()
    chain = [top]
    for _ in range(2):
        chain.append(CategoryFactory(parent=chain[-1]))  # levels 1..3
    deep = CategoryFactory()
    for _ in range(2):
        deep = CategoryFactory(parent=deep)  # level 3
    assert "category_level_range" in refused(
        'UPDATE "content"."category" SET parent_id = %s WHERE id = %s', [deep.id, top.id]
    )


def test_category_metadata_must_be_an_object():
    category = CategoryFactory()
    assert "category_metadata_object" in refused(
        """UPDATE "content"."category" SET metadata = '[1]' WHERE id = %s""", [category.id]
    )


# -- courses ------------------------------------------------------------------------------


def test_a_course_starts_as_a_draft():
    course = CourseFactory()
    assert course.status == "draft"
    message = refused(
        """INSERT INTO "content"."course" SELECT * FROM "content"."course" WHERE id = %s""",
        [course.id],
    )
    # a copied row is refused: either the status rule or the unique slug/id fires first
    assert "course" in message
    message = refused(
        'UPDATE "content"."course" SET status = %s WHERE id = %s', ["published", course.id]
    )
    assert "illegal course status transition: draft -> published" in message


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        (["review", "published"], "draft"),
        (["review", "published", "archived"], "published"),
        (["review"], "archived"),
    ],
)
def test_illegal_transitions_are_refused(path, illegal):
    course = CourseFactory()
    for status in path:
        run('UPDATE "content"."course" SET status = %s WHERE id = %s', [status, course.id])
    message = refused(
        'UPDATE "content"."course" SET status = %s WHERE id = %s', [illegal, course.id]
    )
    assert "course_status_transition" in message or "illegal course status transition" in message


def test_publishing_sets_published_at():
    course = published(CourseFactory())
    assert course.published_at is not None


def test_duplicate_slug_is_refused_even_for_a_deleted_course():
    course = CourseFactory(slug="algebra-one")
    run('UPDATE "content"."course" SET deleted_at = now() WHERE id = %s', [course.id])
    other = CourseFactory()
    assert (
        "unique"
        in refused(
            'UPDATE "content"."course" SET slug = %s WHERE id = %s', ["algebra-one", other.id]
        ).lower()
    )


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        ("access_type = 'free', price_minor = 100", "course_free_iff_price_zero"),
        ("access_type = 'paid', price_minor = 0", "course_free_iff_price_zero"),
        ("access_type = 'subscription', price_minor = 0", "course_free_iff_price_zero"),
        ("access_type = 'gift'", "course_access_type_valid"),
        ("currency = 'usd'", "course_currency_iso"),
        ("max_enrollments = 0", "course_max_enrollments_positive"),
        ("level = 'expert'", "course_level_valid"),
        ("visibility = 'secret'", "course_visibility_valid"),
        ("slug = 'Not A Slug'", "course_slug_format"),
    ],
)
def test_course_checks(assignment, constraint):
    course = CourseFactory()
    assert constraint in refused(
        f'UPDATE "content"."course" SET {assignment} WHERE id = %s', [course.id]
    )


def test_a_course_cannot_require_itself():
    course = CourseFactory()
    assert "course_prerequisite_not_self" in refused(
        """INSERT INTO "content"."course_prerequisite" (id, course_id, prerequisite_id)
           VALUES (gen_random_uuid(), %s, %s)""",
        [course.id, course.id],
    )


def test_search_vector_is_kept_by_the_trigger_with_weights():
    course = CourseFactory(title="Photosynthesis", description="Plants and light", tags=["biology"])
    rows = run('SELECT search_vector::text FROM "content"."course" WHERE id = %s', [course.id])
    vector = rows[0][0]
    assert "'photosynthesi':1A" in vector
    assert "'plant':" in vector and "B" in vector
    assert "'biolog':" in vector and "C" in vector
    run('UPDATE "content"."course" SET title = %s WHERE id = %s', ["Respiration", course.id])
    assert (
        "respir"
        in run('SELECT search_vector::text FROM "content"."course" WHERE id = %s', [course.id])[0][
            0
        ]
    )


# -- modules and lessons ------------------------------------------------------------------


def test_positions_are_unique_per_parent_but_checked_at_commit():
    module = ModuleFactory()
    first = LessonFactory(module=module, position=1)
    second = LessonFactory(module=module, position=2)
    # swapping inside one transaction is fine: the constraint is deferred
    with transaction.atomic():
        run('UPDATE "content"."lesson" SET position = 2 WHERE id = %s', [first.id])
        run('UPDATE "content"."lesson" SET position = 1 WHERE id = %s', [second.id])
        run("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="lesson_position_unique"), transaction.atomic():
        run('UPDATE "content"."lesson" SET position = 1 WHERE id = %s', [first.id])
        run("SET CONSTRAINTS ALL IMMEDIATE")


def test_unknown_lesson_type_is_refused():
    lesson = LessonFactory()
    assert "lesson_type_valid" in refused(
        """UPDATE "content"."lesson" SET lesson_type = 'podcast' WHERE id = %s""", [lesson.id]
    )


def test_unlock_conditions_must_name_lessons_of_the_same_course():
    lesson = LessonFactory()
    sibling = LessonFactory(module=lesson.module)
    stranger = LessonFactory()
    ok = [
        {"type": "after_lesson", "lesson": str(sibling.id)},
        {"type": "after_date", "date": "2027-01-01"},
    ]
    run(
        'UPDATE "content"."lesson" SET unlock_conditions = %s WHERE id = %s',
        [json.dumps(ok), lesson.id],
    )
    bad = [{"type": "after_lesson", "lesson": str(stranger.id)}]
    message = refused(
        'UPDATE "content"."lesson" SET unlock_conditions = %s WHERE id = %s',
        [json.dumps(bad), lesson.id],
    )
    assert "not in the same course" in message
    for conditions in (
        {"type": "after_date"},
        [{"type": "after_date", "date": "soon"}],
        [{"type": "teleport"}],
        [{"type": "after_lesson", "lesson": str(lesson.id)}],
        [{"type": "min_score", "quiz": str(uuid.uuid4()), "score": 50}],
    ):
        assert "lesson_unlock_conditions" in refused(
            'UPDATE "content"."lesson" SET unlock_conditions = %s WHERE id = %s',
            [json.dumps(conditions), lesson.id],
        )


# -- interactive content ------------------------------------------------------------------


def insert_content(lesson, content_type, configuration):
    run(
        """INSERT INTO "content"."interactive_content"
           (id, created_at, updated_at, lesson_id, title, content_type, configuration,
            schema_version)
           VALUES (gen_random_uuid(), now(), now(), %s, 'x', %s, %s, '1.0')""",
        [lesson.id, content_type, json.dumps(configuration)],
    )


@pytest.mark.parametrize(
    ("content_type", "configuration", "expected"),
    [
        ("quiz", {}, "non-empty questions array"),
        ("quiz", {"questions": []}, "non-empty questions array"),
        (
            "quiz",
            {"questions": [{"id": "q1", "type": "essay", "prompt": "?", "points": 1}]},
            "known type",
        ),
        (
            "quiz",
            {"questions": [{"id": "q1", "type": "true_false", "prompt": "?", "points": 0}]},
            "points > 0",
        ),
        (
            "quiz",
            {"questions": [{"id": "q1", "type": "true_false", "prompt": "?", "points": 1}]},
            "boolean answer",
        ),
        (
            "quiz",
            {
                "questions": [
                    {
                        "id": "q1",
                        "type": "single_choice",
                        "prompt": "?",
                        "points": 1,
                        "choices": [
                            {"id": "a", "text": "a", "correct": True},
                            {"id": "b", "text": "b", "correct": True},
                        ],
                    }
                ]
            },
            "right number of correct",
        ),
        (
            "quiz",
            {"questions": [QUIZ_CONFIG["questions"][1], QUIZ_CONFIG["questions"][1]]},
            "used twice",
        ),
        ("video_interactive", {"video_url": "https://v"}, "video_url and interactions"),
        ("simulation", {"parameters": []}, "simulation_config and parameters"),
        ("game", {}, "unknown interactive content type"),
        ("quiz", [], "configuration must be an object"),
    ],
)
def test_interactive_content_shapes_are_checked_per_type(content_type, configuration, expected):
    lesson = LessonFactory()
    with pytest.raises(IntegrityError, match=expected), transaction.atomic():
        insert_content(lesson, content_type, configuration)


def test_valid_interactive_content_is_accepted_by_sql():
    lesson = LessonFactory()
    insert_content(lesson, "quiz", QUIZ_CONFIG)
    insert_content(lesson, "video_interactive", {"video_url": "https://v", "interactions": []})
    insert_content(lesson, "simulation", {"simulation_config": {}, "parameters": []})
    assert lesson.interactive.count() == 3


# -- lesson plans -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "constraint"),
    [
        ("""lesson_data = '{"colour": "red"}'""", "lesson_plan_lesson_data"),
        ("""lesson_data = '{"difficulty": "brutal"}'""", "lesson_plan_lesson_data"),
        ("""materials = '[1, 2]'""", "lesson_plan_lists"),
        ("""activities = '[{"minutes": 5}]'""", "lesson_plan_activities"),
        ("""status = 'deleted'""", "lesson_plan_status_valid"),
        ("""grade_level = '13'""", "lesson_plan_grade_level_valid"),
        ("""week_of = '2026-11-25'""", "lesson_plan_week_of_monday"),
    ],
)
def test_lesson_plan_checks(assignment, constraint):
    plan = LessonPlanFactory()
    assert constraint in refused(
        f'UPDATE "content"."lesson_plan" SET {assignment} WHERE id = %s', [plan.id]
    )


def test_objective_links_need_an_existing_quiz_question():
    lesson = LessonFactory()
    insert_content(lesson, "quiz", QUIZ_CONFIG)
    quiz = lesson.interactive.get()
    plan = LessonPlanFactory()
    objective = plan.objectives.create(text="Add small numbers", position=1)
    statement = """INSERT INTO "content"."objective_question"
                   (id, objective_id, quiz_id, question_id)
                   VALUES (gen_random_uuid(), %s, %s, %s)"""
    run(statement, [objective.id, quiz.id, "q1"])
    assert "objective_question_exists" in refused(statement, [objective.id, quiz.id, "q99"])


def test_every_content_table_is_audited():
    course = CourseFactory(title="Before")
    run('UPDATE "content"."course" SET title = %s WHERE id = %s', ["After", course.id])
    rows = run(
        'SELECT pgh_label, title FROM "audit"."content_course_event" '
        "WHERE pgh_obj_id = %s ORDER BY pgh_id",
        [course.id],
    )
    assert rows == [("insert", "Before"), ("update", "After")]
    tables = {
        row[0]
        for row in run(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit' "
            "AND table_name LIKE 'content_%%'"
        )
    }
    assert {
        "content_category_event",
        "content_course_event",
        "content_course_prerequisite_event",
        "content_module_event",
        "content_lesson_event",
        "content_interactive_content_event",
        "content_lesson_plan_event",
        "content_objective_event",
        "content_objective_question_event",
    } <= tables


def test_default_manager_hides_soft_deleted_courses():
    course = CourseFactory()
    Course.all_objects.filter(pk=course.pk).update(deleted_at="2026-01-01T00:00:00Z")
    assert not Course.objects.filter(pk=course.pk).exists()
    assert Course.all_objects.filter(pk=course.pk).exists()
    assert Category.objects.count() >= 1 and Lesson.objects.count() == 0
