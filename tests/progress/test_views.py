"""Learner and teacher pages."""

import pytest

from apps.progress import services
from apps.progress.models import Enrollment
from tests.accounts.factories import UserFactory
from tests.content.factories import LessonFactory, ModuleFactory
from tests.progress.conftest import RIGHT_ANSWERS

pytestmark = pytest.mark.django_db


def test_enroll_from_the_outline_page(client, learner, course):
    client.force_login(learner)
    page = client.get(f"/learn/{course.slug}/")
    assert b'data-testid="enroll"' in page.content
    response = client.post(f"/learn/{course.slug}/enroll/", follow=True)
    assert Enrollment.objects.filter(user=learner, course=course).exists()
    assert b"You are enrolled" in response.content
    assert response.content.count(b'data-state="available"') == 4


def test_full_course_shows_why(client, learner, course):
    course.max_enrollments = 1
    course.save()
    services.enrollment_create(user=UserFactory(), course=course)
    client.force_login(learner)
    response = client.post(f"/learn/{course.slug}/enroll/", follow=True)
    assert "is full" in response.content.decode()


def test_outline_runs_a_constant_number_of_queries(
    client, learner, course, django_assert_max_num_queries
):
    enrollment = services.enrollment_create(user=learner, course=course)
    client.force_login(learner)
    with django_assert_max_num_queries(25) as small:
        assert client.get(f"/learn/{course.slug}/").status_code == 200
    module = ModuleFactory(course=course, position=3)
    for position in range(1, 41):
        lesson = LessonFactory(module=module, position=position)
        services.lesson_progress_record(enrollment=enrollment, lesson_id=lesson.pk, percent=50)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(f"/learn/{course.slug}/")
    assert response.content.count(b'data-state="in_progress"') == 40


def test_lesson_page_and_quiz_to_certificate(client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    for lesson in course.test_lessons[:3]:
        services.lesson_progress_record(enrollment=enrollment, lesson_id=lesson.pk, percent=100)
    client.force_login(learner)
    quiz_lesson = course.test_lessons[3]
    page = client.get(f"/learn/{course.slug}/lessons/{quiz_lesson.pk}/")
    assert b'data-testid="quiz-form"' in page.content
    response = client.post(
        f"/learn/{course.slug}/lessons/{quiz_lesson.pk}/quiz/",
        {"q-q1": "b", "q-q2": "false", "q-q3": "Paris", "q-q4": ["a", "c"]},
    )
    assert b"Passed" in response.content
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    certificate = client.get(f"/certificates/{enrollment.certificate.code}/")
    assert certificate.status_code == 200
    assert course.title.encode() in certificate.content
    assert client.get("/certificates/AAAA-BBBB-CCCC/").status_code == 404


def test_lessons_need_an_enrollment(client, learner, course):
    client.force_login(learner)
    response = client.get(f"/learn/{course.slug}/lessons/{course.test_lessons[0].pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/learn/{course.slug}/"


def test_roster_gradebook_and_csv_for_the_instructor(client, course):
    learner = UserFactory(first_name="Lee", email="lee@example.org")
    enrollment = services.enrollment_create(user=learner, course=course)
    services.quiz_attempt_submit(
        enrollment=enrollment, quiz_id=course.test_quiz.pk, answers=RIGHT_ANSWERS
    )
    client.force_login(UserFactory())
    assert client.get(f"/teach/{course.slug}/roster/").status_code == 404
    client.force_login(course.instructor)
    assert b"lee@example.org" in client.get(f"/teach/{course.slug}/roster/").content
    assert b"100% (quiz)" in client.get(f"/teach/{course.slug}/gradebook/").content
    csv_response = client.get(f"/teach/{course.slug}/gradebook/", {"format": "csv"})
    lines = b"".join(csv_response.streaming_content).decode().splitlines()
    assert lines[0].startswith("email,name,status,progress %,Intro,Basics,More,Quiz time")
    assert lines[1].startswith("lee@example.org,")
    assert lines[1].endswith(",100.0")


def test_my_learning_lists_enrollments(client, learner, course):
    services.enrollment_create(user=learner, course=course)
    client.force_login(learner)
    page = client.get("/learn/")
    assert page.content.count(b'data-testid="enrollment"') == 1


def test_private_courses_open_to_their_enrolled_learners_only(client, learner, course):
    course.visibility = "private"
    course.save()
    client.force_login(learner)
    assert client.get(f"/courses/{course.slug}/").status_code == 404
    # Staff enroll learners in private courses (the bulk enrollment of the integrator issue).
    Enrollment.objects.create(user=learner, course=course, status="active", total_lessons=4)
    assert client.get(f"/courses/{course.slug}/").status_code == 200
    assert client.get(f"/learn/{course.slug}/").status_code == 200


def test_teacher_sees_one_learners_detail(client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    services.quiz_attempt_submit(enrollment=enrollment, quiz_id=course.test_quiz.pk, answers={})
    client.force_login(course.instructor)
    page = client.get(f"/teach/{course.slug}/learners/{learner.pk}/")
    assert page.status_code == 200
    assert "0%" in page.content.decode() and course.test_quiz.title in page.content.decode()
    client.force_login(UserFactory())
    assert client.get(f"/teach/{course.slug}/learners/{learner.pk}/").status_code == 404


def test_gradebook_page_runs_a_constant_number_of_queries(
    client, course, django_assert_max_num_queries
):
    client.force_login(course.instructor)
    services.enrollment_create(user=UserFactory(), course=course)
    with django_assert_max_num_queries(30) as small:
        client.get(f"/teach/{course.slug}/gradebook/")
    for _ in range(15):
        enrollment = services.enrollment_create(user=UserFactory(), course=course)
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=course.test_lessons[0].pk, percent=40
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(f"/teach/{course.slug}/gradebook/")
    assert response.content.count(b'data-testid="gradebook-row"') == 16


def test_a_suspended_enrollment_cannot_open_lessons(client, learner, course):
    enrollment = services.enrollment_create(user=learner, course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(status="suspended")
    client.force_login(learner)
    response = client.get(f"/learn/{course.slug}/lessons/{course.test_lessons[0].pk}/", follow=True)
    assert "suspended" in response.content.decode()
    assert b'id="lesson"' not in response.content
