"""The learner outline at scale (issue 12, docs/performance.md): a pinned query count whatever
the size of the course, the same page as before the fast path, and course lookup that does not
repeat a course once per enrollment."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.content.selectors import course_visible_queryset
from apps.progress import services
from apps.progress.models import Enrollment
from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published

pytestmark = pytest.mark.django_db

# session, user, preferences, course, enrollment, modules with lessons, progress rows (the
# issue's target is at most 8). Tests also see the request transaction's SAVEPOINT and RELEASE
# (it is nested in the test's transaction): those are not counted against the target.
OUTLINE_QUERIES_MAX = 8


def outline_queries(client, slug) -> tuple[int, int]:
    """(all statements, statements other than savepoints) of one outline request."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/learn/{slug}/").status_code == 200
    real = [q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    return len(captured.captured_queries), len(real)


def test_outline_query_count_is_pinned_and_independent_of_size(
    client, learner, course, django_assert_num_queries
):
    enrollment = services.enrollment_create(user=learner, course=course)
    client.force_login(learner)
    client.get(f"/learn/{course.slug}/")  # session and preferences rows exist from now on
    small, real = outline_queries(client, course.slug)
    assert real == 7 <= OUTLINE_QUERIES_MAX
    module = ModuleFactory(course=course, position=3)
    for position in range(1, 61):
        lesson = LessonFactory(module=module, position=position)
        if position <= 30:
            services.lesson_progress_record(
                enrollment=enrollment, lesson_id=lesson.pk, percent=100 if position < 30 else 50
            )
    with django_assert_num_queries(small):
        response = client.get(f"/learn/{course.slug}/")
    html = response.content.decode()
    assert html.count('data-state="done"') == 29
    assert html.count('data-state="in_progress"') == 1
    assert html.count('data-state="available"') == 4 + 30
    # The resume button points at the lesson in progress.
    assert 'data-testid="resume"' in html


def test_outline_html_escapes_links_and_explains_locks(client, learner, course):
    first = course.test_lessons[0]
    first.title = "<b>Intro</b> & more"
    first.save()
    locked = course.test_lessons[2]
    locked.unlock_conditions = [{"type": "after_lesson", "lesson": str(first.pk)}]
    locked.save()
    services.enrollment_create(user=learner, course=course)
    client.force_login(learner)
    html = client.get(f"/learn/{course.slug}/").content.decode()
    assert "&lt;b&gt;Intro&lt;/b&gt; &amp; more" in html
    assert "<b>Intro</b>" not in html
    assert f'href="/learn/{course.slug}/lessons/{first.pk}/"' in html
    assert f"/lessons/{locked.pk}/" not in html  # locked: no link
    assert "Complete “&lt;b&gt;Intro&lt;/b&gt; &amp; more” first." in html
    assert html.count('data-state="locked"') == 1


def test_outline_without_enrollment_has_no_lesson_links(client, course):
    client.force_login(UserFactory())
    html = client.get(f"/learn/{course.slug}/").content.decode()
    assert html.count('data-state="available"') == 4
    assert "/lessons/" not in html


def test_a_course_with_many_learners_opens_once(client, course):
    """Regression: course_visible_queryset joined enrollments under an OR, so a public course
    came back once per enrollment and its outline page failed with more than one learner."""
    for _ in range(3):
        services.enrollment_create(user=UserFactory(), course=course)
    visitor = UserFactory()
    assert course_visible_queryset(user=visitor).filter(pk=course.pk).count() == 1
    client.force_login(visitor)
    assert client.get(f"/learn/{course.slug}/").status_code == 200


def test_private_course_still_opens_for_its_enrolled_learners_only(client, learner):
    course = published(CourseFactory(visibility="private"))
    ModuleFactory(course=course, position=1)
    Enrollment.objects.create(user=learner, course=course)  # as a teacher or bulk job would
    client.force_login(learner)
    assert client.get(f"/learn/{course.slug}/").status_code == 200
    client.force_login(UserFactory())
    assert client.get(f"/learn/{course.slug}/").status_code == 404
