"""Reads owned by content: the catalog and its search, course pages, syllabus, lesson plans.

Visibility (docs/adr/0009-content.md): everyone sees published public courses; unlisted ones only
by link (never in lists); private and unpublished ones only their editors and staff (enrolled
learners join in with issue 5). Preview lessons of a visible course are open to all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Lower

from apps.content.models import (
    AccessType,
    CatalogVersion,
    Category,
    Course,
    CourseStatus,
    InteractiveContent,
    Lesson,
    LessonPlan,
    Module,
    Visibility,
)
from apps.content.services import course_can_edit
from apps.core.exceptions import NotFoundError
from apps.rbac.selectors import GLOBAL_SCOPE, user_is_eligible, user_permission_scopes

SEARCH_CONFIG = "english"
# Typo tolerance: `query <% title` (pg_trgm's word similarity at or above its
# `pg_trgm.word_similarity_threshold`, which every connection sets to this value in
# config/settings/base.py). The operator, unlike `word_similarity(...) >= x`, can use the title's
# trigram index: 68 ms -> 5 ms at 20k courses (docs/performance.md).
TRIGRAM_MIN = 0.4


# -- categories ---------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    children: list[CategoryNode] = field(default_factory=list)


def category_list(*, active_only: bool = False) -> QuerySet[Category]:
    """Every category in tree order (parents before children)."""
    queryset = Category.objects.order_by("path")
    return queryset.filter(is_active=True) if active_only else queryset


def category_tree(*, active_only: bool = False) -> list[CategoryNode]:
    """The category forest, built in one query."""
    nodes: dict = {}
    roots: list[CategoryNode] = []
    for category in category_list(active_only=active_only):
        node = nodes[category.id] = CategoryNode(category)
        parent = nodes.get(category.parent_id)
        (parent.children if parent else roots).append(node)
    return roots


def category_subtree(*, category: Category) -> QuerySet[Category]:
    """`category` and all its descendants: one query on the path prefix index."""
    return Category.objects.filter(path__startswith=category.path)


# -- courses ------------------------------------------------------------------------------


def _is_staff(user) -> bool:
    return user_is_eligible(user) and (user.is_staff or user.is_superuser)


def _editable_q(user) -> Q:
    """Courses `user` may edit: instructor, guardian object permission, or a scoped grant."""
    if not user_is_eligible(user):
        return Q(pk__in=[])
    scopes = user_permission_scopes(user, "course.edit")
    course_ids = [scope_id for kind, scope_id in scopes if kind == "course"]
    category_ids = [scope_id for kind, scope_id in scopes if kind == "category"]
    q = Q(instructor=user) | Q(pk__in=course_ids)
    for category_id in category_ids:
        q |= Q(category__path__contains=category_id.hex)
    return q


def course_visible_queryset(*, user) -> QuerySet[Course]:
    """Courses `user` may open by link: published public and unlisted ones, plus what they edit
    and, for staff, everything not deleted."""
    queryset = Course.objects.all()
    if _is_staff(user) or GLOBAL_SCOPE in user_permission_scopes(user, "course.edit"):
        return queryset
    public = Q(
        status=CourseStatus.PUBLISHED, visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED]
    )
    visible = public | _editable_q(user)
    if getattr(user, "is_authenticated", False):
        # Private courses open to the learners enrolled in them (progress's reverse relation,
        # by name: content does not import progress). In a subquery: joining enrollments in
        # the outer query under an OR repeats a public course once per enrollment.
        visible |= Q(
            status=CourseStatus.PUBLISHED,
            visibility=Visibility.PRIVATE,
            pk__in=Course.objects.filter(
                enrollments__user=user,
                enrollments__status__in=("active", "completed", "suspended"),
            ).values("pk"),
        )
    return queryset.filter(visible)


def lesson_count_subquery(course: str = "pk"):
    """A course's lesson count as a column: `course` names the outer query's course id
    ("pk" on courses, "course_id" on rows that belong to a course)."""
    return Coalesce(
        Subquery(
            Lesson.objects.filter(module__course_id=OuterRef(course))
            .order_by()
            .values("module__course_id")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


SEARCH_CACHE_SECONDS = 600  # entries of older catalog versions are never read again


class RankedCourses:
    """A catalog search, paginated in two steps (a sequence Django's Paginator and DRF's
    pagination slice like a queryset): the ids of one page, ranked over narrow rows, then those
    courses with their category, instructor and lesson count.

    Ranking every match of a common word (1,000 of 20k courses) in one query with the joined
    rows cost 20-28 ms: the ranking functions ran in the join and the wide rows went through
    the sorts. Ids only: about 10 ms, then a primary-key look-up of 12 rows
    (docs/performance.md).

    With a `cache_key` (the search and its filters), the count and each page's ids are cached
    under the catalog's version (content.catalog_version: a random value that statement
    triggers replace after every course write and category update; ADR 0021), read once
    before anything is ranked: results cached under a version are never older than it, and a
    write moves every search to a new version. The courses themselves are always read fresh,
    with the filters applied again."""

    ordered = True  # Paginator warns about unordered querysets

    def __init__(
        self, *, ranked: QuerySet[Course], rows: QuerySet[Course], cache_key: str | None = None
    ):
        self.ranked = ranked  # matches, filtered and ordered best first
        self.rows = rows  # the courses as the catalog shows them
        self.cache_key = cache_key
        self._count: int | None = None
        self._version = _UNREAD

    def _key(self, *parts) -> str | None:
        if self.cache_key is None:
            return None
        if self._version is _UNREAD:
            self._version = (
                CatalogVersion.objects.using(self.ranked.db)
                .filter(pk=1)
                .values_list("version", flat=True)
                .first()
            )
        if self._version is None:  # no version row: nothing can be invalidated, so no cache
            return None
        return ":".join(["catalog", str(self._version), self.cache_key, *map(str, parts)])

    def count(self) -> int:
        if self._count is None:
            key = self._key("count")
            found = cache.get(key) if key else None
            if found is None:
                found = self.ranked.order_by().count()
                if key:
                    cache.set(key, found, SEARCH_CACHE_SECONDS)
            self._count = found
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[0:None])

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        key = self._key("ids", index.start, index.stop) if index.step is None else None
        ids = cache.get(key) if key else None
        if ids is None:
            ids = list(self.ranked.values_list("pk", flat=True)[index])
            if key:
                cache.set(key, ids, SEARCH_CACHE_SECONDS)
        found = {course.pk: course for course in self.rows.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]


_UNREAD = object()


def course_catalog(
    *,
    query: str = "",
    category: Category | None = None,
    level: str = "",
    language: str = "",
    price_type: str = "",
) -> QuerySet[Course] | RankedCourses:
    """Published public courses matching the search and filters, best match first.

    Full-text search (title A, descriptions B, tags C) plus trigram similarity on the title for
    typos; an exact title match always comes first. Filters: category subtree, level, language,
    price type (free/paid/subscription). Category and instructor are joined, lesson counts
    annotated. Without a search: a queryset, one query for any number of courses. With one: a
    `RankedCourses`, two queries a page (its ids ranked, then its courses) and one count.
    """
    queryset = Course.objects.filter(status=CourseStatus.PUBLISHED, visibility=Visibility.PUBLIC)
    if category is not None:
        queryset = queryset.filter(category__path__startswith=category.path)
    if level:
        queryset = queryset.filter(level=level)
    if language:
        queryset = queryset.filter(language=language)
    if price_type in AccessType.values:
        queryset = queryset.filter(access_type=price_type)
    rows = queryset.select_related("category", "instructor").annotate(
        lesson_count=lesson_count_subquery()
    )
    query = query.strip()
    if not query:
        return rows.order_by("-is_featured", "title")
    search = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    ranked = (
        queryset.annotate(
            text_rank=SearchRank(F("search_vector"), search),
            similarity=TrigramWordSimilarity(query, "title"),
            title_similarity=TrigramSimilarity("title", query),
            exact=Case(
                When(title__iexact=query, then=Value(1)),
                default=Value(0),
                output_field=FloatField(),
            ),
        )
        .filter(Q(search_vector=search) | Q(title__trigram_word_similar=query))
        .annotate(rank=Greatest(F("text_rank"), F("similarity")) + F("exact"))
        .order_by("-rank", "-title_similarity", Lower("title"), "pk")
    )
    key = hashlib.sha256(
        "\x1f".join(
            [query, category.path if category else "", level, language, price_type]
        ).encode()
    ).hexdigest()
    return RankedCourses(ranked=ranked, rows=rows.order_by(), cache_key=key)


def course_detail(*, user, slug: str) -> Course:
    """A course with its syllabus (modules, lessons, their interactive content), instructor,
    category and prerequisites, in a fixed number of queries.

    Raises NotFoundError when there is no such course or `user` may not see it.
    """
    course = (
        course_visible_queryset(user=user)
        .select_related("category", "instructor")
        .prefetch_related(
            Prefetch(
                "modules",
                queryset=Module.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "lessons",
                        queryset=Lesson.objects.order_by("position").prefetch_related(
                            Prefetch(
                                "interactive",
                                queryset=InteractiveContent.objects.order_by("created_at"),
                            )
                        ),
                    )
                ),
            ),
            Prefetch("prerequisites", queryset=Course.objects.only("id", "title", "slug")),
        )
        .filter(slug=slug)
        .first()
    )
    if course is None:
        raise NotFoundError("No such course.")
    return course


def course_for_edit(*, user, course_id) -> Course:
    """A course `user` may edit. Raises NotFoundError (also when they may not see it)."""
    course = course_visible_queryset(user=user).select_related("category", "instructor")
    course = course.filter(pk=course_id).first()
    if course is None or not course_can_edit(user=user, course=course):
        raise NotFoundError("No such course.")
    return course


def course_lesson_preview(*, user, slug: str, lesson_id) -> Lesson:
    """A lesson shown to `user`: previews of a visible course, any lesson for its editors.

    Raises NotFoundError otherwise.
    """
    lesson = (
        Lesson.objects.select_related("module__course__category", "module__course__instructor")
        .prefetch_related("interactive")
        .filter(pk=lesson_id, module__course__slug=slug, module__course__deleted_at__isnull=True)
        .first()
    )
    if lesson is None:
        raise NotFoundError("No such lesson.")
    course = lesson.module.course
    visible = course_visible_queryset(user=user).filter(pk=course.pk).exists()
    if visible and (lesson.is_preview or course_can_edit(user=user, course=course)):
        return lesson
    raise NotFoundError("No such lesson.")


def courses_taught(*, user) -> QuerySet[Course]:
    """The courses `user` teaches (any status), with lesson counts."""
    return (
        Course.objects.filter(instructor=user)
        .select_related("category")
        .annotate(lesson_count=lesson_count_subquery())
        .order_by("title")
    )


def course_title_index(*, course: Course) -> dict:
    """Titles of the course's lessons and quizzes by id (for unlock condition sentences)."""
    titles = dict(Lesson.objects.filter(module__course=course).values_list("id", "title"))
    titles.update(
        InteractiveContent.objects.filter(lesson__module__course=course).values_list("id", "title")
    )
    return titles


# -- lesson plans -------------------------------------------------------------------------


def lesson_plan_list(*, owner, week_of: dt.date | None = None) -> QuerySet[LessonPlan]:
    """A teacher's plans, optionally of one week, with category and objectives loaded."""
    queryset = (
        LessonPlan.objects.filter(owner=owner)
        .select_related("subject_category")
        .prefetch_related("objectives")
        .order_by("week_of", "title")
    )
    if week_of is not None:
        queryset = queryset.filter(week_of=week_of)
    return queryset


def lesson_plan_get(*, owner, plan_id) -> LessonPlan:
    """One of `owner`'s plans. Raises NotFoundError for anyone else's."""
    plan = (
        lesson_plan_list(owner=owner).prefetch_related("related_plans").filter(pk=plan_id).first()
    )
    if plan is None:
        raise NotFoundError("No such lesson plan.")
    return plan
