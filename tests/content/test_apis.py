"""The content API: catalog (constant queries), syllabus, authoring, errors, plans, versions."""

import pytest
from django.urls import reverse

from apps.content.models import Course
from tests.content.factories import (
    QUIZ_CONFIG,
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)

pytestmark = pytest.mark.django_db


def url(name, **kwargs):
    return reverse(f"api:content:{name}", kwargs=kwargs)


def test_catalog_is_public_searchable_and_runs_constant_queries(
    api_client, django_assert_max_num_queries
):
    science = CategoryFactory()
    for n in range(12):
        course = published(CourseFactory(title=f"Biology {n}", category=science))
        LessonFactory(module=ModuleFactory(course=course))
    published(CourseFactory(title="Biology"))
    # the catalog version, the count, the page's ranked ids, its courses (nothing cached yet),
    # plus the audit context the request middleware sets (twice)
    with django_assert_max_num_queries(6):
        response = api_client.get(url("courses"), {"q": "biology", "page_size": 50})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 13
    assert body["results"][0]["title"] == "Biology"
    assert body["results"][1]["lesson_count"] == 1
    response = api_client.get(url("courses"), {"category": science.slug, "price_type": "free"})
    assert response.json()["count"] == 12
    response = api_client.get(url("courses"), {"level": "expert"})
    assert response.status_code == 400
    assert "level" in response.json()["error"]["fields"]


def test_course_detail_nests_the_syllabus_in_constant_queries(
    api_client, django_assert_max_num_queries
):
    course = published(CourseFactory())
    for m in range(3):
        module = ModuleFactory(course=course, position=m + 1)
        for n in range(5):
            LessonFactory(module=module, position=n + 1)
    with django_assert_max_num_queries(8):
        response = api_client.get(url("course", course_id=course.id))
    assert response.status_code == 200
    modules = response.json()["modules"]
    assert [len(m["lessons"]) for m in modules] == [5, 5, 5]
    draft = CourseFactory()
    assert api_client.get(url("course", course_id=draft.id)).status_code == 404


def test_instructor_authoring_flow_and_field_errors(api_client, instructor, admin):
    api_client.force_authenticate(instructor)
    response = api_client.post(
        url("courses"), {"title": "Statistics", "slug": "statistics", "tags": ["maths"]}
    )
    assert response.status_code == 201, response.json()
    course_id = response.json()["id"]
    duplicate = api_client.post(url("courses"), {"title": "Again", "slug": "statistics"})
    assert duplicate.status_code == 400
    assert "slug" in duplicate.json()["error"]["fields"]
    bad_price = api_client.post(
        url("courses"), {"title": "P", "slug": "p", "access_type": "paid", "price_minor": 0}
    )
    assert "price_minor" in bad_price.json()["error"]["fields"]

    module = api_client.post(url("modules", course_id=course_id), {"title": "Basics"}).json()
    lesson = api_client.post(url("lessons", module_id=module["id"]), {"title": "Mean"})
    assert lesson.status_code == 201
    unknown_type = api_client.post(
        url("lessons", module_id=module["id"]), {"title": "X", "lesson_type": "podcast"}
    )
    assert "lesson_type" in unknown_type.json()["error"]["fields"]
    stranger = LessonFactory()
    foreign = api_client.post(
        url("lessons", module_id=module["id"]),
        {"title": "X", "unlock_conditions": [{"type": "after_lesson", "lesson": str(stranger.id)}]},
    )
    assert foreign.status_code == 400
    assert "no lesson" in foreign.json()["error"]["fields"]["unlock_conditions"][0]

    lesson_id = lesson.json()["id"]
    bad_quiz = api_client.post(
        url("interactive_create", lesson_id=lesson_id),
        {"title": "Q", "content_type": "quiz", "configuration": {"questions": "none"}},
        format="json",
    )
    assert bad_quiz.status_code == 400
    assert bad_quiz.json()["error"]["fields"]["configuration"] == [
        "questions: 'none' is not of type 'array'"
    ]
    quiz = api_client.post(
        url("interactive_create", lesson_id=lesson_id),
        {"title": "Q", "content_type": "quiz", "configuration": QUIZ_CONFIG},
        format="json",
    )
    assert quiz.status_code == 201

    illegal = api_client.post(url("course_transition", course_id=course_id), {"status": "archived"})
    assert illegal.status_code == 409
    assert illegal.json()["error"]["code"] == "illegal_transition"
    review = api_client.post(url("course_transition", course_id=course_id), {"status": "review"})
    assert review.json()["status"] == "review"
    published_ = api_client.post(
        url("course_transition", course_id=course_id), {"status": "published"}
    )
    assert published_.json()["status"] == "published"  # a global instructor holds course.publish

    renamed = api_client.patch(url("course", course_id=course_id), {"title": "Statistics 101"})
    assert renamed.json()["title"] == "Statistics 101"
    versions = api_client.get(url("course_versions", course_id=course_id)).json()
    last = versions[-1]["number"]
    diff = api_client.get(
        url("course_version_diff", course_id=course_id), {"from_version": 1, "to_version": last}
    ).json()
    assert diff["course"]["title"] == ["Statistics", "Statistics 101"]
    assert diff["course"]["status"] == ["draft", "published"]


def test_students_cannot_author(api_client, student):
    course = published(CourseFactory())
    api_client.force_authenticate(student)
    assert api_client.post(url("courses"), {"title": "X", "slug": "x"}).status_code == 403
    response = api_client.patch(url("course", course_id=course.id), {"title": "Mine"})
    assert response.status_code == 404
    assert Course.objects.get(pk=course.pk).title != "Mine"


def test_categories_tree_create_and_errors(api_client, admin):
    api_client.force_authenticate(admin)
    parent_id = None
    for depth in range(1, 6):
        response = api_client.post(
            url("categories"), {"name": f"L{depth}", "slug": f"l{depth}", "parent": parent_id}
        )
        assert response.status_code == 201
        parent_id = response.json()["id"]
    too_deep = api_client.post(url("categories"), {"name": "L6", "slug": "l6", "parent": parent_id})
    assert too_deep.status_code == 400
    assert "parent" in too_deep.json()["error"]["fields"]
    tree = api_client.get(url("categories")).json()
    assert tree[0]["children"][0]["children"][0]["name"] == "L3"
    root_id = tree[0]["id"]
    cycle = api_client.post(url("category_move", category_id=root_id), {"parent": parent_id})
    assert cycle.status_code == 400
    assert "cycle" in cycle.json()["error"]["fields"]["parent"][0]


def test_lesson_plans_are_private_to_their_owner(api_client, user, student):
    api_client.force_authenticate(user)
    response = api_client.post(
        url("lesson_plans"),
        {
            "title": "Volcanoes",
            "week_of": "2026-11-25",
            "objectives": ["Explain eruptions"],
            "lesson_data": {"difficulty": "medium"},
            "materials": ["Baking soda"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    plan = response.json()
    assert plan["week_of"] == "2026-11-23"
    assert plan["objectives"][0]["text"] == "Explain eruptions"
    bad = api_client.patch(
        url("lesson_plan", plan_id=plan["id"]), {"lesson_data": {"mood": 1}}, format="json"
    )
    assert "lesson_data" in bad.json()["error"]["fields"]
    copy = api_client.post(url("lesson_plan_duplicate", plan_id=plan["id"]), {})
    assert copy.json()["week_of"] == "2026-11-30"
    week = api_client.get(url("lesson_plans"), {"week_of": "2026-12-02"}).json()
    assert [p["id"] for p in week["results"]] == [copy.json()["id"]]
    api_client.force_authenticate(student)
    assert api_client.get(url("lesson_plan", plan_id=plan["id"])).status_code == 404


def test_the_openapi_schema_builds(api_client):
    response = api_client.get(reverse("api:schema"))
    assert response.status_code == 200
    assert b"/api/v1/content/courses/" in response.content
