"""Writes owned by progress: enrolling, dropping, resetting, recording lesson progress and quiz
attempts, completing and certifying, and the activity stream.

Every write to one enrollment first locks its row, so concurrent heartbeats and attempts of one
learner queue and the enrollment's aggregates are recomputed from everything committed before.
"""

import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Exists, Max, OuterRef
from django.utils import timezone

from apps.audit.selectors import latest_event_id
from apps.audit.services import current_context, domain_event_record, domain_events_record_many
from apps.content.models import Course, CourseStatus, InteractiveContent, Lesson, Visibility
from apps.content.selectors import course_title_index, lesson_count_subquery
from apps.content.unlock import unlock_state
from apps.core.db.bulk import insert_unnest
from apps.core.exceptions import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from apps.core.rls import system_context
from apps.progress.grading import grade_quiz
from apps.progress.models import (
    SEAT_STATUSES,
    Activity,
    Certificate,
    Enrollment,
    EnrollmentStatus,
    EnrollmentType,
    LessonProgress,
    QuizAttempt,
)
from apps.progress.selectors import learner_progress

HUNDRED = Decimal(100)


def _percent(part, whole) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def activity_record(
    *,
    user,
    activity_type: str,
    resource_type: str,
    resource_id=None,
    course_id=None,
    data: dict | None = None,
    duration_seconds: int | None = None,
) -> Activity:
    """Append to the activity stream; IP, user agent and request id come from the request's
    audit context when there is one."""
    return Activity.objects.create(
        user_id=user.pk,
        activity_type=activity_type,
        resource_type=resource_type,
        resource_id=resource_id,
        course_id=course_id,
        data=data or {},
        duration_seconds=duration_seconds,
        **_activity_origin(),
    )


def _activity_origin() -> dict:
    """An activity's request id, IP and user agent, from the request's audit context."""
    context = current_context()
    meta = context.metadata if context is not None else {}
    return {
        "session_id": (meta.get("request_id") or "")[:64],
        "ip": meta.get("ip") or None,
        "user_agent": (meta.get("user_agent") or "")[:500],
    }


def _lesson_total(course_id) -> int:
    return Lesson.objects.filter(module__course_id=course_id).count()


def _check_enrollable(*, user, course: Course, enrollment_type: str) -> None:
    if not user.is_active:
        raise PermissionDeniedError("This account cannot enroll.", code="inactive_user")
    if course.deleted_at is not None:
        raise NotFoundError("No such course.")
    if course.status != CourseStatus.PUBLISHED:
        raise ConflictError("This course is not open for enrollment.", code="course_not_published")
    if course.visibility == Visibility.PRIVATE and not user.is_staff:
        raise PermissionDeniedError("This course is private.", code="course_private")
    if enrollment_type == EnrollmentType.FREE and not course.is_free:
        raise PermissionDeniedError(
            f"This course costs {course.price_display}; buy it to enroll.", code="payment_required"
        )
    # One subquery: exclude(enrollments__user=..., enrollments__status=...) would match the
    # user's enrollment and *anyone's* completed one (a multi-valued exclude), letting a learner
    # through who merely started a prerequisite someone else completed.
    completed = Enrollment.objects.filter(user=user, status=EnrollmentStatus.COMPLETED)
    missing = list(
        course.prerequisites.exclude(pk__in=completed.values("course_id")).values_list(
            "title", flat=True
        )
    )
    if missing:
        raise PermissionDeniedError(
            "Complete these courses first: " + ", ".join(sorted(missing)) + ".",
            code="prerequisites_missing",
            fields={"prerequisites": sorted(missing)},
        )


def _course_full(course: Course) -> ConflictError:
    return ConflictError(
        f"“{course.title}” is full ({course.max_enrollments} places).", code="course_full"
    )


@transaction.atomic
def enrollment_create(
    *, user, course: Course, enrollment_type: str = EnrollmentType.FREE
) -> Enrollment:
    """Enroll `user` in `course` (or re-enroll after a drop).

    Raises ConflictError (already enrolled, course full, not published), PermissionDeniedError
    (prerequisites, payment, private) or NotFoundError.
    """
    _check_enrollable(user=user, course=course, enrollment_type=enrollment_type)
    existing = Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    if existing is not None and existing.status != EnrollmentStatus.DROPPED:
        raise ConflictError("You are already enrolled in this course.", code="already_enrolled")
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: the capacity trigger may refuse
            if existing is None:
                enrollment = Enrollment.objects.create(
                    user=user,
                    course=course,
                    enrollment_type=enrollment_type,
                    status=EnrollmentStatus.ACTIVE,
                    started_at=now,
                    last_accessed_at=now,
                    total_lessons=_lesson_total(course.pk),
                )
            else:
                enrollment = existing
                enrollment.status = EnrollmentStatus.ACTIVE
                enrollment.enrollment_type = enrollment_type
                enrollment.dropped_at = None
                enrollment.last_accessed_at = now
                enrollment.save()
    except IntegrityError as exc:
        if "enrollment_capacity" in str(exc):
            raise _course_full(course) from exc
        raise
    domain_event_record(
        aggregate_type="enrollment",
        aggregate_id=enrollment.pk,
        event_type="enrollment.created" if existing is None else "enrollment.reactivated",
        data={"user": str(user.pk), "course": str(course.pk), "type": enrollment_type},
    )
    activity_record(
        user=user,
        activity_type="enrolled",
        resource_type="course",
        resource_id=course.pk,
        course_id=course.pk,
    )
    return enrollment


class EnrollmentOutcome(NamedTuple):
    """What enrollment_create_many did for one user: `outcome` is "enrolled" (created or
    re-activated), "already_enrolled" (an enrollment that is not dropped exists) or "error"
    with the `code` and `message` enrollment_create would have raised."""

    outcome: str
    enrollment_id: object = None
    code: str = ""
    message: str = ""


def _refusal(*, user, course: Course, enrollment_type: str, prerequisites, completed):
    """The error enrollment_create's checks would raise for `user`, as (code, message), or
    None: the same rules in the same order, on data read once for every user."""
    if not user.is_active:
        return "inactive_user", "This account cannot enroll."
    if course.deleted_at is not None:
        return "not_found", "No such course."
    if course.status != CourseStatus.PUBLISHED:
        return "course_not_published", "This course is not open for enrollment."
    if course.visibility == Visibility.PRIVATE and not user.is_staff:
        return "course_private", "This course is private."
    if enrollment_type == EnrollmentType.FREE and not course.is_free:
        return "payment_required", f"This course costs {course.price_display}; buy it to enroll."
    missing = sorted(title for pk, title in prerequisites if (user.pk, pk) not in completed)
    if missing:
        return "prerequisites_missing", "Complete these courses first: " + ", ".join(missing) + "."
    return None


@transaction.atomic(savepoint=False)
def enrollment_create_many(
    *, course: Course, users, enrollment_type: str = EnrollmentType.FREE
) -> dict:
    """Enroll many users in one course with what enrollment_create does for each, set-based: a
    constant number of statements whatever the number of users (about ten).

    The same checks (account, course state, visibility, payment, prerequisites), the same rows
    (total_lessons, a dropped enrollment re-activated), the same domain events
    (`enrollment.created` / `enrollment.reactivated`, gap-free versions) and activity. Locks as
    enrollment_create does, in the same order (the users' existing enrollments, then the course
    row the capacity trigger takes), counts the taken seats once (as the system: every seat, as
    the SECURITY DEFINER trigger counts them) and gives the remaining seats to the users in the
    order given; the others get `course_full`. The trigger still checks every row.

    Returns {user id: EnrollmentOutcome}, in the order given (a user given twice counts once).
    Refusals are reported, not raised, so it opens no savepoint: a bulk caller's chunk stays one
    transaction however many courses it enrolls into.
    """
    users = list({user.pk: user for user in users}.values())
    results: dict = {}
    if not users:
        return results
    user_ids = [user.pk for user in users]
    existing = {
        e.user_id: e
        for e in Enrollment.objects.select_for_update()
        .filter(course_id=course.pk, user_id__in=user_ids)
        .only("id", "user_id", "status")
    }
    course = Course.all_objects.select_for_update(no_key=True).get(pk=course.pk)
    prerequisites = list(course.prerequisites.values_list("pk", "title"))
    completed = set()
    if prerequisites:
        completed = set(
            Enrollment.objects.filter(
                user_id__in=user_ids,
                course_id__in=[pk for pk, _title in prerequisites],
                status=EnrollmentStatus.COMPLETED,
            ).values_list("user_id", "course_id")
        )
    candidates = []
    for user in users:
        refusal = _refusal(
            user=user,
            course=course,
            enrollment_type=enrollment_type,
            prerequisites=prerequisites,
            completed=completed,
        )
        found = existing.get(user.pk)
        if refusal is not None:
            results[user.pk] = EnrollmentOutcome("error", code=refusal[0], message=refusal[1])
        elif found is not None and found.status != EnrollmentStatus.DROPPED:
            results[user.pk] = EnrollmentOutcome("already_enrolled", found.pk)
        else:
            results[user.pk] = None  # keeps the order; filled below
            candidates.append(user)
    if course.max_enrollments is not None and candidates:
        with system_context():
            taken = Enrollment.objects.filter(course_id=course.pk, status__in=SEAT_STATUSES).count()
        full = _course_full(course)
        for user in candidates[max(course.max_enrollments - taken, 0) :]:
            results[user.pk] = EnrollmentOutcome("error", code=full.code, message=full.message)
        candidates = candidates[: max(course.max_enrollments - taken, 0)]
    if not candidates:
        return results
    now = timezone.now()
    reactivated = [existing[u.pk] for u in candidates if u.pk in existing]
    total_lessons = _lesson_total(course.pk) if len(reactivated) < len(candidates) else 0
    new = [user.pk for user in candidates if user.pk not in existing]
    if reactivated:
        Enrollment.objects.filter(pk__in=[e.pk for e in reactivated]).update(
            status=EnrollmentStatus.ACTIVE,
            enrollment_type=enrollment_type,
            dropped_at=None,
            last_accessed_at=now,
        )
    inserted = {}
    if new:
        # ON CONFLICT DO NOTHING: a user enrolled by someone else between the read of the
        # existing enrollments and the course lock is reported as already enrolled.
        template = Enrollment(
            course_id=course.pk,
            enrollment_type=enrollment_type,
            status=EnrollmentStatus.ACTIVE,
            started_at=now,
            last_accessed_at=now,
            total_lessons=total_lessons,
        )
        rows = insert_unnest(
            Enrollment,
            template=template,
            varying={"id": [uuid.uuid4() for _user in new], "user_id": new},
            conflict="ON CONFLICT DO NOTHING",
            returning=("user_id", "id"),
        )
        inserted = dict(rows)
    events, enrolled = [], []
    for enrollment in reactivated:
        events.append((enrollment.pk, "enrollment.reactivated", enrollment.user_id))
    for user_id in new:
        if user_id in inserted:
            events.append((inserted[user_id], "enrollment.created", user_id))
        else:
            results[user_id] = EnrollmentOutcome("already_enrolled")
    for enrollment_id, _type, user_id in events:
        results[user_id] = EnrollmentOutcome("enrolled", enrollment_id)
        enrolled.append(user_id)
    domain_events_record_many(
        aggregate_type="enrollment",
        events=[
            (
                enrollment_id,
                event_type,
                {"user": str(user_id), "course": str(course.pk), "type": enrollment_type},
            )
            for enrollment_id, event_type, user_id in events
        ],
    )
    context = current_context()
    meta = context.metadata if context is not None else {}
    template = Activity(
        activity_type="enrolled",
        resource_type="course",
        resource_id=course.pk,
        course_id=course.pk,
        data={},
        session_id=(meta.get("request_id") or "")[:64],
        ip=meta.get("ip") or None,
        user_agent=(meta.get("user_agent") or "")[:500],
    )
    insert_unnest(Activity, template=template, varying={"user_id": enrolled})
    return results


def _locked(enrollment: Enrollment) -> Enrollment:
    locked = Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)
    _keep_user(enrollment, locked)
    return locked


def _keep_user(given: Enrollment, locked: Enrollment) -> None:
    """The account the caller already holds is not read again (it is the same row)."""
    if Enrollment.user.is_cached(given) and given.user_id == locked.user_id:
        locked.user = given.user


@transaction.atomic
def enrollment_drop(*, enrollment: Enrollment) -> Enrollment:
    """Leave a course (the seat is freed; progress is kept for a later re-enrollment).
    Raises ConflictError if already dropped."""
    enrollment = _locked(enrollment)
    if enrollment.status == EnrollmentStatus.DROPPED:
        raise ConflictError("This enrollment is already dropped.", code="already_dropped")
    enrollment.status = EnrollmentStatus.DROPPED
    enrollment.dropped_at = timezone.now()
    enrollment.certificate_issued = False
    enrollment.completed_at = None
    enrollment.save()
    domain_event_record(
        aggregate_type="enrollment", aggregate_id=enrollment.pk, event_type="enrollment.dropped"
    )
    return enrollment


@transaction.atomic
def enrollment_suspend(*, enrollment: Enrollment, reason: str = "") -> Enrollment:
    """Suspend an active or completed enrollment (e.g. its payment was refunded): the seat and
    progress stay, the learner can no longer record progress. Raises ConflictError otherwise."""
    enrollment = _locked(enrollment)
    if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
        raise ConflictError(
            f"This enrollment is {enrollment.get_status_display().lower()}.",
            code="not_suspendable",
        )
    enrollment.status = EnrollmentStatus.SUSPENDED
    enrollment.completed_at = None
    enrollment.certificate_issued = False
    enrollment.save()
    domain_event_record(
        aggregate_type="enrollment",
        aggregate_id=enrollment.pk,
        event_type="enrollment.suspended",
        data={"reason": reason},
    )
    return enrollment


@transaction.atomic
def enrollment_reset(*, enrollment: Enrollment) -> Enrollment:
    """Start the course again: a new run with no lesson progress. The previous run stays in the
    audit trail, its quiz attempts stay (with their run), and an issued certificate stays valid.
    Raises ConflictError unless the enrollment is active or completed."""
    enrollment = _locked(enrollment)
    if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
        raise ConflictError(
            "Only an active or completed enrollment can be reset.", code="not_resettable"
        )
    previous = {
        "run": enrollment.run,
        "progress_percent": str(enrollment.progress_percent),
        "completed_at": enrollment.completed_at.isoformat() if enrollment.completed_at else None,
    }
    enrollment.lesson_progress.all().delete()
    enrollment.run += 1
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.completed_at = None
    enrollment.certificate_issued = False
    enrollment.save()
    _refresh(enrollment)
    domain_event_record(
        aggregate_type="enrollment",
        aggregate_id=enrollment.pk,
        event_type="enrollment.reset",
        data={"previous": previous},
    )
    return enrollment


def _require_active(enrollment: Enrollment) -> None:
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise ConflictError(
            f"This enrollment is {enrollment.get_status_display().lower()}.",
            code="enrollment_not_active",
        )


def _lesson_of_course(enrollment: Enrollment, lesson_id) -> Lesson:
    """The lesson (only what a heartbeat reads of it), with `was_done`: whether the enrollment
    had already completed it, in the same statement."""
    lesson = (
        Lesson.objects.filter(pk=lesson_id, module__course_id=enrollment.course_id)
        .order_by()  # one row: no join to the course for the default ordering's sort
        .only("id", "lesson_type", "unlock_conditions")
        .annotate(
            was_done=Exists(
                LessonProgress.objects.filter(
                    enrollment_id=enrollment.pk,
                    lesson_id=OuterRef("pk"),
                    completed_at__isnull=False,
                )
            )
        )
        .first()
    )
    if lesson is None:
        raise DomainError(
            "That lesson is not part of this course.",
            code="lesson_not_in_course",
            fields={"lesson": ["Not a lesson of this course."]},
        )
    return lesson


def _require_unlocked(enrollment: Enrollment, lesson: Lesson) -> None:
    if not lesson.unlock_conditions:
        return
    state = unlock_state(
        lesson.unlock_conditions,
        progress=learner_progress(enrollment=enrollment),
        titles=course_title_index(course=enrollment.course),
    )
    if not state.unlocked:
        raise PermissionDeniedError(
            "This lesson is locked: " + " ".join(state.unmet), code="lesson_locked"
        )


_PROGRESS_FIELDS = LessonProgress._meta.concrete_fields
_PROGRESS_UPSERT = f"""
    INSERT INTO "progress"."lesson_progress" AS lp
        (enrollment_id, lesson_id, progress_percent, time_spent_seconds, attempts,
         started_at, completed_at, last_position, notes, created_at, updated_at)
    VALUES (%(e)s, %(l)s, %(p)s, %(t)s, 1, %(now)s,
            CASE WHEN %(p)s = 100 THEN %(now)s END, %(pos)s::jsonb, %(notes)s,
            %(now)s, %(now)s)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET
        progress_percent = GREATEST(lp.progress_percent, EXCLUDED.progress_percent),
        time_spent_seconds = lp.time_spent_seconds + EXCLUDED.time_spent_seconds,
        completed_at = COALESCE(lp.completed_at, EXCLUDED.completed_at),
        last_position = CASE WHEN %(has_pos)s THEN EXCLUDED.last_position
                             ELSE lp.last_position END,
        notes = CASE WHEN %(has_notes)s THEN EXCLUDED.notes ELSE lp.notes END
    RETURNING {", ".join(f'lp."{f.column}"' for f in _PROGRESS_FIELDS)}
"""  # noqa: S608 (the model's own column names, no input)
# A heartbeat that completes nothing: the upsert, the enrollment's time and last access, and the
# activity row in one statement (one round trip; the audit triggers fire as for three).
_PLAIN_HEARTBEAT = f"""
    WITH upsert AS ({_PROGRESS_UPSERT}),
    enrollment AS (
        UPDATE "progress"."enrollment"
        SET last_accessed_at = %(now)s, study_time_seconds = study_time_seconds + %(t)s
        WHERE id = %(e)s
    ),
    activity AS (
        INSERT INTO "progress"."activity"
            (created_at, user_id, activity_type, resource_type, resource_id, course_id, data,
             duration_seconds, session_id, ip, user_agent)
        VALUES (%(now)s, %(user)s, 'lesson_progress', 'lesson', %(l)s, %(course)s,
                %(data)s::jsonb, %(t)s, %(session)s, %(ip)s::inet, %(agent)s)
    )
    SELECT * FROM upsert
"""  # noqa: S608 (fixed text)


@transaction.atomic
def lesson_progress_record(
    *,
    enrollment: Enrollment | None = None,
    learner=None,
    enrollment_id=None,
    lesson_id,
    percent,
    time_delta_seconds: int = 0,
    position: dict | None = None,
    notes: str | None = None,
) -> LessonProgress:
    """Record a heartbeat: progress never goes backwards, time adds up, the position is where
    to resume. Idempotent for repeated heartbeats. Quiz lessons are completed by passing their
    quiz, so heartbeats stop them at 99%.

    The enrollment is `enrollment`, or (the API) `learner`'s enrollment `enrollment_id`, read
    and locked in one statement (NotFoundError when it is not theirs).

    The enrollment's aggregates (completed lessons, percent, quiz average, completion and its
    certificate) are recomputed only when they can have changed: when this heartbeat completed
    a lesson, or when the course's lesson count is no longer the enrollment's total (lessons
    were added or removed since). A heartbeat that completes nothing cannot change them (quiz
    scores change through quiz_attempt_submit, which recomputes them).

    Raises DomainError (bad values, lesson of another course), PermissionDeniedError (locked),
    ConflictError (enrollment not active), NotFoundError (see above).
    """
    # Only the enrollment's row is locked (FOR NO KEY UPDATE: rows referencing it may still be
    # inserted); not its course's, which would queue every learner of the course behind one
    # another. The course is read only when needed (unlock conditions, completion).
    query = Enrollment.objects.select_for_update(no_key=True).annotate(
        lesson_total=lesson_count_subquery("course_id")
    )
    if enrollment is None:
        enrollment = query.filter(pk=enrollment_id, user_id=learner.pk).first()
        if enrollment is None:
            raise NotFoundError("Not found.")
        enrollment.user = learner
    else:
        given, enrollment = enrollment, query.get(pk=enrollment.pk)
        _keep_user(given, enrollment)
        if Enrollment.course.is_cached(given) and given.course_id == enrollment.course_id:
            enrollment.course = given.course
    _require_active(enrollment)
    lesson = _lesson_of_course(enrollment, lesson_id)
    try:
        percent = Decimal(str(percent))
    except ArithmeticError as exc:
        raise DomainError(
            "Progress must be a number.", fields={"percent": ["Not a number."]}
        ) from exc
    if not Decimal(0) <= percent <= HUNDRED:
        raise DomainError("Progress is between 0 and 100.", fields={"percent": ["0 to 100."]})
    if not 0 <= time_delta_seconds <= settings.PROGRESS_MAX_HEARTBEAT_SECONDS:
        raise DomainError(
            f"Time spent per heartbeat is 0 to {settings.PROGRESS_MAX_HEARTBEAT_SECONDS} seconds.",
            fields={"time_delta_seconds": ["Out of range."]},
        )
    _require_unlocked(enrollment, lesson)
    if lesson.lesson_type == "quiz":
        percent = min(percent, Decimal(99))
    now = timezone.now()
    # Whether this heartbeat completes the lesson is known before the upsert (under the lock):
    # completed_at is only ever set from null, at 100 %.
    completed = percent == HUNDRED and not lesson.was_done
    plain = not completed and enrollment.total_lessons == enrollment.lesson_total
    params = {
        "e": enrollment.pk,
        "l": lesson.pk,
        "p": percent,
        "t": time_delta_seconds,
        "now": now,
        "pos": json.dumps(position or {}),
        "notes": notes or "",
        "has_pos": position is not None,
        "has_notes": notes is not None,
    }
    activity = {
        "data": {"percent": str(percent)},
        "duration_seconds": time_delta_seconds,
    }
    if plain:
        origin = _activity_origin()
        params |= {
            "user": enrollment.user_id,
            "course": enrollment.course_id,
            "data": json.dumps(activity["data"]),
            "session": origin["session_id"],
            "ip": origin["ip"],
            "agent": origin["user_agent"],
        }
    with connection.cursor() as cursor:
        cursor.execute(_PLAIN_HEARTBEAT if plain else _PROGRESS_UPSERT, params)
        values = cursor.fetchone()
    row = LessonProgress.from_db(
        connection.alias,
        [f.attname for f in _PROGRESS_FIELDS],
        [
            f.from_db_value(value, None, connection) if hasattr(f, "from_db_value") else value
            for f, value in zip(_PROGRESS_FIELDS, values, strict=True)
        ],
    )
    enrollment.last_accessed_at = now
    enrollment.study_time_seconds += time_delta_seconds  # kept across runs
    if plain:
        return row
    if completed:
        _lesson_completed(enrollment, lesson.pk)
    _refresh(enrollment, lesson_total=enrollment.lesson_total)
    activity_record(
        user=enrollment.user,
        activity_type="lesson_progress",
        resource_type="lesson",
        resource_id=lesson.pk,
        course_id=enrollment.course_id,
        **activity,
    )
    return row


def _lesson_completed(enrollment: Enrollment, lesson_id) -> None:
    domain_event_record(
        aggregate_type="enrollment",
        aggregate_id=enrollment.pk,
        event_type="lesson.completed",
        data={"lesson": str(lesson_id), "run": enrollment.run},
    )


def _quiz_lesson_complete(enrollment: Enrollment, lesson_id, now) -> None:
    if not LessonProgress.objects.filter(
        enrollment=enrollment, lesson_id=lesson_id, completed_at__isnull=False
    ).exists():
        _lesson_completed(enrollment, lesson_id)
    LessonProgress.objects.update_or_create(
        enrollment=enrollment,
        lesson_id=lesson_id,
        defaults={"progress_percent": HUNDRED},
        create_defaults={"progress_percent": HUNDRED, "completed_at": now, "attempts": 1},
    )
    LessonProgress.objects.filter(
        enrollment=enrollment, lesson_id=lesson_id, completed_at__isnull=True
    ).update(completed_at=now)


@transaction.atomic
def quiz_attempt_submit(*, enrollment: Enrollment, quiz_id, answers: dict) -> QuizAttempt:
    """Grade an attempt against the quiz as it is now and record which version that was.
    Passing completes the quiz's lesson.

    Raises DomainError (unknown quiz or questions), ConflictError (attempt limit, not active),
    PermissionDeniedError (lesson locked).
    """
    enrollment = _locked(enrollment)
    _require_active(enrollment)
    quiz = (
        InteractiveContent.objects.select_related("lesson")
        .filter(pk=quiz_id, content_type="quiz", lesson__module__course_id=enrollment.course_id)
        .first()
    )
    if quiz is None:
        raise DomainError(
            "That quiz is not part of this course.",
            code="quiz_not_in_course",
            fields={"quiz": ["Not a quiz of this course."]},
        )
    _require_unlocked(enrollment, quiz.lesson)
    if not isinstance(answers, dict):
        raise DomainError(
            "Answers are an object of question id to answer.",
            fields={"answers": ["Must be an object."]},
        )
    graded = grade_quiz(quiz.configuration, answers)  # raises DomainError on unknown questions
    done = QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz, run=enrollment.run).count()
    if done >= settings.QUIZ_MAX_ATTEMPTS:
        raise ConflictError(
            f"You have used all {settings.QUIZ_MAX_ATTEMPTS} attempts at this quiz.",
            code="attempt_limit",
        )
    now = timezone.now()
    attempt = QuizAttempt.objects.create(
        enrollment=enrollment,
        quiz=quiz,
        run=enrollment.run,
        number=done + 1,
        answers=answers,
        results=graded.results,
        score=graded.score,
        max_score=graded.max_score,
        percent=graded.percent,
        passed=graded.passed,
        quiz_version_at=quiz.updated_at,
        quiz_version_event=latest_event_id(obj=quiz),
    )
    if graded.passed:
        _quiz_lesson_complete(enrollment, quiz.lesson_id, now)
    enrollment.last_accessed_at = now
    _refresh(enrollment)
    activity_record(
        user=enrollment.user,
        activity_type="quiz_attempt",
        resource_type="quiz",
        resource_id=quiz.pk,
        course_id=enrollment.course_id,
        data={"percent": str(graded.percent), "passed": graded.passed, "number": attempt.number},
    )
    return attempt


def _refresh(enrollment: Enrollment, *, lesson_total: int | None = None) -> None:
    """Recompute the enrollment's aggregates from its rows (the caller holds its lock) and
    complete it when every lesson is done. `lesson_total`: the course's lesson count when the
    caller has just read it."""
    done = enrollment.lesson_progress.filter(completed_at__isnull=False).count()
    best_per_quiz = (
        QuizAttempt.objects.filter(enrollment=enrollment, run=enrollment.run)
        .values("quiz")
        .annotate(best=Max("percent"))
    )
    average = best_per_quiz.aggregate(avg=Avg("best"))["avg"]
    enrollment.total_lessons = (
        _lesson_total(enrollment.course_id) if lesson_total is None else lesson_total
    )
    enrollment.completed_lessons = min(done, enrollment.total_lessons)
    enrollment.average_quiz_score = (
        Decimal(average).quantize(Decimal("0.01"), ROUND_HALF_UP) if average is not None else None
    )
    complete = (
        enrollment.total_lessons > 0
        and enrollment.completed_lessons == enrollment.total_lessons
        and enrollment.status == EnrollmentStatus.ACTIVE
    )
    if complete:
        enrollment.progress_percent = HUNDRED
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = timezone.now()
    elif enrollment.status != EnrollmentStatus.COMPLETED:
        enrollment.progress_percent = _percent(
            enrollment.completed_lessons, enrollment.total_lessons
        )
    enrollment.save()
    if complete:
        _complete(enrollment)


def _complete(enrollment: Enrollment) -> None:
    certificate = certificate_issue(enrollment=enrollment)
    domain_event_record(
        aggregate_type="enrollment",
        aggregate_id=enrollment.pk,
        event_type="course.completed",
        data={"course": str(enrollment.course_id), "run": enrollment.run},
    )
    activity_record(
        user=enrollment.user,
        activity_type="course_completed",
        resource_type="course",
        resource_id=enrollment.course_id,
        course_id=enrollment.course_id,
        data={"certificate": certificate.code},
    )


def certificate_issue(*, enrollment: Enrollment) -> Certificate:
    """The enrollment's certificate, issued on first completion (later runs keep it)."""
    existing = Certificate.objects.filter(enrollment=enrollment).first()
    if existing is None:
        course = enrollment.course
        existing = Certificate.objects.create(
            enrollment=enrollment,
            learner_name=enrollment.user.get_full_name(),
            course_title=course.title,
            instructor_name=course.instructor.get_full_name(),
        )
        domain_event_record(
            aggregate_type="enrollment",
            aggregate_id=enrollment.pk,
            event_type="certificate.issued",
            data={"code": existing.code},
        )
    Enrollment.objects.filter(pk=enrollment.pk).update(certificate_issued=True)
    enrollment.certificate_issued = True
    return existing
