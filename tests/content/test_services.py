"""Content services: permissions, validation with field errors, workflow, ordering, plans."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from apps.audit.models import DomainEvent
from apps.content import services
from apps.content.models import Category, Course, Lesson, Module, ObjectiveQuestion
from apps.core.exceptions import ConflictError, PermissionDeniedError
from apps.rbac.selectors import user_can
from tests.accounts.factories import UserFactory
from tests.content.factories import (
    QUIZ_CONFIG,
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)

pytestmark = pytest.mark.django_db


def field_errors(info) -> dict:
    return info.value.message_dict


# -- categories ---------------------------------------------------------------------------


def test_category_create_and_move_keep_the_tree(admin):
    science = services.category_create(actor=admin, name="Science", slug="science")
    physics = services.category_create(actor=admin, name="Physics", slug="physics", parent=science)
    optics = services.category_create(actor=admin, name="Optics", slug="optics", parent=physics)
    assert (science.level, physics.level, optics.level) == (1, 2, 3)
    maths = services.category_create(actor=admin, name="Maths", slug="maths")
    services.category_move(actor=admin, category=physics, parent=maths)
    optics.refresh_from_db()
    assert optics.path == f"{maths.path}{physics.id.hex}/{optics.id.hex}/"


def test_category_level_six_cycle_and_duplicates_give_field_errors(admin):
    node = None
    for depth in range(1, 6):
        node = services.category_create(
            actor=admin, name=f"L{depth}", slug=f"l{depth}", parent=node
        )
    with pytest.raises(ValidationError) as info:
        services.category_create(actor=admin, name="L6", slug="l6", parent=node)
    assert "at most 5 levels" in field_errors(info)["parent"][0]
    root = Category.objects.get(slug="l1")
    with pytest.raises(ValidationError) as info:
        services.category_move(actor=admin, category=root, parent=node)
    assert "cycle" in field_errors(info)["parent"][0]
    with pytest.raises(ValidationError) as info:
        services.category_create(actor=admin, name="Other", slug="l1")
    assert "slug" in field_errors(info)
    with pytest.raises(ValidationError) as info:
        services.category_create(actor=admin, name="l2", slug="again", parent=root)
    assert "name" in field_errors(info)


def test_moving_a_deep_subtree_too_low_is_refused(admin):
    a = services.category_create(actor=admin, name="A", slug="a")
    b = services.category_create(actor=admin, name="B", slug="b", parent=a)
    services.category_create(actor=admin, name="C", slug="c", parent=b)
    x = services.category_create(actor=admin, name="X", slug="x")
    y = services.category_create(actor=admin, name="Y", slug="y", parent=x)
    z = services.category_create(actor=admin, name="Z", slug="z", parent=y)
    with pytest.raises(ValidationError, match="level 6"):
        services.category_move(actor=admin, category=a, parent=z)


def test_categories_need_category_manage(instructor):
    with pytest.raises(PermissionDeniedError):
        services.category_create(actor=instructor, name="Art", slug="art")


# -- courses ------------------------------------------------------------------------------


def test_course_create_gives_the_instructor_object_permissions(admin, student):
    category = CategoryFactory()
    course = services.course_create(
        actor=admin, title="Algebra", slug="algebra", category=category, instructor=student
    )
    other = CourseFactory()
    assert course.status == "draft"
    assert course.created_by == admin
    assert user_can(student, "edit", "course", course)
    assert not user_can(student, "edit", "course", other)
    assert not user_can(student, "publish", "course", course)


def test_instructors_create_their_own_courses_students_cannot(instructor, student):
    course = services.course_create(actor=instructor, title="Chemistry", slug="chemistry")
    assert course.instructor == instructor
    with pytest.raises(PermissionDeniedError):
        services.course_create(actor=student, title="Mine", slug="mine")
    with pytest.raises(PermissionDeniedError):
        services.course_create(actor=instructor, title="X", slug="x", instructor=student)


def test_course_validation_gives_field_errors(instructor):
    services.course_create(actor=instructor, title="Taken", slug="taken")
    cases = [
        ({"slug": "taken"}, "slug"),
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "ok-1", "access_type": "free", "price_minor": 500}, "price_minor"),
        ({"slug": "ok-2", "access_type": "paid", "price_minor": 0}, "price_minor"),
        ({"slug": "ok-3", "level": "expert"}, "level"),
        ({"slug": "ok-4", "max_enrollments": 0}, "max_enrollments"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as info:
            services.course_create(actor=instructor, title="T", **fields)
        assert field in field_errors(info), fields


def test_soft_deleted_slug_stays_reserved(admin):
    course = services.course_create(actor=admin, title="Old", slug="old")
    services.course_soft_delete(actor=admin, course=course)
    assert not Course.objects.filter(slug="old").exists()
    with pytest.raises(ValidationError) as info:
        services.course_create(actor=admin, title="New", slug="old")
    assert "slug" in field_errors(info)


def test_course_update_needs_edit_permission(student, instructor):
    course = CourseFactory()
    with pytest.raises(PermissionDeniedError):
        services.course_update(actor=student, course=course, title="Hacked")
    services.course_update(actor=instructor, course=course, title="Better", tags=["x"])
    course.refresh_from_db()
    assert (course.title, course.tags) == ("Better", ["x"])


def test_prerequisites_cannot_include_the_course_itself(instructor):
    basics = services.course_create(actor=instructor, title="Basics", slug="basics")
    course = services.course_create(
        actor=instructor, title="Next", slug="next", prerequisites=[basics]
    )
    assert list(course.prerequisites.all()) == [basics]
    with pytest.raises(ValidationError) as info:
        services.course_update(actor=instructor, course=course, prerequisites=[course])
    assert "prerequisites" in field_errors(info)


def test_transitions_follow_the_workflow_and_publishing_needs_the_permission(admin, student):
    course = services.course_create(actor=admin, title="Flow", slug="flow", instructor=student)
    with pytest.raises(ConflictError) as info:
        services.course_transition(actor=admin, course=course, to_status="published")
    assert info.value.fields == {"status": ["Not allowed from draft."]}
    services.course_transition(actor=student, course=course, to_status="review")
    with pytest.raises(PermissionDeniedError):
        services.course_transition(actor=student, course=course, to_status="published")
    services.course_transition(actor=admin, course=course, to_status="published")
    assert course.status == "published" and course.published_at is not None
    services.course_transition(actor=admin, course=course, to_status="archived")
    events = DomainEvent.objects.filter(aggregate_id=course.pk).order_by("version")
    assert [(e.event_type, e.data["to"]) for e in events] == [
        ("course.published", "published"),
        ("course.archived", "archived"),
    ]


# -- modules and lessons ------------------------------------------------------------------


def test_modules_insert_and_reorder_keep_positions_unique(instructor):
    course = CourseFactory()
    first = services.module_create(actor=instructor, course=course, title="One")
    second = services.module_create(actor=instructor, course=course, title="Two")
    zero = services.module_create(actor=instructor, course=course, title="Zero", position=1)
    order = lambda: list(Module.objects.filter(course=course).values_list("title", flat=True))  # noqa: E731
    assert order() == ["Zero", "One", "Two"]
    services.module_reorder(
        actor=instructor, course=course, module_ids=[second.id, first.id, zero.id]
    )
    assert order() == ["Two", "One", "Zero"]
    with pytest.raises(ValidationError):
        services.module_reorder(actor=instructor, course=course, module_ids=[second.id])


def test_lessons_reorder(instructor):
    module = ModuleFactory()
    lessons = [
        services.lesson_create(actor=instructor, module=module, title=f"L{i}") for i in range(3)
    ]
    services.lesson_reorder(
        actor=instructor, module=module, lesson_ids=[lesson.id for lesson in reversed(lessons)]
    )
    assert list(Lesson.objects.filter(module=module).values_list("title", "position")) == [
        ("L2", 1),
        ("L1", 2),
        ("L0", 3),
    ]


def test_lesson_type_and_unlock_conditions_are_validated(instructor):
    module = ModuleFactory()
    first = services.lesson_create(actor=instructor, module=module, title="First")
    stranger = LessonFactory()
    with pytest.raises(ValidationError) as info:
        services.lesson_create(actor=instructor, module=module, title="X", lesson_type="podcast")
    assert "lesson_type" in field_errors(info)
    with pytest.raises(ValidationError) as info:
        services.lesson_create(
            actor=instructor,
            module=module,
            title="X",
            unlock_conditions=[{"type": "after_lesson", "lesson": str(stranger.id)}],
        )
    assert "no lesson" in field_errors(info)["unlock_conditions"][0]
    with pytest.raises(ValidationError) as info:
        services.lesson_create(
            actor=instructor, module=module, title="X", unlock_conditions=[{"type": "after_date"}]
        )
    assert "'date' is a required property" in field_errors(info)["unlock_conditions"][0]
    second = services.lesson_create(
        actor=instructor,
        module=module,
        title="Second",
        unlock_conditions=[{"type": "after_lesson", "lesson": str(first.id)}],
    )
    assert second.position == 2


# -- interactive content ------------------------------------------------------------------


def test_quiz_configuration_errors_name_the_place(instructor):
    lesson = LessonFactory()
    bad = {"questions": [{"id": "q1", "type": "true_false", "prompt": "?", "points": 0}]}
    with pytest.raises(ValidationError) as info:
        services.interactive_content_create(
            actor=instructor, lesson=lesson, title="Q", content_type="quiz", configuration=bad
        )
    messages = field_errors(info)["configuration"]
    assert any(m.startswith("questions[0].points:") for m in messages)
    assert any("'answer' is a required property" in m for m in messages)
    with pytest.raises(ValidationError) as info:
        services.interactive_content_create(
            actor=instructor,
            lesson=lesson,
            title="V",
            content_type="video_interactive",
            configuration={"video_url": "https://example.org/v.mp4"},
        )
    assert "'interactions' is a required property" in field_errors(info)["configuration"][0]
    with pytest.raises(ValidationError) as info:
        services.interactive_content_create(
            actor=instructor, lesson=lesson, title="G", content_type="game", configuration={}
        )
    assert "content_type" in field_errors(info)
    quiz = services.interactive_content_create(
        actor=instructor,
        lesson=lesson,
        title="Quiz",
        content_type="quiz",
        configuration=QUIZ_CONFIG,
    )
    assert len(quiz.questions) == 4


# -- lesson plans -------------------------------------------------------------------------


def test_lesson_plans_create_update_duplicate_and_link_questions(instructor):
    teacher = UserFactory()
    plan = services.lesson_plan_create(
        owner=teacher,
        title="Fractions",
        week_of=dt.date(2026, 11, 26),  # a Thursday: stored as that week's Monday
        objectives=["Compare fractions", "Add fractions"],
        materials=["Fraction strips"],
        activities=[{"title": "Warm-up", "minutes": 5}],
        lesson_data={"difficulty": "easy", "duration_minutes": 45},
        grade_level="4",
    )
    assert plan.week_of == dt.date(2026, 11, 23)
    assert [o.text for o in plan.objectives.all()] == ["Compare fractions", "Add fractions"]
    with pytest.raises(ValidationError) as info:
        services.lesson_plan_update(actor=teacher, plan=plan, lesson_data={"colour": "red"})
    assert "lesson_data" in field_errors(info)
    plan.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.lesson_plan_update(actor=UserFactory(), plan=plan, title="Mine")
    copy = services.lesson_plan_duplicate(actor=teacher, plan=plan)
    assert copy.week_of == dt.date(2026, 11, 30)
    assert copy.status == "draft"
    assert [o.text for o in copy.objectives.all()] == ["Compare fractions", "Add fractions"]
    assert list(copy.related_plans.all()) == [plan]

    quiz = services.interactive_content_create(
        actor=instructor,
        lesson=LessonFactory(),
        title="Quiz",
        content_type="quiz",
        configuration=QUIZ_CONFIG,
    )
    objective = plan.objectives.first()
    published(quiz.lesson.module.course)
    services.objective_link_question(
        actor=teacher, objective=objective, quiz=quiz, question_id="q1"
    )
    with pytest.raises(ValidationError):
        services.objective_link_question(
            actor=teacher, objective=objective, quiz=quiz, question_id="nope"
        )
    assert ObjectiveQuestion.objects.filter(objective=objective).count() == 1
    trimmed = {"questions": QUIZ_CONFIG["questions"][1:]}
    with pytest.raises(ConflictError):
        services.interactive_content_update(actor=instructor, item=quiz, configuration=trimmed)


def test_objectives_keep_their_ids_when_edited():
    teacher = UserFactory()
    plan = services.lesson_plan_create(
        owner=teacher, title="P", week_of=dt.date(2026, 11, 23), objectives=["a", "b", "c"]
    )
    ids = list(plan.objectives.values_list("id", flat=True))
    services.lesson_plan_update(actor=teacher, plan=plan, objectives=["a", "B"])
    assert list(plan.objectives.values_list("id", "text")) == [(ids[0], "a"), (ids[1], "B")]
    assert uuid.UUID(str(ids[2])) not in set(plan.objectives.values_list("id", flat=True))
