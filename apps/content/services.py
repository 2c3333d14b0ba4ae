"""Writes owned by content: categories, courses, modules, lessons, interactive content, plans.

Every service validates first and raises `ValidationError` (a 400 with field errors) or a
`DomainError` subclass; the database refuses the same when the application is bypassed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from uuid import UUID

from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType as DjangoContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.audit.services import domain_event_record
from apps.content.models import (
    CATEGORY_MAX_LEVEL,
    COURSE_TRANSITIONS,
    AccessType,
    Category,
    Course,
    CoursePrerequisite,
    CourseStatus,
    InteractiveContent,
    Lesson,
    LessonPlan,
    Module,
    Objective,
    ObjectiveQuestion,
)
from apps.content.schemas import (
    LESSON_DATA_SCHEMA,
    UNLOCK_CONDITIONS_SCHEMA,
    configuration_errors,
    quiz_question_ids,
    schema_errors,
    validate_activities,
    validate_string_list,
)
from apps.core.exceptions import ConflictError, PermissionDeniedError
from apps.rbac.selectors import user_has_permission, user_is_eligible

COURSE_FIELDS = (
    "title",
    "slug",
    "short_description",
    "description",
    "category",
    "level",
    "language",
    "price_minor",
    "currency",
    "access_type",
    "estimated_duration_minutes",
    "learning_objectives",
    "tags",
    "thumbnail_url",
    "preview_video_url",
    "visibility",
    "is_featured",
    "seo_title",
    "seo_description",
    "meta_keywords",
    "max_enrollments",
    "instructor",
)
INSTRUCTOR_OBJECT_PERMISSIONS = ("course.view", "course.edit")
MODULE_FIELDS = ("title", "description", "estimated_duration_minutes")
LESSON_FIELDS = (
    "title",
    "content",
    "lesson_type",
    "duration_minutes",
    "video_url",
    "is_preview",
    "unlock_conditions",
)
PLAN_FIELDS = (
    "title",
    "subject_category",
    "grade_level",
    "week_of",
    "content_area",
    "lesson_data",
    "materials",
    "activities",
    "assessment_criteria",
    "feedback",
    "status",
    "tags",
)


# -- permissions --------------------------------------------------------------------------


def _require(actor, name: str, obj, message: str) -> None:
    if not user_has_permission(actor, name, obj):
        raise PermissionDeniedError(message)


def course_can_edit(*, user, course: Course) -> bool:
    """May `user` change this course, its modules, lessons and interactive content?

    Its instructor may; so may holders of course.edit on it (role grant or guardian).
    """
    if user_is_eligible(user) and course.instructor_id == user.pk:
        return True
    return user_has_permission(user, "course.edit", course)


def course_can_create(*, user, category: Category | None = None) -> bool:
    """Course creators: `course.create`, or an instructor's `course.edit`, held globally or on
    the category (or an ancestor) the course goes into."""
    return user_has_permission(user, "course.create", category) or user_has_permission(
        user, "course.edit", category
    )


def _require_edit(actor, course: Course) -> None:
    if not course_can_edit(user=actor, course=course):
        raise PermissionDeniedError("You may not edit this course.")


def _full_clean(instance, exclude: Iterable[str] = ()) -> None:
    instance.full_clean(exclude=list(exclude), validate_constraints=False)


# -- categories ---------------------------------------------------------------------------


def _category_check_parent(category: Category, parent: Category | None) -> None:
    if parent is None:
        return
    existing = not category._state.adding
    if existing and (parent.pk == category.pk or parent.path.startswith(category.path)):
        raise ValidationError(
            {"parent": f"“{parent}” is inside “{category}”: that would make a cycle."}
        )
    depth = 1
    if existing:
        deepest = (
            Category.objects.filter(path__startswith=category.path).aggregate(m=Max("level"))["m"]
            or category.level
        )
        depth = deepest - category.level + 1
    if parent.level + depth > CATEGORY_MAX_LEVEL:
        raise ValidationError(
            {
                "parent": f"Categories nest at most {CATEGORY_MAX_LEVEL} levels deep; "
                f"under “{parent}” (level {parent.level}) this would reach level "
                f"{parent.level + depth}."
            }
        )


@transaction.atomic
def category_create(
    *,
    actor,
    name: str,
    slug: str,
    parent: Category | None = None,
    description: str = "",
    is_active: bool = True,
    metadata: dict | None = None,
) -> Category:
    """Add a category under `parent` (or at the top).

    Raises PermissionDeniedError without `category.manage`, ValidationError for a taken slug,
    a sibling with the same name or a level beyond 5.
    """
    _require(actor, "category.manage", parent, "You may not manage categories here.")
    category = Category(
        name=name,
        slug=slug,
        parent=parent,
        description=description,
        is_active=is_active,
        metadata=metadata if metadata is not None else {},
    )
    _category_check_parent(category, parent)
    _full_clean(category)
    if Category.objects.filter(parent=parent, name__iexact=name).exists():
        raise ValidationError({"name": "A category with this name already exists here."})
    category.save()
    category.refresh_from_db(fields=["level", "path"])
    return category


@transaction.atomic
def category_update(*, actor, category: Category, **changes) -> Category:
    """Change name, slug, description, active flag or metadata (moving is `category_move`)."""
    _require(actor, "category.manage", category, "You may not manage this category.")
    for field, value in changes.items():
        if field not in ("name", "slug", "description", "is_active", "metadata"):
            raise ValidationError(f"Not a category field: {field}.")
        setattr(category, field, value)
    _full_clean(category)
    category.save()
    return category


@transaction.atomic
def category_move(*, actor, category: Category, parent: Category | None) -> Category:
    """Put `category` (and its subtree) under `parent`.

    Raises ValidationError for a cycle or a subtree that would exceed level 5.
    """
    _require(actor, "category.manage", category, "You may not manage this category.")
    if parent is not None:
        _require(actor, "category.manage", parent, "You may not manage the target category.")
        parent.refresh_from_db(fields=["level", "path"])
    category.refresh_from_db(fields=["level", "path"])
    _category_check_parent(category, parent)
    category.parent = parent
    category.save(update_fields=["parent", "updated_at"])
    category.refresh_from_db(fields=["level", "path"])
    return category


# -- courses ------------------------------------------------------------------------------


def _course_validate(course: Course) -> None:
    errors: dict[str, list[str]] = {}
    if course.access_type == AccessType.FREE and course.price_minor:
        errors.setdefault("price_minor", []).append("A free course has price 0.")
    if course.access_type != AccessType.FREE and not course.price_minor:
        errors.setdefault("price_minor", []).append(
            "Paid and subscription courses need a price above 0."
        )
    if course.max_enrollments is not None and course.max_enrollments < 1:
        errors.setdefault("max_enrollments", []).append("Must be at least 1, or empty.")
    if course.currency and course.currency != course.currency.upper():
        course.currency = course.currency.upper()
    try:
        _full_clean(course, exclude=("search_vector",))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _course_set_prerequisites(course: Course, prerequisites: Sequence[Course]) -> None:
    if any(p.pk == course.pk for p in prerequisites):
        raise ValidationError({"prerequisites": "A course cannot be its own prerequisite."})
    CoursePrerequisite.objects.filter(course=course).exclude(
        prerequisite__in=[p.pk for p in prerequisites]
    ).delete()
    existing = set(
        CoursePrerequisite.objects.filter(course=course).values_list("prerequisite_id", flat=True)
    )
    CoursePrerequisite.objects.bulk_create(
        [
            CoursePrerequisite(course=course, prerequisite=p)
            for p in prerequisites
            if p.pk not in existing
        ]
    )


def _grant_instructor(course: Course) -> None:
    content_type = DjangoContentType.objects.get_for_model(Course)
    for permission in AuthPermission.objects.filter(
        content_type=content_type, codename__in=INSTRUCTOR_OBJECT_PERMISSIONS
    ):
        assign_perm(permission, course.instructor, course)


@transaction.atomic
def course_create(
    *, actor, title: str, slug: str, prerequisites: Sequence[Course] = (), **fields
) -> Course:
    """Create a draft course; its instructor (the actor unless given) gets the guardian object
    permissions course.view and course.edit on it.

    Raises PermissionDeniedError when the actor may not create courses (in that category) or
    name another instructor without `course.create`; ValidationError for bad or taken values.
    """
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError(f"Not a course field: {', '.join(sorted(unknown))}.")
    category = fields.get("category")
    if not course_can_create(user=actor, category=category):
        raise PermissionDeniedError("You may not create courses here.")
    instructor = fields.pop("instructor", None) or actor
    if instructor != actor and not user_has_permission(actor, "course.create", category):
        raise PermissionDeniedError("Only course creators may name another instructor.")
    if not user_is_eligible(instructor):
        raise ValidationError({"instructor": "The instructor must be an active user."})
    course = Course(title=title, slug=slug, instructor=instructor, created_by=actor, **fields)
    _course_validate(course)
    course.save()
    if prerequisites:
        _course_set_prerequisites(course, prerequisites)
    _grant_instructor(course)
    return course


@transaction.atomic
def course_update(
    *, actor, course: Course, prerequisites: Sequence[Course] | None = None, **changes
) -> Course:
    """Change a course's fields (not its status: see `course_transition`).

    Raises PermissionDeniedError without course.edit on it, ValidationError for bad values.
    """
    _require_edit(actor, course)
    unknown = set(changes) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError(f"Not a course field: {', '.join(sorted(unknown))}.")
    if (
        "instructor" in changes
        and changes["instructor"] != course.instructor
        and not user_has_permission(actor, "course.create", course)
    ):
        raise PermissionDeniedError("Only course creators may change the instructor.")
    if (
        "category" in changes
        and changes["category"] != course.category
        and not course_can_create(user=actor, category=changes["category"])
    ):
        raise PermissionDeniedError("You may not move courses into that category.")
    for field, value in changes.items():
        setattr(course, field, value)
    _course_validate(course)
    course.save()
    if prerequisites is not None:
        _course_set_prerequisites(course, prerequisites)
    if "instructor" in changes:
        _grant_instructor(course)
    return course


def course_transition_check(*, actor, course: Course, to_status: str) -> None:
    """Raise unless `actor` may move `course` to `to_status` now.

    ConflictError for an illegal transition (e.g. draft -> published); PermissionDeniedError
    when review -> published lacks course.publish, archiving lacks course.publish or
    course.delete, or any other move lacks course.edit.
    """
    if to_status not in CourseStatus.values:
        raise ValidationError({"status": f"Unknown status {to_status!r}."})
    allowed = COURSE_TRANSITIONS.get(course.status, ())
    if to_status not in allowed:
        raise ConflictError(
            f"A {course.status} course cannot become {to_status}"
            + (f"; it can become {', '.join(allowed)}." if allowed else "."),
            code="illegal_transition",
            fields={"status": [f"Not allowed from {course.status}."]},
        )
    if to_status == CourseStatus.PUBLISHED:
        _require(actor, "course.publish", course, "Publishing needs the course.publish permission.")
    elif to_status == CourseStatus.ARCHIVED:
        if not (
            user_has_permission(actor, "course.publish", course)
            or user_has_permission(actor, "course.delete", course)
        ):
            raise PermissionDeniedError("Archiving needs course.publish or course.delete.")
    else:
        _require_edit(actor, course)


@transaction.atomic
def course_transition(*, actor, course: Course, to_status: str) -> Course:
    """Move a course along draft -> review -> published -> archived (review -> draft and
    archived -> draft too). Raises what `course_transition_check` raises."""
    locked = Course.all_objects.select_for_update().get(pk=course.pk)
    course.status = locked.status
    course_transition_check(actor=actor, course=course, to_status=to_status)
    previous = course.status
    course.status = to_status
    course.save(update_fields=["status", "updated_at"])
    course.refresh_from_db(fields=["status", "published_at"])
    if to_status in (CourseStatus.PUBLISHED, CourseStatus.ARCHIVED):
        domain_event_record(
            aggregate_type="course",
            aggregate_id=course.pk,
            event_type=f"course.{to_status}",
            data={"slug": course.slug, "from": previous, "to": to_status},
            actor=actor,
        )
    return course


@transaction.atomic
def course_soft_delete(*, actor, course: Course) -> Course:
    """Hide a course everywhere (its slug stays reserved). Needs course.delete."""
    _require(actor, "course.delete", course, "Deleting a course needs course.delete.")
    if course.deleted_at is None:
        course.deleted_at = timezone.now()
        course.save(update_fields=["deleted_at", "updated_at"])
    return course


# -- modules and lessons ------------------------------------------------------------------


def _renumber(items: Sequence, new_order: Sequence[UUID], label: str) -> None:
    by_id = {item.pk: item for item in items}
    wanted = [UUID(str(i)) for i in new_order]
    if len(wanted) != len(set(wanted)) or set(wanted) != set(by_id):
        raise ValidationError({"order": f"Give every {label} of this parent exactly once."})
    changed = []
    for position, pk in enumerate(wanted, start=1):
        item = by_id[pk]
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        # One transaction, deferred unique constraint: positions may collide mid-way.
        type(items[0]).objects.bulk_update(changed, ["position"])


def _insert_position(model, parent_filter: dict, position: int | None) -> int:
    last = model.objects.filter(**parent_filter).aggregate(m=Max("position"))["m"] or 0
    if position is None or position > last:
        return last + 1
    if position < 1:
        raise ValidationError({"position": "Positions start at 1."})
    siblings = list(model.objects.filter(**parent_filter, position__gte=position))
    for sibling in siblings:
        sibling.position += 1
    model.objects.bulk_update(siblings, ["position"])
    return position


@transaction.atomic
def module_create(
    *, actor, course: Course, title: str, position: int | None = None, **fields
) -> Module:
    """Add a module to a course, at the end or at `position` (later modules move down)."""
    _require_edit(actor, course)
    module = Module(course=course, title=title, position=1, **fields)
    _full_clean(module)
    module.position = _insert_position(Module, {"course": course}, position)
    module.save()
    return module


@transaction.atomic
def module_update(*, actor, module: Module, **changes) -> Module:
    """Change a module's title, description or duration."""
    _require_edit(actor, module.course)
    for field, value in changes.items():
        if field not in MODULE_FIELDS:
            raise ValidationError(f"Not a module field: {field}.")
        setattr(module, field, value)
    _full_clean(module)
    module.save()
    return module


@transaction.atomic
def module_reorder(*, actor, course: Course, module_ids: Sequence[UUID]) -> list[Module]:
    """Renumber a course's modules 1..n in the order given (every module exactly once)."""
    _require_edit(actor, course)
    modules = list(Module.objects.select_for_update().filter(course=course))
    if modules:
        _renumber(modules, module_ids, "module")
    return sorted(modules, key=lambda m: m.position)


def lesson_unlock_errors(lesson: Lesson, conditions) -> list[str]:
    """Messages for every malformed unlock condition or one naming another course's lesson or
    quiz (empty when all is well)."""
    messages = schema_errors(UNLOCK_CONDITIONS_SCHEMA, conditions)
    if messages:
        return messages
    course_id = lesson.module.course_id
    lesson_refs = {c["lesson"] for c in conditions if c["type"] == "after_lesson"}
    quiz_refs = {c["quiz"] for c in conditions if c["type"] == "min_score"}
    same_course_lessons = {
        str(pk)
        for pk in Lesson.objects.filter(
            pk__in=lesson_refs, module__course_id=course_id
        ).values_list("pk", flat=True)
    }
    same_course_quizzes = {
        str(pk)
        for pk in InteractiveContent.objects.filter(
            pk__in=quiz_refs, content_type="quiz", lesson__module__course_id=course_id
        ).values_list("pk", flat=True)
    }
    for index, condition in enumerate(conditions):
        if condition["type"] == "after_lesson":
            ref = condition["lesson"].lower()
            if lesson.pk is not None and ref == str(lesson.pk):
                messages.append(f"[{index}].lesson: a lesson cannot wait for itself.")
            elif ref not in same_course_lessons:
                messages.append(f"[{index}].lesson: no lesson {ref} in this course.")
        if (
            condition["type"] == "min_score"
            and condition["quiz"].lower() not in same_course_quizzes
        ):
            messages.append(f"[{index}].quiz: no quiz {condition['quiz']} in this course.")
    return messages


def _lesson_validate(lesson: Lesson) -> None:
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(lesson)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    unlock = lesson_unlock_errors(lesson, lesson.unlock_conditions)
    if unlock:
        errors["unlock_conditions"] = unlock
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def lesson_create(
    *, actor, module: Module, title: str, position: int | None = None, **fields
) -> Lesson:
    """Add a lesson to a module, at the end or at `position`.

    Raises ValidationError for an unknown lesson type or unlock conditions that are malformed
    or name lessons or quizzes of another course.
    """
    _require_edit(actor, module.course)
    unknown = set(fields) - set(LESSON_FIELDS)
    if unknown:
        raise ValidationError(f"Not a lesson field: {', '.join(sorted(unknown))}.")
    lesson = Lesson(module=module, title=title, position=1, **fields)
    _lesson_validate(lesson)
    lesson.position = _insert_position(Lesson, {"module": module}, position)
    lesson.save()
    return lesson


@transaction.atomic
def lesson_update(*, actor, lesson: Lesson, **changes) -> Lesson:
    """Change a lesson's fields; the same checks as `lesson_create`."""
    _require_edit(actor, lesson.module.course)
    for field, value in changes.items():
        if field not in LESSON_FIELDS:
            raise ValidationError(f"Not a lesson field: {field}.")
        setattr(lesson, field, value)
    _lesson_validate(lesson)
    lesson.save()
    return lesson


@transaction.atomic
def lesson_reorder(*, actor, module: Module, lesson_ids: Sequence[UUID]) -> list[Lesson]:
    """Renumber a module's lessons 1..n in the order given (every lesson exactly once)."""
    _require_edit(actor, module.course)
    lessons = list(Lesson.objects.select_for_update().filter(module=module))
    if lessons:
        _renumber(lessons, lesson_ids, "lesson")
    return sorted(lessons, key=lambda lesson: lesson.position)


# -- interactive content ------------------------------------------------------------------


def _interactive_validate(item: InteractiveContent) -> None:
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(item)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "content_type" not in errors:
        messages = configuration_errors(item.content_type, item.configuration)
        if messages:
            errors["configuration"] = messages
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def interactive_content_create(
    *, actor, lesson: Lesson, title: str, content_type: str, configuration
) -> InteractiveContent:
    """Attach a quiz, interactive video or simulation to a lesson.

    Raises ValidationError with one message per problem in `configuration` (JSON Schema).
    """
    _require_edit(actor, lesson.module.course)
    item = InteractiveContent(
        lesson=lesson, title=title, content_type=content_type, configuration=configuration
    )
    _interactive_validate(item)
    item.save()
    return item


@transaction.atomic
def interactive_content_update(*, actor, item: InteractiveContent, **changes) -> InteractiveContent:
    """Change title or configuration (the type is fixed). Questions linked to objectives
    cannot be removed from a quiz (ConflictError)."""
    _require_edit(actor, item.lesson.module.course)
    for field, value in changes.items():
        if field not in ("title", "configuration"):
            raise ValidationError(f"Not an interactive content field: {field}.")
        setattr(item, field, value)
    _interactive_validate(item)
    if item.content_type == "quiz":
        linked = set(item.objective_links.values_list("question_id", flat=True))
        missing = linked - quiz_question_ids(item.configuration)
        if missing:
            raise ConflictError(
                "Questions linked to objectives cannot be removed: " + ", ".join(sorted(missing)),
                fields={
                    "configuration": [f"Question {q} is linked to an objective." for q in missing]
                },
            )
    item.save()
    return item


# -- teacher lesson plans -----------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _plan_validate(plan: LessonPlan) -> None:
    errors: dict[str, list[str]] = {}
    try:
        _full_clean(plan)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    data_errors = schema_errors(LESSON_DATA_SCHEMA, plan.lesson_data)
    if data_errors:
        errors["lesson_data"] = data_errors
    for field, validate in (
        ("materials", validate_string_list),
        ("assessment_criteria", validate_string_list),
        ("activities", validate_activities),
    ):
        try:
            validate(getattr(plan, field))
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)


def _plan_set_objectives(plan: LessonPlan, objectives: Sequence[str]) -> None:
    texts = [text.strip() for text in objectives if text and text.strip()]
    existing = list(plan.objectives.all())
    for position, text in enumerate(texts, start=1):
        if position <= len(existing):
            objective = existing[position - 1]
            if (objective.text, objective.position) != (text, position):
                objective.text, objective.position = text, position
                objective.save()
        else:
            Objective.objects.create(lesson_plan=plan, text=text, position=position)
    for objective in existing[len(texts) :]:
        objective.delete()


@transaction.atomic
def lesson_plan_create(
    *,
    owner,
    title: str,
    week_of: dt.date,
    objectives: Sequence[str] = (),
    related_plans: Sequence[LessonPlan] = (),
    **fields,
) -> LessonPlan:
    """Create a teacher's lesson plan; `week_of` is moved to the Monday of its week.

    Raises ValidationError for bad values (lesson_data against its JSON Schema).
    """
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError(f"Not a lesson plan field: {', '.join(sorted(unknown))}.")
    plan = LessonPlan(owner=owner, title=title, week_of=monday_of(week_of), **fields)
    _plan_validate(plan)
    plan.save()
    _plan_set_objectives(plan, objectives)
    if related_plans:
        plan.related_plans.set([p for p in related_plans if p.owner_id == owner.pk])
    return plan


def _require_owner(actor, plan: LessonPlan) -> None:
    if plan.owner_id != getattr(actor, "pk", None) and not getattr(actor, "is_superuser", False):
        raise PermissionDeniedError("This lesson plan belongs to someone else.")


@transaction.atomic
def lesson_plan_update(
    *,
    actor,
    plan: LessonPlan,
    objectives: Sequence[str] | None = None,
    related_plans: Sequence[LessonPlan] | None = None,
    **changes,
) -> LessonPlan:
    """Change a lesson plan (its owner only); objectives given replace the list in order,
    keeping the ids (and question links) of the ones at the same position."""
    _require_owner(actor, plan)
    for field, value in changes.items():
        if field not in PLAN_FIELDS:
            raise ValidationError(f"Not a lesson plan field: {field}.")
        setattr(plan, field, monday_of(value) if field == "week_of" else value)
    _plan_validate(plan)
    plan.save()
    if objectives is not None:
        _plan_set_objectives(plan, objectives)
    if related_plans is not None:
        plan.related_plans.set([p for p in related_plans if p.owner_id == plan.owner_id])
    return plan


@transaction.atomic
def lesson_plan_duplicate(*, actor, plan: LessonPlan, week_of: dt.date | None = None) -> LessonPlan:
    """Copy a plan (as a draft, with its objectives) to `week_of` (default: the next week)."""
    _require_owner(actor, plan)
    copy = lesson_plan_create(
        owner=plan.owner,
        title=plan.title if week_of else f"{plan.title} (copy)",
        week_of=week_of or plan.week_of + dt.timedelta(days=7),
        objectives=[o.text for o in plan.objectives.all()],
        **{
            field: getattr(plan, field)
            for field in PLAN_FIELDS
            if field not in ("title", "week_of", "status")
        },
    )
    copy.related_plans.add(plan)
    return copy


@transaction.atomic
def objective_link_question(
    *, actor, objective: Objective, quiz: InteractiveContent, question_id: str
) -> ObjectiveQuestion:
    """Record that a quiz question assesses an objective (for mastery reports).

    Raises ValidationError when `quiz` is not a quiz or has no such question; PermissionDenied
    when the actor does not own the plan or cannot see the quiz's course.
    """
    _require_owner(actor, objective.lesson_plan)
    course = quiz.lesson.module.course
    if not (
        course.status == CourseStatus.PUBLISHED or user_has_permission(actor, "course.edit", course)
    ):
        raise PermissionDeniedError("You cannot use this quiz.")
    if quiz.content_type != "quiz" or question_id not in quiz_question_ids(quiz.configuration):
        raise ValidationError(
            {"question_id": f"Quiz “{quiz.title}” has no question {question_id}."}
        )
    link, _ = ObjectiveQuestion.objects.get_or_create(
        objective=objective, quiz=quiz, question_id=question_id
    )
    return link
