"""The progress API: status codes, error bodies, and what each endpoint returns."""

import pytest

from apps.progress import services
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, published
from tests.progress.conftest import RIGHT_ANSWERS

pytestmark = pytest.mark.django_db
BASE = "/api/v1/progress"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_enroll_list_and_detail(api_client, learner, course):
    api_client.force_authenticate(learner)
    created = api_client.post(f"{BASE}/enrollments/", {"course": str(course.pk)})
    assert created.status_code == 201
    enrollment_id = created.json()["id"]
    assert api_client.get(f"{BASE}/enrollments/").json()["count"] == 1
    detail = api_client.get(f"{BASE}/enrollments/{enrollment_id}/").json()
    states = [lesson["state"] for m in detail["outline"] for lesson in m["lessons"]]
    assert states == ["available"] * 4
    assert detail["resume_lesson"] == str(course.test_lessons[0].pk)


def test_enroll_errors(api_client, learner, course):
    api_client.force_authenticate(learner)
    api_client.post(f"{BASE}/enrollments/", {"course": str(course.pk)})
    again = api_client.post(f"{BASE}/enrollments/", {"course": str(course.pk)})
    assert (again.status_code, error_code(again)) == (409, "already_enrolled")
    full = published(CourseFactory(max_enrollments=1))
    services.enrollment_create(user=UserFactory(), course=full)
    response = api_client.post(f"{BASE}/enrollments/", {"course": str(full.pk)})
    assert (response.status_code, error_code(response)) == (409, "course_full")
    draft = CourseFactory()
    assert api_client.post(f"{BASE}/enrollments/", {"course": str(draft.pk)}).status_code == 404
    bad = api_client.post(f"{BASE}/enrollments/", {"course": "nope"})
    assert bad.status_code == 400 and "course" in bad.json()["error"]["fields"]


def test_heartbeat_quiz_and_certificate_verification(api_client, learner, course):
    api_client.force_authenticate(learner)
    enrollment = services.enrollment_create(user=learner, course=course)
    url = f"{BASE}/enrollments/{enrollment.pk}"
    for lesson in course.test_lessons[:3]:
        beat = api_client.post(
            f"{url}/progress/",
            {"lesson": str(lesson.pk), "percent": 100, "time_delta_seconds": 30},
            format="json",
        )
        assert beat.status_code == 200
    too_much = api_client.post(
        f"{url}/progress/",
        {"lesson": str(course.test_lessons[0].pk), "percent": 150},
        format="json",
    )
    assert too_much.status_code == 400 and "percent" in too_much.json()["error"]["fields"]
    attempt = api_client.post(
        f"{url}/quiz-attempts/",
        {"quiz": str(course.test_quiz.pk), "answers": RIGHT_ANSWERS},
        format="json",
    )
    assert attempt.status_code == 201 and attempt.json()["passed"] is True
    unknown = api_client.post(
        f"{url}/quiz-attempts/",
        {"quiz": str(course.test_quiz.pk), "answers": {"zz": 1}},
        format="json",
    )
    assert (unknown.status_code, error_code(unknown)) == (409, "enrollment_not_active")
    enrollment.refresh_from_db()
    code = enrollment.certificate.code
    api_client.force_authenticate(None)
    verified = api_client.get(f"{BASE}/certificates/{code.lower()}/")
    assert verified.status_code == 200 and verified.json()["course_title"] == course.title
    assert api_client.get(f"{BASE}/certificates/AAAA-BBBB-CCCC/").status_code == 404


def test_someone_elses_enrollment_is_a_404(api_client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(UserFactory())
    assert api_client.get(f"{BASE}/enrollments/{enrollment.pk}/").status_code == 404
    response = api_client.post(f"{BASE}/enrollments/{enrollment.pk}/drop/")
    assert response.status_code == 404


def test_roster_and_gradebook_for_the_instructor_only(api_client, course):
    learners = [UserFactory() for _ in range(3)]
    for learner in learners:
        services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(UserFactory())
    denied = api_client.get(f"{BASE}/courses/{course.pk}/roster/")
    assert (denied.status_code, error_code(denied)) == (403, "permission_denied")
    api_client.force_authenticate(course.instructor)
    roster = api_client.get(f"{BASE}/courses/{course.pk}/roster/").json()
    assert len(roster["results"]) == 3
    book = api_client.get(f"{BASE}/courses/{course.pk}/gradebook/").json()
    assert len(book["results"]["lessons"]) == 4
    assert len(book["results"]["rows"]) == 3


def test_gradebook_runs_a_constant_number_of_queries(
    api_client, course, django_assert_max_num_queries
):
    api_client.force_authenticate(course.instructor)
    for _ in range(2):
        services.enrollment_create(user=UserFactory(), course=course)
    with django_assert_max_num_queries(12) as small:
        api_client.get(f"{BASE}/courses/{course.pk}/gradebook/")
    for _ in range(20):
        learner = UserFactory()
        enrollment = services.enrollment_create(user=learner, course=course)
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=course.test_lessons[0].pk, percent=50
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        api_client.get(f"{BASE}/courses/{course.pk}/gradebook/")


def test_learner_progress_for_the_instructor(api_client, learner, course):
    services.enrollment_create(user=learner, course=course)
    api_client.force_authenticate(course.instructor)
    body = api_client.get(f"{BASE}/courses/{course.pk}/learners/{learner.pk}/").json()
    assert body["status"] == "active" and len(body["outline"]) == 2
    api_client.force_authenticate(learner)
    assert api_client.get(f"{BASE}/courses/{course.pk}/learners/{learner.pk}/").status_code == 403
