"""Loading demo data."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.accounts.services import two_factor_install, user_ensure
from apps.content.models import Category, Course, LessonPlan
from apps.content.services import (
    category_create,
    course_create,
    course_transition,
    course_update,
    interactive_content_create,
    lesson_create,
    lesson_plan_create,
    module_create,
)
from apps.demo import catalog
from apps.demo.assistants import demo_assistants_seed
from apps.demo.billing import demo_billing_seed
from apps.demo.data import DEMO_BACKUP_CODES, DEMO_ROLES, DEMO_TOTP_KEY_HEX, DEMO_USERS
from apps.demo.integrations import demo_integrations_seed
from apps.demo.learning import demo_learning_seed
from apps.rbac.models import Role
from apps.rbac.services import grant_ensure, rbac_builtin_sync


@transaction.atomic
def demo_seed() -> dict[str, int]:
    """Create or refresh the demo data; idempotent. Returns counts of created/updated rows."""
    counts = {"created": 0, "updated": 0}
    users = {}
    for spec in DEMO_USERS:
        users[spec["email"]], created = user_ensure(**spec)
        counts["created" if created else "updated"] += 1
        if spec.get("is_staff"):
            two_factor_install(
                user=users[spec["email"]], key_hex=DEMO_TOTP_KEY_HEX, backup_codes=DEMO_BACKUP_CODES
            )
    # A flushed database (transactional tests) has lost the rows migration rbac 0002 seeded.
    rbac_builtin_sync()
    roles = {role.name: role for role in Role.objects.filter(name__in=DEMO_ROLES.values())}
    for email, role_name in DEMO_ROLES.items():
        grant_ensure(user=users[email], role=roles[role_name])
    counts["created"] += demo_catalog_seed(
        admin=users["admin@lyceum.test"], teacher=users["teacher@lyceum.test"]
    )
    counts["created"] += demo_assistants_seed(users=users)
    counts["created"] += demo_learning_seed(student=users["student@lyceum.test"])
    counts["created"] += demo_billing_seed(
        student=users["student@lyceum.test"], subscriber=users["subscriber@lyceum.test"]
    )
    counts["created"] += demo_integrations_seed(
        admin=users["admin@lyceum.test"], student=users["student@lyceum.test"]
    )
    return counts


def _demo_week(offset: int) -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)


def demo_catalog_seed(*, admin, teacher) -> int:
    """The demo subject tree, courses (with syllabus and quizzes) and the teacher's lesson
    plans; what exists already (by slug, or plan title) is left alone. Returns rows created."""
    created = 0
    categories = {c.slug: c for c in Category.objects.all()}
    for slug, name, parent in catalog.CATEGORIES:
        if slug not in categories:
            categories[slug] = category_create(
                actor=admin, name=name, slug=slug, parent=categories[parent] if parent else None
            )
            created += 1
    existing = set(Course.all_objects.values_list("slug", flat=True))
    courses = {}
    for (
        slug,
        title,
        category,
        level,
        language,
        access,
        price,
        tags,
        status,
        short,
    ) in catalog.COURSES:
        if slug in existing:
            continue
        course = course_create(
            actor=teacher,
            title=title,
            slug=slug,
            category=categories[category],
            level=level,
            language=language,
            access_type=access,
            price_minor=price,
            currency="USD",
            tags=tags,
            short_description=short,
            description=f"{short} A course of {len(catalog.MODULE_TITLES)} modules with "
            "short lessons, worked examples and a quiz at the end of each module.",
            learning_objectives=[f"Explain the core ideas of {title.lower()}", "Practise them"],
            is_featured=slug in ("python", "cell-biology"),
            estimated_duration_minutes=90,
        )
        courses[slug] = course
        created += 1
        for m, module_title in enumerate(catalog.MODULE_TITLES, start=1):
            module = module_create(actor=teacher, course=course, title=f"{module_title}")
            previous = None
            for lesson_title, lesson_type, preview in catalog.LESSON_TITLES:
                lesson = lesson_create(
                    actor=teacher,
                    module=module,
                    title=lesson_title if m == 1 else f"{lesson_title} (part {m})",
                    lesson_type=lesson_type,
                    is_preview=preview and m == 1,
                    duration_minutes=15,
                    content=f"{lesson_title} of “{title}”.\n\nRead, watch, then try the examples.",
                    unlock_conditions=(
                        [{"type": "after_lesson", "lesson": str(previous.pk)}] if previous else []
                    ),
                )
                previous = lesson
            quiz_lesson = lesson_create(
                actor=teacher, module=module, title="Check your understanding", lesson_type="quiz"
            )
            interactive_content_create(
                actor=teacher,
                lesson=quiz_lesson,
                title=f"{module_title} quiz",
                content_type="quiz",
                configuration=catalog.QUIZ,
            )
        targets = {"draft": [], "review": ["review"], "published": ["review", "published"]}
        for to_status in targets[status]:
            course_transition(actor=teacher, course=course, to_status=to_status)
    for slug, required in catalog.PREREQUISITES.items():
        if slug in courses:
            prerequisites = list(Course.objects.filter(slug__in=required))
            course_update(actor=teacher, course=courses[slug], prerequisites=prerequisites)
    plans = set(LessonPlan.objects.filter(owner=teacher).values_list("title", flat=True))
    for title, category, grade, offset, objectives, status in catalog.LESSON_PLANS:
        if title in plans:
            continue
        lesson_plan_create(
            owner=teacher,
            title=title,
            week_of=_demo_week(offset),
            subject_category=categories[category],
            grade_level=grade,
            objectives=objectives,
            status=status,
            materials=["Whiteboard", "Worksheet"],
            activities=[
                {"title": "Warm-up", "minutes": 5},
                {"title": "Guided practice", "minutes": 20},
                {"title": "Exit ticket", "minutes": 5},
            ],
            assessment_criteria=["Solves three of four exit-ticket items"],
            lesson_data={"duration_minutes": 45, "difficulty": "medium"},
            tags=[category],
        )
        created += 1
    return created
