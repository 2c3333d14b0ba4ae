"""Enrollments, lesson progress, quiz attempts, certificates and the activity stream.

Tables live in the `progress` schema. Rules the database keeps (besides the application):
capacity (a trigger that locks the course row, so concurrent enrollments queue), completion
consistency (CHECK), monotonic-progress ranges (CHECKs), and the activity stream is partitioned
by month (migration 0001, like audit.events).
"""

import secrets

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.content.models import Course, InteractiveContent, Lesson
from apps.core.models import TimeStampedModel, UUIDModel


class EnrollmentType(models.TextChoices):
    FREE = "free", "Free"
    PAID = "paid", "Paid"
    TRIAL = "trial", "Trial"
    GIFT = "gift", "Gift"
    SUBSCRIPTION = "subscription", "Subscription"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DROPPED = "dropped", "Dropped"
    SUSPENDED = "suspended", "Suspended"


# Seats: every enrollment except a dropped one holds a seat of max_enrollments.
SEAT_STATUSES = ("active", "completed", "suspended")
_SEATS_SQL = "(" + ", ".join(f"'{s}'" for s in SEAT_STATUSES) + ")"

# Race-free capacity: taking the course row's lock first makes concurrent enrollments in one
# course queue, so the count each one sees includes every seat committed before it.
CAPACITY_SQL = f"""
IF NEW.status NOT IN {_SEATS_SQL}
   OR (TG_OP = 'UPDATE' AND OLD.status IN {_SEATS_SQL} AND OLD.course_id = NEW.course_id) THEN
    RETURN NEW;
END IF;
SELECT c.max_enrollments INTO seats FROM "content"."course" c
WHERE c.id = NEW.course_id FOR NO KEY UPDATE;
IF seats IS NOT NULL THEN
    SELECT count(*) INTO taken FROM "progress"."enrollment" e
    WHERE e.course_id = NEW.course_id AND e.status IN {_SEATS_SQL} AND e.id <> NEW.id;
    IF taken >= seats THEN
        RAISE EXCEPTION 'course % is full: % of % seats taken', NEW.course_id, taken, seats
            USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollment_capacity';
    END IF;
END IF;
RETURN NEW;
"""


@pghistory.track(meta={"db_table": 'audit"."progress_enrollment_event'})
class Enrollment(UUIDModel, TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments"
    )
    # PROTECT: a course with enrollments is never hard-deleted (the database refuses too).
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    enrollment_type = models.CharField(
        max_length=12, choices=EnrollmentType.choices, default=EnrollmentType.FREE
    )
    status = models.CharField(
        max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    progress_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    completed_lessons = models.PositiveIntegerField(default=0)
    total_lessons = models.PositiveIntegerField(default=0)
    study_time_seconds = models.PositiveBigIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)
    certificate_issued = models.BooleanField(default=False)
    average_quiz_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    assignments_completed = models.PositiveIntegerField(default=0)
    achievements = models.JSONField(default=list, blank=True)
    run = models.PositiveIntegerField(
        default=1, help_text="1 for the first time through; a reset to retake adds one."
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'progress"."enrollment'
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "course"), name="enrollment_user_course"),
            models.CheckConstraint(
                condition=models.Q(status__in=EnrollmentStatus.values), name="enrollment_status"
            ),
            models.CheckConstraint(
                condition=models.Q(enrollment_type__in=EnrollmentType.values),
                name="enrollment_type",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__gte=0, progress_percent__lte=100),
                name="enrollment_progress_range",
            ),
            models.CheckConstraint(
                condition=models.Q(completed_lessons__lte=models.F("total_lessons")),
                name="enrollment_completed_lte_total",
            ),
            models.CheckConstraint(
                condition=models.Q(average_quiz_score__isnull=True)
                | models.Q(average_quiz_score__gte=0, average_quiz_score__lte=100),
                name="enrollment_quiz_score_range",
            ),
            # The seed's consistency rule: completed <=> progress 100 and completed_at set.
            models.CheckConstraint(
                condition=(
                    models.Q(status="completed", progress_percent=100, completed_at__isnull=False)
                    | (
                        ~models.Q(status="completed")
                        & (models.Q(progress_percent__lt=100) | models.Q(completed_at__isnull=True))
                    )
                ),
                name="enrollment_completion_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(status="dropped") | models.Q(dropped_at__isnull=True),
                name="enrollment_dropped_at_only_when_dropped",
            ),
            models.CheckConstraint(
                condition=models.Q(certificate_issued=False) | models.Q(status="completed"),
                name="enrollment_certificate_needs_completion",
            ),
        ]
        triggers = [
            *TimeStampedModel.Meta.triggers,
            pgtrigger.Trigger(
                name="enrollment_capacity",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("status", "course_id"),
                when=pgtrigger.Before,
                declare=[("seats", "integer"), ("taken", "integer")],
                func=CAPACITY_SQL,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATUSES


@pghistory.track(meta={"db_table": 'audit"."progress_lesson_progress_event'})
class LessonProgress(TimeStampedModel):
    id = models.BigAutoField(primary_key=True)
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    progress_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    time_spent_seconds = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_position = models.JSONField(
        default=dict,
        blank=True,
        help_text='Where to resume, e.g. {"seconds": 312} or {"scroll": 0.4}.',
    )
    notes = models.TextField(blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'progress"."lesson_progress'
        constraints = [
            models.UniqueConstraint(
                fields=("enrollment", "lesson"), name="lesson_progress_enrollment_lesson"
            ),
            models.CheckConstraint(
                condition=models.Q(progress_percent__gte=0, progress_percent__lte=100),
                name="lesson_progress_range",
            ),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True) | models.Q(progress_percent=100),
                name="lesson_progress_completed_is_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson}: {self.progress_percent}%"


@pghistory.track(meta={"db_table": 'audit"."progress_quiz_attempt_event'})
class QuizAttempt(TimeStampedModel):
    id = models.BigAutoField(primary_key=True)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="attempts")
    quiz = models.ForeignKey(InteractiveContent, on_delete=models.PROTECT, related_name="+")
    run = models.PositiveIntegerField(default=1, help_text="The enrollment's run it belongs to.")
    number = models.PositiveIntegerField(help_text="1 for the first attempt at this quiz in a run.")
    answers = models.JSONField(default=dict)
    results = models.JSONField(default=dict, help_text="Per question: correct, points.")
    score = models.DecimalField(max_digits=8, decimal_places=2)
    max_score = models.DecimalField(max_digits=8, decimal_places=2)
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    passed = models.BooleanField()
    # The quiz as graded: its last change time and the id of its audit snapshot.
    quiz_version_at = models.DateTimeField()
    quiz_version_event = models.BigIntegerField(null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'progress"."quiz_attempt'
        ordering = ("enrollment", "quiz", "number")
        constraints = [
            models.UniqueConstraint(
                fields=("enrollment", "quiz", "run", "number"), name="quiz_attempt_number"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=models.F("max_score")),
                name="quiz_attempt_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0, percent__lte=100),
                name="quiz_attempt_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="quiz_attempt_number_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.quiz} #{self.number}: {self.percent}%"


def certificate_code() -> str:
    """12 characters from an alphabet without look-alikes, e.g. 7KQ4-MX2P-9HTB."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@pghistory.track(meta={"db_table": 'audit"."progress_certificate_event'})
class Certificate(UUIDModel, TimeStampedModel):
    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="certificate"
    )
    code = models.CharField(max_length=14, unique=True, default=certificate_code)
    issued_at = models.DateTimeField(default=timezone.now)
    # What the certificate says, fixed when issued (names and titles may change later).
    learner_name = models.CharField(max_length=300)
    course_title = models.CharField(max_length=200)
    instructor_name = models.CharField(max_length=300)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'progress"."certificate'
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$"),
                name="certificate_code_format",
            )
        ]

    def __str__(self) -> str:
        return self.code


class Activity(models.Model):
    """One thing a learner did (viewed a lesson, made progress, attempted a quiz, enrolled).
    Append-only and high-volume: partitioned by month on created_at (migration 0001)."""

    pk = models.CompositePrimaryKey("id", "created_at")
    id = models.BigIntegerField(
        editable=False,
        db_default=models.Func(models.Value("progress.activity_id_seq"), function="nextval"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    activity_type = models.CharField(max_length=40)
    resource_type = models.CharField(max_length=40)
    resource_id = models.UUIDField(null=True)
    course_id = models.UUIDField(null=True)
    data = models.JSONField(default=dict)
    duration_seconds = models.PositiveIntegerField(null=True)
    session_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = 'progress"."activity'
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.user_id} {self.activity_type} {self.resource_type}"
