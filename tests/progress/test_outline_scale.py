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

# session, user, preferences, course (with its structure version), enrollment, progress rows,
# and the modules with their lessons when this process has not cached them under that version
# (the target is at most 8). Tests also see the request transaction's SAVEPOINT and RELEASE
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
    # Session and preferences rows exist from now on, and this process caches the structure.
    client.get(f"/learn/{course.slug}/")
    small, real = outline_queries(client, course.slug)
    assert real == 6 <= OUTLINE_QUERIES_MAX - 1
    module = ModuleFactory(course=course, position=3)
    for position in range(1, 61):
        lesson = LessonFactory(module=module, position=position)
        if position <= 30:
            services.lesson_progress_record(
                enrollment=enrollment, lesson_id=lesson.pk, percent=100 if position < 30 else 50
            )
    # The structure changed (its version with it): read again once, then cached again.
    with django_assert_num_queries(small + 1):
        response = client.get(f"/learn/{course.slug}/")
    with django_assert_num_queries(small):
        again = client.get(f"/learn/{course.slug}/").content.decode()
    html = response.content.decode()
    assert again.count('data-testid="lesson-state"') == html.count('data-testid="lesson-state"')
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


def test_the_cached_structure_follows_every_kind_of_change(client, learner, course):
    """Module and lesson writes through SQL (no ORM signal) bump the version: the outline
    never shows a structure that changed."""
    services.enrollment_create(user=learner, course=course)
    client.force_login(learner)
    first, _, third, _ = course.test_lessons

    def page():
        return client.get(f"/learn/{course.slug}/").content.decode()

    assert "Intro" in page()
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "content"."lesson" SET title = %s WHERE id = %s', ["Hello", first.pk]
        )
        assert "Hello" in page() and ">Intro<" not in page()
        cursor.execute('DELETE FROM "content"."lesson" WHERE id = %s', [third.pk])
        assert "More" not in page()
        cursor.execute(
            'UPDATE "content"."module" SET title = %s WHERE id = %s', ["Renamed", first.module_id]
        )
        assert "Renamed" in page()
    other = published(CourseFactory())
    moved_to = ModuleFactory(course=other, position=1)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "content"."lesson" SET module_id = %s WHERE id = %s', [moved_to.pk, first.pk]
        )
    assert "Hello" not in page()


def test_structure_versions_are_bumped_by_triggers_and_never_reused(course):
    def version(course_id):
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT version FROM "content"."course_structure" WHERE course_id = %s',
                [course_id],
            )
            row = cursor.fetchone()
        return row[0] if row else None

    before = version(course.pk)
    assert before is not None  # the factory's modules and lessons already bumped it
    lesson = course.test_lessons[0]
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT undone")
        cursor.execute('UPDATE "content"."lesson" SET title = %s WHERE id = %s', ["x", lesson.pk])
        undone = version(course.pk)
        cursor.execute("ROLLBACK TO SAVEPOINT undone")
    assert before < undone and version(course.pk) == before
    with connection.cursor() as cursor:
        cursor.execute('UPDATE "content"."lesson" SET title = %s WHERE id = %s', ["y", lesson.pk])
    # A later change never takes the number of one that was rolled back.
    assert version(course.pk) > undone
    other = published(CourseFactory())
    module = ModuleFactory(course=other, position=1)
    other_before = version(other.pk)
    mine = version(course.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "content"."lesson" SET module_id = %s WHERE id = %s', [module.pk, lesson.pk]
        )
    assert version(course.pk) > mine and version(other.pk) > other_before


def _states(outline):
    return [(s.lesson.pk, s.state, s.unmet) for m in outline.modules for s in m.lessons]


@pytest.mark.django_db(transaction=True)
def test_the_page_outline_agrees_with_the_detailed_one(learner, course):
    """The outline page reads progress as one row of arrays (detail=False): same states, same
    lesson to resume (the started lesson touched last; a started lesson locked again is not
    resumed) as the detailed outline the API and the lesson player use. Committed
    transactions: `updated_at` is the writing transaction's time."""
    from apps.progress import selectors

    intro, basics, more, quiz = course.test_lessons
    enrollment = services.enrollment_create(user=learner, course=course)
    for lesson in (quiz, basics, more):  # one transaction each: More is touched last
        services.lesson_progress_record(enrollment=enrollment, lesson_id=lesson.pk, percent=30)
    # A condition added after the learner started "More" locks it again.
    more.unlock_conditions = [{"type": "after_lesson", "lesson": str(intro.pk)}]
    more.save()

    def both():
        page = selectors.course_outline(course=course, enrollment=enrollment, detail=False)
        full = selectors.course_outline(course=course, enrollment=enrollment)
        assert _states(page) == _states(full)
        assert page.resume == full.resume
        assert all(s.percent is None for m in page.modules for s in m.lessons)
        return full

    full = both()
    # "More" was touched last but is locked (Intro not done): Basics, touched after Quiz.
    assert [s for _, s, _ in _states(full)] == ["available", "in_progress", "locked", "in_progress"]
    assert full.resume.pk == basics.pk
    services.lesson_progress_record(enrollment=enrollment, lesson_id=intro.pk, percent=100)
    full = both()
    # Intro done: More unlocks and, touched after Basics, is the lesson to resume.
    assert [s for _, s, _ in _states(full)] == ["done", "in_progress", "in_progress", "in_progress"]
    assert full.resume.pk == more.pk
    services.lesson_progress_record(enrollment=enrollment, lesson_id=quiz.pk, percent=60)
    assert both().resume.pk == quiz.pk
