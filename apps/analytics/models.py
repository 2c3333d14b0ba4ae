"""Models of the analytics app.

Its tables live in the `analytics` PostgreSQL schema: db_table = 'analytics"."<table>'.

Two kinds of model:
- read models (managed=False) of the materialized views created by migration 0001 by SQL; each
  view has a unique index so it refreshes CONCURRENTLY (readers are never blocked). Nothing
  writes them: `analytics.refresh_view(name)` (a SECURITY DEFINER function) refreshes them.
- the app's own records: refresh runs and export jobs.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.content.models import Category, Course, InteractiveContent, Lesson, Module

# Every materialized view, in refresh order, with how often beat refreshes it (minutes).
VIEWS: dict[str, int] = {
    "user_activity_daily": 15,
    "enrollment_trends": 60,
    "course_performance": 15,
    "module_completion": 15,
    "lesson_statistics": 60,
    "quiz_item_statistics": 60,
    "revenue_summary": 24 * 60,
}


class _ReadModel(models.Model):
    class Meta:
        abstract = True
        managed = False


class UserActivityDaily(_ReadModel):
    """One user's activity stream per UTC day and activity type."""

    pk = models.CompositePrimaryKey("user", "day", "activity_type")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    activity_type = models.CharField(max_length=40)
    events = models.BigIntegerField()
    duration_seconds = models.BigIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."user_activity_daily'
        verbose_name_plural = "user activity (daily)"

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.activity_type}: {self.events}"


class EnrollmentTrend(_ReadModel):
    """New enrollments and completions of a course per UTC day, with running totals."""

    pk = models.CompositePrimaryKey("course", "day")
    course = models.ForeignKey(
        Course, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    enrollments = models.IntegerField()
    completions = models.IntegerField()
    cumulative_enrollments = models.BigIntegerField()
    cumulative_completions = models.BigIntegerField()

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."enrollment_trends'

    def __str__(self) -> str:
        return f"{self.course_id} {self.day}: +{self.enrollments}"


class CoursePerformance(_ReadModel):
    """Per course (not deleted): enrollments by status, average progress and quiz score, time."""

    course = models.OneToOneField(
        Course,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    title = models.CharField(max_length=200)
    slug = models.CharField(max_length=200)
    status = models.CharField(max_length=10)
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    enrollments = models.IntegerField(help_text="Every enrollment, dropped ones included.")
    active = models.IntegerField()
    completed = models.IntegerField()
    dropped = models.IntegerField()
    avg_progress = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    avg_quiz_score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    study_time_seconds = models.BigIntegerField()
    last_enrolled_at = models.DateTimeField(null=True)

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."course_performance'
        verbose_name_plural = "course performance"

    def __str__(self) -> str:
        return self.title

    @property
    def completion_rate(self) -> float | None:
        return round(100 * self.completed / self.enrollments, 1) if self.enrollments else None


class ModuleCompletion(_ReadModel):
    """Per module of a course (not deleted), in course order: its lessons, and the learners
    (enrollments not dropped) who completed every one of them: the steps of a course's
    completion funnel (migration 0006)."""

    module = models.OneToOneField(
        Module,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    course = models.ForeignKey(
        Course, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    position = models.IntegerField()
    title = models.CharField(max_length=200)
    lessons = models.IntegerField()
    learners = models.IntegerField(help_text="Learners (not dropped) who completed every lesson.")

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."module_completion'
        verbose_name_plural = "module completion"

    def __str__(self) -> str:
        return f"{self.position}. {self.title}: {self.learners}"


class LessonStatistics(_ReadModel):
    """Per lesson: activity events (views), learners who started and completed it, time."""

    lesson = models.OneToOneField(
        Lesson,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    course = models.ForeignKey(
        Course, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    module = models.ForeignKey(
        Module, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    module_position = models.IntegerField()
    position = models.IntegerField()
    title = models.CharField(max_length=200)
    lesson_type = models.CharField(max_length=20)
    views = models.BigIntegerField(help_text="Activity events on the lesson.")
    viewers = models.IntegerField(help_text="Distinct users with activity on the lesson.")
    started = models.IntegerField(help_text="Learners with progress on the lesson.")
    completed = models.IntegerField()
    completion_rate = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, help_text="completed / started, %"
    )
    avg_time_seconds = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    quiz_attempts = models.IntegerField()
    avg_quiz_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True)

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."lesson_statistics'
        verbose_name_plural = "lesson statistics"

    def __str__(self) -> str:
        return self.title


class QuizItemStatistics(_ReadModel):
    """Per quiz question, from every graded attempt: how often it was answered right."""

    pk = models.CompositePrimaryKey("quiz", "question_id")
    quiz = models.ForeignKey(
        InteractiveContent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    question_id = models.CharField(max_length=100)
    lesson = models.ForeignKey(
        Lesson, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    course = models.ForeignKey(
        Course, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    prompt = models.TextField()
    attempts = models.IntegerField()
    correct = models.IntegerField()
    correct_rate = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="Share of attempts answering it right, %"
    )
    difficulty = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="100 - correct rate: higher is harder"
    )

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."quiz_item_statistics'
        verbose_name_plural = "quiz item statistics"

    def __str__(self) -> str:
        return f"{self.quiz_id} {self.question_id}"


class RevenueSummary(_ReadModel):
    """Paid orders by UTC month, source, course category and currency (migrations 0004,
    0005): what buyers paid, tax included, and what was refunded, in minor units. `source` is
    "course" (orders for a course, by its category) or "subscription" (subscription periods
    and plan changes, under the zero category UUID)."""

    pk = models.CompositePrimaryKey("month", "source", "category", "currency")
    month = models.DateField()
    source = models.CharField(max_length=12)
    category = models.ForeignKey(
        Category, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    currency = models.CharField(max_length=3)
    orders = models.IntegerField()
    gross_minor = models.BigIntegerField()
    refunded_minor = models.BigIntegerField()

    class Meta(_ReadModel.Meta):
        db_table = 'analytics"."revenue_summary'
        verbose_name_plural = "revenue summary"

    def __str__(self) -> str:
        return f"{self.month} {self.category_id} {self.currency}"


class RefreshOutcome(models.TextChoices):
    REFRESHED = "refreshed", "Refreshed"
    SKIPPED = "skipped", "Skipped (another refresh of the view was running)"
    FAILED = "failed", "Failed"


class RefreshRun(models.Model):
    """One attempt to refresh one materialized view."""

    id = models.BigAutoField(primary_key=True)
    view = models.CharField(max_length=63, choices=[(v, v) for v in VIEWS])
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    rows = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RefreshOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        db_table = 'analytics"."refresh_run'
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=("view", "-started_at"), name="refresh_run_view_started")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=RefreshOutcome.values), name="refresh_run_outcome"
            ),
            models.CheckConstraint(
                condition=models.Q(view__in=list(VIEWS)), name="refresh_run_view"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.view} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class ExportKind(models.TextChoices):
    GRADEBOOK = "gradebook", "Gradebook"
    ROSTER = "roster", "Roster"
    COURSE_PERFORMANCE = "course_performance", "Course performance"
    ACTIVITY = "activity", "Activity"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class ExportJob(models.Model):
    """A CSV export run by a worker; its file is downloadable by its owner until it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress_percent = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="analytics/exports/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = 'analytics"."export_job'
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ExportKind.values), name="export_job_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values), name="export_job_status"
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="export_job_progress_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(file=""),
                name="export_job_done_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk} ({self.status})"
