"""Reads of analytics: dashboards from the materialized views (with how fresh they are), the
few live figures a dashboard needs (a page of learners at risk), and engagement analysis."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.models import (
    CoursePerformance,
    EnrollmentTrend,
    ExportJob,
    ModuleCompletion,
    QuizItemStatistics,
    RefreshOutcome,
    RefreshRun,
    UserActivityDaily,
)
from apps.content.models import Course
from apps.progress.models import Activity, Enrollment, EnrollmentStatus
from apps.rbac.selectors import user_has_permission

# Activity types that count as looking at a lesson (heartbeats of the player, plain views).
LESSON_VIEW_TYPES = ("lesson_view", "lesson_progress")
# Learners at risk shown per page of a course dashboard.
AT_RISK_PAGE = 50


def views_freshness(*, views) -> dict[str, dt.datetime | None]:
    """When each view was last refreshed successfully (its data is as of then); None if never
    since it was created. One query."""
    found = dict(
        RefreshRun.objects.filter(view__in=list(views), outcome=RefreshOutcome.REFRESHED)
        .values("view")
        .annotate(at=Max("started_at"))
        .values_list("view", "at")
    )
    return {view: found.get(view) for view in views}


def oldest(freshness: dict[str, dt.datetime | None]) -> dt.datetime | None:
    """The data of a dashboard is as fresh as its stalest view (None: one was never refreshed)."""
    values = list(freshness.values())
    return None if not values or None in values else min(values)


def _days(days: int) -> tuple[dt.date, dt.date]:
    today = timezone.now().astimezone(dt.UTC).date()
    return today - dt.timedelta(days=days - 1), today


def _fill(start: dt.date, end: dt.date, values: dict) -> list[tuple[dt.date, object]]:
    out = []
    day = start
    while day <= end:
        out.append((day, values.get(day, 0)))
        day += dt.timedelta(days=1)
    return out


@dataclass
class Overview:
    days: list[dt.date]
    enrollments: list[int]
    completions: list[int]
    active_users: list[int]
    top_courses: list[CoursePerformance]
    active_7: int
    active_30: int
    totals: dict
    freshness: dict = field(default_factory=dict)


def staff_overview(*, days: int = 30, top: int = 10) -> Overview:
    """Enrollments and completions per day, daily active users, top courses by enrollments and
    platform totals, all from the views. Six queries."""
    start, end = _days(days)
    per_day = {
        row["day"]: row
        for row in EnrollmentTrend.objects.filter(day__gte=start)
        .values("day")
        .annotate(e=Sum("enrollments"), c=Sum("completions"))
    }
    active = dict(
        UserActivityDaily.objects.filter(day__gte=start)
        .values("day")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("day", "n")
    )
    window = UserActivityDaily.objects.aggregate(
        a7=Count("user_id", distinct=True, filter=Q(day__gt=end - dt.timedelta(days=7))),
        a30=Count("user_id", distinct=True, filter=Q(day__gt=end - dt.timedelta(days=30))),
    )
    totals = CoursePerformance.objects.aggregate(
        courses=Count("course_id"),
        enrollments=Sum("enrollments"),
        completed=Sum("completed"),
        study=Sum("study_time_seconds"),
    )
    filled = _fill(start, end, per_day)
    return Overview(
        days=[d for d, _ in filled],
        enrollments=[int(v["e"]) if v else 0 for _, v in filled],
        completions=[int(v["c"]) if v else 0 for _, v in filled],
        active_users=[v for _, v in _fill(start, end, active)],
        top_courses=list(
            CoursePerformance.objects.filter(enrollments__gt=0).order_by("-enrollments", "title")[
                :top
            ]
        ),
        active_7=window["a7"],
        active_30=window["a30"],
        totals={k: v or 0 for k, v in totals.items()},
        freshness=views_freshness(
            views=("enrollment_trends", "user_activity_daily", "course_performance")
        ),
    )


def courses_taught(*, user) -> QuerySet[CoursePerformance]:
    """Performance of the courses the user is the instructor of (staff: every course)."""
    rows = CoursePerformance.objects.order_by("title")
    return rows if user.is_staff else rows.filter(instructor_id=user.pk)


def can_teach(*, user, course: Course) -> bool:
    """May the user see this course's learners (its instructor, or granted enrollment.view)?"""
    return course.instructor_id == user.pk or user_has_permission(user, "enrollment.view", course)


@dataclass
class FunnelStep:
    label: str
    learners: int


@dataclass
class AtRisk:
    """One page of a course's learners at risk, longest idle first, with how many there are."""

    learners: list[Enrollment]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.learners else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.learners)


def module_funnel(*, course: Course, performance: CoursePerformance | None) -> list[FunnelStep]:
    """Learners enrolled (not dropped: from the course's performance row), then per module (in
    order) how many of them completed every lesson of it (module_completion). One query."""
    enrolled = performance.enrollments - performance.dropped if performance else 0
    modules = ModuleCompletion.objects.filter(course_id=course.pk).order_by("position")
    return [FunnelStep("Enrolled", enrolled)] + [
        FunnelStep(f"{m.position}. {m.title}", m.learners) for m in modules
    ]


# What the at-risk table shows of a learner (get_full_name): not the encrypted columns (phone,
# date of birth), which loading would decrypt. Deleted users included, as a join would.
NAME_FIELDS = ("id", "first_name", "last_name", "email")


def learners_at_risk(
    *, course: Course, days: int, page: int = 1, per_page: int = AT_RISK_PAGE
) -> AtRisk:
    """Active learners of the course idle for `days` days (since their last activity, or since
    they enrolled if never active), longest idle first: one page of them with their users, and
    how many there are in all. Live, two queries (the page with its total, then its users)."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    page = max(page, 1)
    rows = (
        Enrollment.objects.filter(course=course, status=EnrollmentStatus.ACTIVE)
        .alias(idle_since=Coalesce("last_accessed_at", "created_at"))
        .filter(idle_since__lt=cutoff)
    )
    learners = list(
        # The total rides along as a window over the same rows: one scan of the course's
        # enrollments, no separate COUNT. The window keeps every idle learner's row until the
        # page is cut, so only the columns the page shows (wider rows spilled to disk at 15k
        # learners). The users are loaded for the page only: joined, the join would run for
        # every idle learner first.
        rows.only("id", "user_id", "progress_percent", "last_accessed_at", "created_at")
        .annotate(total=Window(Count("id")))
        .order_by("idle_since", "id")
        .prefetch_related(Prefetch("user", queryset=User.all_objects.only(*NAME_FIELDS)))[
            (page - 1) * per_page : page * per_page
        ]
    )
    total = learners[0].total if learners else (rows.count() if page > 1 else 0)
    return AtRisk(learners=learners, total=total, page=page, per_page=per_page)


# The views a course dashboard's figures come from (all but the learners at risk).
COURSE_DASHBOARD_VIEWS = (
    "enrollment_trends",
    "course_performance",
    "module_completion",
    "quiz_item_statistics",
)


@dataclass
class CourseViews:
    """A course dashboard's figures from the materialized views."""

    performance: CoursePerformance | None
    trend: list  # (day, cumulative_enrollments, cumulative_completions) named rows
    funnel: list[FunnelStep]
    hardest: list[QuizItemStatistics]


def course_dashboard_views(*, course: Course, hardest: int = 10) -> CourseViews:
    """Enrollment trend, performance, module funnel and the hardest quiz questions of a course,
    from the views: they change only when a view is refreshed. Four queries."""
    performance = CoursePerformance.objects.filter(course_id=course.pk).first()
    return CourseViews(
        performance=performance,
        # A row per day since the course's first enrollment (a year: ~360): tuples, not models.
        trend=list(
            EnrollmentTrend.objects.filter(course_id=course.pk)
            .order_by("day")
            .values_list("day", "cumulative_enrollments", "cumulative_completions", named=True)
        ),
        funnel=module_funnel(course=course, performance=performance),
        hardest=list(
            QuizItemStatistics.objects.filter(course_id=course.pk).order_by(
                "-difficulty", "-attempts", "question_id"
            )[:hardest]
        ),
    )


@dataclass
class MyStats:
    days: list[dt.date]
    events: list[int]
    minutes: list[int]
    active_days: int
    total_minutes: int
    enrollments: list[Enrollment]
    freshness: dict = field(default_factory=dict)


def my_stats(*, user, days: int = 30) -> MyStats:
    """A learner's own activity per day (view) and their enrollments (live). Three queries."""
    start, end = _days(days)
    per_day = {
        row["day"]: row
        for row in UserActivityDaily.objects.filter(user_id=user.pk, day__gte=start)
        .values("day")
        .annotate(e=Sum("events"), s=Sum("duration_seconds"))
    }
    filled = _fill(start, end, per_day)
    minutes = [round(v["s"] / 60) if v else 0 for _, v in filled]
    return MyStats(
        days=[d for d, _ in filled],
        events=[int(v["e"]) if v else 0 for _, v in filled],
        minutes=minutes,
        active_days=sum(1 for _, v in filled if v),
        total_minutes=sum(minutes),
        enrollments=list(
            Enrollment.objects.filter(user=user)
            .select_related("course")
            .order_by("-last_accessed_at", "-created_at")
        ),
        freshness=views_freshness(views=("user_activity_daily",)),
    )


# -- engagement ---------------------------------------------------------------------------


@dataclass
class Metric:
    name: str
    label: str
    value: Decimal
    previous: Decimal
    trend: Decimal | None  # percent change against the previous period; None if it was 0


@dataclass
class Engagement:
    user_id: object
    course_id: object
    start: dt.datetime
    end: dt.datetime
    metrics: list[Metric]
    most_viewed_lesson: object | None


def _trend(value: Decimal, previous: Decimal) -> Decimal | None:
    if not previous:
        return None
    return ((value - previous) * 100 / previous).quantize(Decimal("0.1"))


def engagement(*, user_id, start: dt.datetime, end: dt.datetime, course_id=None) -> Engagement:
    """Engagement of one user in [start, end) (optionally in one course), each metric against
    the previous period of the same length: lesson views, distinct lessons, study time
    (minutes), active days, quiz attempts. Live from the activity stream (its (user, time)
    index), three queries.

    Raises ValueError if end is not after start.
    """
    if end <= start:
        raise ValueError("end must be after start")
    length = end - start
    rows = Activity.objects.filter(user_id=user_id)
    if course_id is not None:
        rows = rows.filter(course_id=course_id)

    def measure(lo, hi) -> dict:
        window = rows.filter(created_at__gte=lo, created_at__lt=hi)
        views = Q(activity_type__in=LESSON_VIEW_TYPES)
        return window.aggregate(
            views=Count("id", filter=views),
            lessons=Count("resource_id", filter=views & Q(resource_type="lesson"), distinct=True),
            seconds=Sum("duration_seconds"),
            days=Count("created_at__date", distinct=True),
            quizzes=Count("id", filter=Q(activity_type="quiz_attempt")),
        )

    now, before = measure(start, end), measure(start - length, start)
    names = {
        "lesson_views": ("views", "Lesson views"),
        "lessons_viewed": ("lessons", "Lessons viewed"),
        "study_minutes": ("seconds", "Study minutes"),
        "active_days": ("days", "Active days"),
        "quiz_attempts": ("quizzes", "Quiz attempts"),
    }
    metrics = []
    for name, (key, label) in names.items():
        value, previous = Decimal(now[key] or 0), Decimal(before[key] or 0)
        if key == "seconds":
            value, previous = (
                (value / 60).quantize(Decimal("0.1")),
                (previous / 60).quantize(Decimal("0.1")),
            )
        metrics.append(Metric(name, label, value, previous, _trend(value, previous)))
    top = (
        rows.filter(
            created_at__gte=start,
            created_at__lt=end,
            activity_type__in=LESSON_VIEW_TYPES,
            resource_type="lesson",
        )
        .values("resource_id")
        .annotate(n=Count("id"))
        .order_by("-n", "resource_id")
        .first()
    )
    return Engagement(user_id, course_id, start, end, metrics, top["resource_id"] if top else None)


def my_exports(*, owner) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(owner=owner).order_by("-created_at")
