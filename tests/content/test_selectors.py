"""Catalog search and filters, visibility, syllabus, unlock conditions and course versions."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from apps.content import selectors, services
from apps.content.unlock import LearnerProgress, unlock_state
from apps.content.versions import course_version_diff, course_versions
from apps.core.exceptions import NotFoundError
from tests.content.factories import (
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)

pytestmark = pytest.mark.django_db


def titles(queryset):
    return [course.title for course in queryset]


def test_search_ranks_an_exact_title_first_and_tolerates_a_typo():
    published(CourseFactory(title="Python", description="Learn Python basics"))
    published(CourseFactory(title="Advanced Python Patterns", tags=["python"]))
    published(CourseFactory(title="Data Science", description="Using python for data"))
    published(CourseFactory(title="Pottery"))
    assert titles(selectors.course_catalog(query="python"))[0] == "Python"
    assert set(titles(selectors.course_catalog(query="python"))) == {
        "Python",
        "Advanced Python Patterns",
        "Data Science",
    }
    assert titles(selectors.course_catalog(query="pyton"))[0] == "Python"
    assert titles(selectors.course_catalog(query="pythom"))[0] == "Python"
    assert "Pottery" not in titles(selectors.course_catalog(query="pythom"))
    assert titles(selectors.course_catalog(query="Data Scence"))[0] == "Data Science"


def test_typo_tolerance_uses_the_session_threshold_and_an_indexable_operator():
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert float(cursor.fetchone()[0]) == selectors.TRIGRAM_MIN
    published(CourseFactory(title="Organic Chemistry"))
    published(CourseFactory(title="Chess Openings"))
    found = selectors.course_catalog(query="chemstry")
    assert titles(found) == ["Organic Chemistry"]
    # The typo branch is pg_trgm's `%>` operator (not `word_similarity(...) >= x`, which no
    # index serves and which made every search scan all published courses), and the title's
    # trigram index serves that operator. (On a handful of rows the planner rightly prefers a
    # sequential scan, so the second half is shown on the predicate alone.)
    assert '"content"."course"."title" %> chemstry' in str(found.ranked.query)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute('EXPLAIN SELECT id FROM "content"."course" WHERE title %%> %s', ["chemstry"])
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "Index Scan on course_title_trgm" in plan, plan


def test_filters_by_category_subtree_level_language_and_price_type():
    science = CategoryFactory()
    physics = CategoryFactory(parent=science)
    art = CategoryFactory()
    published(CourseFactory(title="Optics", category=physics, level="advanced", language="de"))
    published(
        CourseFactory(
            title="Biology", category=science, access_type="paid", price_minor=1900, currency="EUR"
        )
    )
    published(CourseFactory(title="Painting", category=art))
    assert set(titles(selectors.course_catalog(category=science))) == {"Optics", "Biology"}
    assert titles(selectors.course_catalog(category=physics)) == ["Optics"]
    assert titles(selectors.course_catalog(level="advanced")) == ["Optics"]
    assert titles(selectors.course_catalog(language="de")) == ["Optics"]
    assert titles(selectors.course_catalog(price_type="paid")) == ["Biology"]
    assert set(titles(selectors.course_catalog(price_type="free"))) == {"Optics", "Painting"}


def test_catalog_lists_only_published_public_courses(user):
    published(CourseFactory(title="Open"))
    published(CourseFactory(title="Hidden link", visibility="unlisted"))
    published(CourseFactory(title="Closed", visibility="private"))
    CourseFactory(title="Draft")
    gone = published(CourseFactory(title="Gone"))
    services.course_soft_delete(actor=_superuser(), course=gone)
    assert titles(selectors.course_catalog()) == ["Open"]


def _superuser():
    from tests.accounts.factories import UserFactory

    return UserFactory(is_superuser=True)


def test_visibility_by_link_private_and_drafts(user, staff_user):
    anonymous = AnonymousUser()
    unlisted = published(CourseFactory(visibility="unlisted"))
    private = published(CourseFactory(visibility="private"))
    draft = CourseFactory()
    assert selectors.course_detail(user=anonymous, slug=unlisted.slug) == unlisted
    for course in (private, draft):
        with pytest.raises(NotFoundError):
            selectors.course_detail(user=user, slug=course.slug)
        assert selectors.course_detail(user=staff_user, slug=course.slug) == course
        assert selectors.course_detail(user=course.instructor, slug=course.slug) == course


def test_lesson_previews_are_open_other_lessons_only_to_editors(user):
    course = published(CourseFactory())
    module = ModuleFactory(course=course)
    preview = LessonFactory(module=module, is_preview=True)
    locked = LessonFactory(module=module)
    assert selectors.course_lesson_preview(user=user, slug=course.slug, lesson_id=preview.id)
    with pytest.raises(NotFoundError):
        selectors.course_lesson_preview(user=user, slug=course.slug, lesson_id=locked.id)
    assert selectors.course_lesson_preview(
        user=course.instructor, slug=course.slug, lesson_id=locked.id
    )


def test_course_detail_loads_the_syllabus_in_a_fixed_number_of_queries(
    user, django_assert_max_num_queries
):
    course = published(CourseFactory())
    for m in range(3):
        module = ModuleFactory(course=course, position=m + 1)
        for n in range(4):
            LessonFactory(module=module, position=n + 1)
    with django_assert_max_num_queries(6):
        detail = selectors.course_detail(user=user, slug=course.slug)
        lessons = [lesson.title for m in detail.modules.all() for lesson in m.lessons.all()]
        _ = [
            list(lesson.interactive.all())
            for m in detail.modules.all()
            for lesson in m.lessons.all()
        ]
        _ = list(detail.prerequisites.all()), detail.instructor.email, detail.category.name
    assert len(lessons) == 12


def test_category_tree_and_subtree():
    root = CategoryFactory(name="Root")
    child = CategoryFactory(parent=root, name="Child")
    CategoryFactory(parent=child, name="Grandchild")
    CategoryFactory(name="Other")
    tree = selectors.category_tree()
    by_name = {node.category.name: node for node in tree}
    assert by_name["Root"].children[0].children[0].category.name == "Grandchild"
    assert {c.name for c in selectors.category_subtree(category=root)} == {
        "Root",
        "Child",
        "Grandchild",
    }


def test_unlock_state_evaluates_every_condition():
    lesson_id = LessonFactory().id
    quiz_id = LessonFactory().id
    conditions = [
        {"type": "after_lesson", "lesson": str(lesson_id)},
        {"type": "after_date", "date": "2027-01-01"},
        {"type": "min_score", "quiz": str(quiz_id), "score": 80},
    ]
    before = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    state = unlock_state(conditions, now=before, titles={lesson_id: "Intro"})
    assert not state.unlocked
    assert state.unmet[0] == "Complete “Intro” first."
    assert len(state.unmet) == 3
    progress = LearnerProgress(frozenset({lesson_id}), {quiz_id: 85})
    assert unlock_state(conditions, progress=progress, now=before).unmet == (
        "Opens on 2027-01-01.",
    )
    after = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert unlock_state(conditions, progress=progress, now=after).unlocked


def test_versions_list_changes_and_the_diff_shows_a_changed_field(instructor):
    course = services.course_create(actor=instructor, title="Draft title", slug="versioned")
    module = services.module_create(actor=instructor, course=course, title="Start")
    services.lesson_create(actor=instructor, module=module, title="Hello")
    services.course_update(actor=instructor, course=course, title="Final title")
    versions = course_versions(course=course)
    assert [(v.kind, v.label) for v in versions] == [
        ("course", "insert"),
        ("module", "insert"),
        ("lesson", "insert"),
        ("course", "update"),
    ]
    assert versions[-1].changed_fields == ["title"]
    diff = course_version_diff(course=course, from_version=1, to_version=4)
    assert diff["course"] == {"title": ["Draft title", "Final title"]}
    assert [m["title"] for m in diff["modules"]["added"]] == ["Start"]
    assert [lesson["title"] for lesson in diff["lessons"]["added"]] == ["Hello"]


def test_search_pages_follow_one_ranking_without_gaps_or_repeats(django_assert_num_queries):
    """A search is paginated in two steps (ids ranked on narrow rows, then those courses):
    consecutive pages are the ranking cut in order, ties broken the same way every time, each
    course with its category, instructor and lesson count."""
    from django.core.paginator import Paginator

    for n in range(14):
        course = published(CourseFactory(title=f"Geology {n % 3}"))  # many equal titles: ties
        for _ in range(n % 4):
            LessonFactory(module=ModuleFactory(course=course))
    published(CourseFactory(title="Geology"))
    found = selectors.course_catalog(query="geology")
    ranking = list(found.ranked.values_list("pk", "title"))
    assert ranking[0][1] == "Geology"  # the exact title first
    paginator = Paginator(found, 6)
    # the catalog version, the count, the page's ids, its courses (nothing cached yet)
    with django_assert_num_queries(4):
        first = list(paginator.page(1).object_list)
    pages = first + [c for number in (2, 3) for c in paginator.page(number).object_list]
    assert [(c.pk, c.title) for c in pages] == ranking
    assert paginator.count == 15 and len(set(pages)) == 15
    lessons = {c.pk: c.lesson_count for c in pages}
    assert lessons == {c.pk: c.lessons_total for c in _with_lesson_totals(pages)}
    with django_assert_num_queries(0):
        assert all(c.instructor.email and c.category_id == c.category.pk for c in first)


def _with_lesson_totals(courses):
    from apps.content.models import Lesson

    for course in courses:
        course.lessons_total = Lesson.objects.filter(module__course=course).count()
    return courses


def _catalog_version():
    with connection.cursor() as cursor:
        cursor.execute('SELECT version FROM "content"."catalog_version" WHERE id = 1')
        return cursor.fetchone()[0]


def test_searches_are_cached_until_a_course_or_category_changes(django_assert_num_queries):
    """A search's count and page ids are cached under the catalog version: the same search
    again reads the version and its page's courses only; any course write (ORM or SQL) and a
    category move show at once."""
    from django.core.paginator import Paginator

    science = CategoryFactory(name="Science")
    art = CategoryFactory(name="Art")
    for n in range(3):
        published(CourseFactory(title=f"Botany {n}", category=science))

    def search(query="botany", category=None):
        return [
            c.title
            for c in Paginator(selectors.course_catalog(query=query, category=category), 12).page(1)
        ]

    first = search()
    with django_assert_num_queries(2):  # the version, the page's courses
        assert search() == first and len(first) == 3
    new = published(CourseFactory(title="Botany", category=art))  # ORM insert
    assert search()[0] == "Botany"
    with connection.cursor() as cursor:  # SQL, no ORM signal
        cursor.execute(
            'UPDATE "content"."course" SET title = %s WHERE id = %s', ["Zoology", new.pk]
        )
    assert "Zoology" not in search() and len(search()) == 3
    assert search(query="zoology") == ["Zoology"]
    # Moving Art under Science puts its course in Science's subtree.
    assert search(query="zoology", category=science) == []
    art.parent = science
    art.save()
    science.refresh_from_db()
    assert search(query="zoology", category=science) == ["Zoology"]


def test_catalog_versions_change_per_statement_and_are_never_reused():
    """Through SQL: every statement writing courses replaces the version with a random one,
    and one rolled back is never seen again (nor handed out again: it is random)."""
    course = published(CourseFactory(title="Geometry"))
    seen = [_catalog_version()]
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT undone")
        cursor.execute('UPDATE "content"."course" SET title = %s WHERE id = %s', ["x", course.pk])
        seen.append(_catalog_version())
        cursor.execute("ROLLBACK TO SAVEPOINT undone")
        assert _catalog_version() == seen[0] != seen[1]
        # One statement writing many rows: one new version.
        cursor.execute('UPDATE "content"."course" SET tags = tags')
        seen.append(_catalog_version())
        # A statement that changed nothing still moves it: rare, and never wrong.
        cursor.execute('UPDATE "content"."course" SET tags = tags WHERE false')
        seen.append(_catalog_version())
        cursor.execute('DELETE FROM "content"."course" WHERE id = %s', [course.pk])
        seen.append(_catalog_version())
        cursor.execute('UPDATE "content"."category" SET name = name')
        seen.append(_catalog_version())
    assert len(set(seen)) == len(seen) == 6
