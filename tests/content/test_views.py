"""Pages: catalog (constant queries), course, lesson preview, versions, my courses, planner;
admin authoring with field errors and workflow actions."""

import datetime as dt

import pytest
from django.urls import reverse

from apps.content.models import Category, Course, LessonPlan
from tests.content.factories import (
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    LessonPlanFactory,
    ModuleFactory,
    published,
)

pytestmark = pytest.mark.django_db


def test_catalog_searches_filters_and_runs_constant_queries(client, django_assert_max_num_queries):
    science = CategoryFactory(name="Science")
    for n in range(15):
        course = published(CourseFactory(title=f"Chemistry {n}", category=science))
        LessonFactory(module=ModuleFactory(course=course))
    published(CourseFactory(title="Chemistry"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("content:catalog"), {"q": "chemistry"})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 16
    assert page.object_list[0].title == "Chemistry"
    response = client.get(reverse("content:catalog"), {"category": science.slug, "q": "chemstry"})
    assert response.context["page"].paginator.count == 15
    assert "Catalog" in client.get(reverse("core:home")).content.decode()


def test_course_page_shows_syllabus_instructor_prerequisites(client):
    basics = published(CourseFactory(title="Basics"))
    course = published(CourseFactory(title="Organic Chemistry"))
    course.prerequisites.add(basics)
    module = ModuleFactory(course=course, title="Carbon")
    preview = LessonFactory(module=module, title="Bonds", is_preview=True)
    LessonFactory(module=module, title="Rings")
    body = client.get(reverse("content:course", args=[course.slug])).content.decode()
    assert "Carbon" in body and "Rings" in body and "Basics" in body
    assert course.instructor.get_full_name() in body
    assert reverse("content:lesson", args=[course.slug, preview.id]) in body
    assert 'data-testid="enroll-button"' in body
    assert client.get(reverse("content:course", args=[CourseFactory().slug])).status_code == 404


def test_lesson_preview_page_and_locked_lessons(client):
    course = published(CourseFactory())
    module = ModuleFactory(course=course)
    first = LessonFactory(module=module, title="Intro", is_preview=True)
    locked = LessonFactory(
        module=module,
        is_preview=True,
        unlock_conditions=[{"type": "after_lesson", "lesson": str(first.id)}],
    )
    hidden = LessonFactory(module=module)
    response = client.get(reverse("content:lesson", args=[course.slug, locked.id]))
    assert "Complete “Intro” first." in response.content.decode()
    assert client.get(reverse("content:lesson", args=[course.slug, hidden.id])).status_code == 404


def test_versions_page_shows_a_diff_for_editors(client, instructor, user):
    course = CourseFactory(title="One", instructor=instructor)
    Course.all_objects.filter(pk=course.pk).update(title="Two")
    client.force_login(instructor)
    response = client.get(
        reverse("content:course_versions", args=[course.slug]), {"from": 1, "to": 2}
    )
    assert response.status_code == 200
    assert response.context["diff"]["course"]["title"] == ["One", "Two"]
    client.force_login(user)
    assert client.get(reverse("content:course_versions", args=[course.slug])).status_code == 404


def test_my_courses_lists_every_status(client, user):
    CourseFactory(title="Drafty", instructor=user)
    published(CourseFactory(title="Live", instructor=user))
    CourseFactory(title="Someone else's")
    client.force_login(user)
    body = client.get(reverse("content:my_courses")).content.decode()
    assert "Drafty" in body and "Live" in body and "Someone else" not in body


def test_planner_create_errors_edit_duplicate_and_week_view(client, user):
    client.force_login(user)
    response = client.post(
        reverse("content:plan_create"),
        {
            "title": "Fractions",
            "week_of": "2026-11-25",
            "status": "draft",
            "objectives": "Compare\nAdd",
            "lesson_data": '{"difficulty": "impossible"}',
            "activities": "[]",
        },
    )
    assert response.status_code == 200
    assert "lesson_data" in response.context["form"].errors
    response = client.post(
        reverse("content:plan_create"),
        {
            "title": "Fractions",
            "week_of": "2026-11-25",
            "status": "draft",
            "objectives": "Compare\nAdd",
            "lesson_data": '{"difficulty": "easy"}',
            "activities": '[{"title": "Warm-up", "minutes": 5}]',
            "tags": "maths, grade 4",
        },
    )
    assert response.status_code == 302
    plan = LessonPlan.objects.get(owner=user)
    assert plan.week_of == dt.date(2026, 11, 23) and plan.tags == ["maths", "grade 4"]
    edit = client.get(reverse("content:plan_edit", args=[plan.id]))
    assert "Compare\nAdd" in edit.content.decode()
    client.post(reverse("content:plan_duplicate", args=[plan.id]))
    week = client.get(reverse("content:planner"), {"week": "2026-12-03"})
    assert [p.title for _, plans in week.context["weeks"] for p in plans] == ["Fractions (copy)"]
    other = LessonPlanFactory()
    assert client.get(reverse("content:plan_edit", args=[other.id])).status_code == 404


# -- admin --------------------------------------------------------------------------------


def test_admin_category_form_refuses_level_six_and_cycles(verified_staff_client):
    node = CategoryFactory()
    root = node
    for _ in range(4):
        node = CategoryFactory(parent=node)
    add = reverse("admin:content_category_add")
    response = verified_staff_client.post(
        add,
        {"name": "Deep", "slug": "deep", "parent": node.id, "metadata": "{}", "is_active": "on"},
    )
    assert "at most 5 levels" in str(response.context["adminform"].form.errors["parent"])
    change = reverse("admin:content_category_change", args=[root.id])
    response = verified_staff_client.post(
        change, {"name": root.name, "slug": root.slug, "parent": node.id, "metadata": "{}"}
    )
    assert "cycle" in str(response.context["adminform"].form.errors["parent"])
    assert Category.objects.get(pk=root.pk).parent_id is None


def test_admin_interactive_content_shows_json_errors_on_the_field(verified_staff_client):
    lesson = LessonFactory()
    response = verified_staff_client.post(
        reverse("admin:content_interactivecontent_add"),
        {
            "lesson": lesson.id,
            "title": "Quiz",
            "content_type": "quiz",
            "configuration": '{"questions": [{"id": "q1"}]}',
            "schema_version": "1.0",
        },
    )
    errors = response.context["adminform"].form.errors["configuration"]
    assert any("questions[0]: 'type' is a required property" in e for e in errors)


def test_admin_publish_and_archive_actions(verified_staff_client):
    course = CourseFactory()
    changelist = reverse("admin:content_course_changelist")
    verified_staff_client.post(changelist, {"action": "publish", "_selected_action": [course.id]})
    course.refresh_from_db()
    assert course.status == "draft"  # draft cannot be published directly
    for action in ("send_to_review", "publish"):
        verified_staff_client.post(changelist, {"action": action, "_selected_action": [course.id]})
    course.refresh_from_db()
    assert course.status == "published"
    verified_staff_client.post(changelist, {"action": "archive", "_selected_action": [course.id]})
    course.refresh_from_db()
    assert course.status == "archived"
    page = verified_staff_client.get(reverse("admin:content_course_change", args=[course.id]))
    assert page.status_code == 200
