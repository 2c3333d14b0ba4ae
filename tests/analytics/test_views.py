"""Each materialized view, refreshed, says what a direct aggregate over the same rows says."""

import uuid
from collections import defaultdict
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.db.models import Avg, Count, Q, Sum

from apps.analytics.models import (
    VIEWS,
    CoursePerformance,
    EnrollmentTrend,
    LessonStatistics,
    QuizItemStatistics,
    RevenueSummary,
    UserActivityDaily,
)
from apps.content.models import Course, Lesson
from apps.progress.models import Activity, Enrollment, LessonProgress, QuizAttempt
from apps.progress.services import enrollment_create
from tests.accounts.factories import UserFactory
from tests.analytics.conftest import refresh

NO_CATEGORY = uuid.UUID(int=0)

pytestmark = pytest.mark.django_db

TWO = Decimal("0.01")


def r2(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO, ROUND_HALF_UP)


def test_user_activity_daily_matches_the_activity_stream(world):
    refresh("user_activity_daily")
    expected = defaultdict(lambda: [0, 0, None, None])
    for a in Activity.objects.all():
        row = expected[(a.user_id, a.created_at.astimezone(UTC).date(), a.activity_type)]
        row[0] += 1
        row[1] += a.duration_seconds or 0
        row[2] = min(row[2] or a.created_at, a.created_at)
        row[3] = max(row[3] or a.created_at, a.created_at)
    got = {
        (r.user_id, r.day, r.activity_type): [r.events, r.duration_seconds, r.first_at, r.last_at]
        for r in UserActivityDaily.objects.all()
    }
    assert len(expected) >= 6  # several users, types and days
    assert got == dict(expected)


def test_enrollment_trends_are_daily_and_cumulative_per_course(world):
    refresh("enrollment_trends")
    daily = defaultdict(lambda: [0, 0])
    for e in Enrollment.objects.all():
        daily[(e.course_id, e.created_at.astimezone(UTC).date())][0] += 1
        if e.completed_at:
            daily[(e.course_id, e.completed_at.astimezone(UTC).date())][1] += 1
    expected = {}
    running = defaultdict(lambda: [0, 0])
    for (course_id, day), (enrolled, completed) in sorted(daily.items()):
        running[course_id][0] += enrolled
        running[course_id][1] += completed
        expected[(course_id, day)] = (enrolled, completed, *running[course_id])
    got = {
        (r.course_id, r.day): (
            r.enrollments,
            r.completions,
            r.cumulative_enrollments,
            r.cumulative_completions,
        )
        for r in EnrollmentTrend.objects.all()
    }
    assert got == expected
    course = world["course"]
    last = EnrollmentTrend.objects.filter(course_id=course.pk).order_by("-day").first()
    assert (last.cumulative_enrollments, last.cumulative_completions) == (4, 1)
    assert EnrollmentTrend.objects.filter(course_id=course.pk).count() == 3  # three days


def test_course_performance_matches_the_enrollments(world):
    refresh("course_performance")
    expected = {
        c.pk: (
            c.n,
            c.active,
            c.completed,
            c.dropped,
            r2(c.avg_progress),
            r2(c.avg_quiz),
            c.study or 0,
        )
        for c in Course.objects.annotate(
            n=Count("enrollments"),
            active=Count("enrollments", filter=Q(enrollments__status="active")),
            completed=Count("enrollments", filter=Q(enrollments__status="completed")),
            dropped=Count("enrollments", filter=Q(enrollments__status="dropped")),
            avg_progress=Avg("enrollments__progress_percent"),
            avg_quiz=Avg("enrollments__average_quiz_score"),
            study=Sum("enrollments__study_time_seconds"),
        )
    }
    got = {
        r.course_id: (
            r.enrollments,
            r.active,
            r.completed,
            r.dropped,
            r.avg_progress,
            r.avg_quiz_score,
            r.study_time_seconds,
        )
        for r in CoursePerformance.objects.all()
    }
    assert got == expected
    row = CoursePerformance.objects.get(course_id=world["course"].pk)
    assert (row.enrollments, row.completed, row.dropped, row.study_time_seconds) == (4, 1, 1, 720)
    assert row.completion_rate == 25.0


def test_lesson_statistics_match_progress_activity_and_attempts(world):
    refresh("lesson_statistics")
    for lesson in Lesson.objects.select_related("module"):
        row = LessonStatistics.objects.get(lesson_id=lesson.pk)
        activity = Activity.objects.filter(resource_type="lesson", resource_id=lesson.pk)
        progress = LessonProgress.objects.filter(lesson=lesson)
        started = progress.count()
        completed = progress.filter(completed_at__isnull=False).count()
        attempts = QuizAttempt.objects.filter(quiz__lesson=lesson)
        assert row.course_id == lesson.module.course_id
        assert row.views == activity.count()
        assert row.viewers == activity.values("user_id").distinct().count()
        assert (row.started, row.completed) == (started, completed)
        assert row.completion_rate == (r2(Decimal(100) * completed / started) if started else None)
        assert row.avg_time_seconds == r2(progress.aggregate(a=Avg("time_spent_seconds"))["a"])
        assert row.quiz_attempts == attempts.count()
        assert row.avg_quiz_percent == r2(attempts.aggregate(a=Avg("percent"))["a"])
    intro = LessonStatistics.objects.get(lesson_id=world["course"].test_lessons[0].pk)
    assert (intro.started, intro.completed, intro.completion_rate) == (2, 2, Decimal("100.00"))


def test_quiz_item_difficulty_comes_from_the_graded_results(world):
    refresh("quiz_item_statistics")
    tally = defaultdict(lambda: [0, 0])
    for attempt in QuizAttempt.objects.all():
        for question_id, result in attempt.results.items():
            tally[(attempt.quiz_id, question_id)][0] += 1
            tally[(attempt.quiz_id, question_id)][1] += bool(result["correct"])
    got = {
        (r.quiz_id, r.question_id): (r.attempts, r.correct, r.correct_rate, r.difficulty)
        for r in QuizItemStatistics.objects.all()
    }
    assert got == {
        key: (n, ok, r2(Decimal(100) * ok / n), r2(100 - Decimal(100) * ok / n))
        for key, (n, ok) in tally.items()
    }
    # Three attempts: q2 right twice (false is right), q1 right once, q3 and q4 once.
    quiz = world["course"].test_quiz
    q2 = QuizItemStatistics.objects.get(quiz_id=quiz.pk, question_id="q2")
    assert (q2.attempts, q2.correct, q2.prompt) == (3, 2, "The sky is green.")
    hardest = QuizItemStatistics.objects.filter(course_id=world["course"].pk).order_by(
        "-difficulty", "question_id"
    )
    assert hardest[0].question_id == "q1"


def test_revenue_summary_matches_paid_orders(db):
    from apps.billing import services as billing
    from tests.billing.conftest import paid_course

    course, other = paid_course(price_minor=10_000), paid_course(price_minor=2_500)
    orders = []
    for buy in (course, course, other):
        order = billing.order_create(user=UserFactory(), course=buy, country="US")
        orders.append(
            billing.order_pay(order=order, provider="manual", idempotency_key=f"k-{order.pk}")
        )
    billing.refund_create(order=orders[1], amount_minor=4_000)
    billing.order_create(user=UserFactory(), course=course, country="US")  # pending: not revenue
    refresh("revenue_summary")
    rows = {row.category_id: row for row in RevenueSummary.objects.all()}
    assert (
        rows[course.category_id].orders,
        rows[course.category_id].gross_minor,
        rows[course.category_id].refunded_minor,
    ) == (2, 20_000, 4_000)
    assert (rows[other.category_id].orders, rows[other.category_id].gross_minor) == (1, 2_500)
    assert {row.currency for row in rows.values()} == {"USD"}


def test_revenue_summary_includes_subscription_revenue(db):
    from apps.billing import services as billing
    from tests.billing.conftest import paid_course
    from tests.billing.factories import CouponFactory, PlanFactory

    course = paid_course(price_minor=10_000)
    order = billing.order_create(user=UserFactory(), course=course, country="US")
    billing.order_pay(order=order, provider="manual", idempotency_key=f"k-{order.pk}")
    plan = PlanFactory(price_minor=2_000, trial_days=7)
    CouponFactory(code="PLANHALF", percent_off=50).plans.add(plan)
    subscriber = billing.subscription_create(user=UserFactory(), plan=plan, coupon_code="PLANHALF")
    billing.subscription_renew(subscription=subscriber)  # the first paid period: coupon
    billing.subscription_renew(subscription=subscriber)  # the next one: full price
    billing.subscription_create(user=UserFactory(), plan=PlanFactory(trial_days=0))  # unpaid
    refresh("revenue_summary")
    rows = {(row.source, row.category_id): row for row in RevenueSummary.objects.all()}
    subscriptions = rows["subscription", NO_CATEGORY]
    assert (subscriptions.orders, subscriptions.gross_minor) == (2, 1_000 + 2_000)
    assert (
        rows["course", course.category_id].orders,
        rows["course", course.category_id].gross_minor,
    ) == (1, 10_000)
    assert len(rows) == 2


def test_a_refresh_replaces_the_contents(world):
    refresh("course_performance")
    course = world["course"]
    assert CoursePerformance.objects.get(course_id=course.pk).enrollments == 4
    before = Enrollment.objects.filter(course=course).count()
    enrollment_create(user=UserFactory(), course=course)
    assert CoursePerformance.objects.get(course_id=course.pk).enrollments == 4  # stale until...
    refresh("course_performance")
    assert CoursePerformance.objects.get(course_id=course.pk).enrollments == before + 1


def test_every_view_has_a_unique_index_and_is_owned_by_the_owner_role():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_userbyid(c.relowner),
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                           AND i.indisunique AND i.indpred IS NULL)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'analytics' AND c.relkind = 'm'
            """
        )
        rows = cursor.fetchall()
    assert {name for name, _, _ in rows} == set(VIEWS)
    for name, owner, unique in rows:
        assert unique, name
        assert owner == connection.settings_dict["USER"], name
