"""A committed world for the row-level security proofs: two learners in two courses (paid,
completed, with quiz attempts, certificates, activity, orders, payments, a refund, invoices, a
subscription, memories, interactions, conversations and messages), their teachers, teaching
assistants scoped by course and by category, staff with one area's permission each, a
superuser and a user with nothing.

The data is committed (transactional_db) because the proofs read it through separate
connections as the app role; pytest-django empties the database after each test."""

from dataclasses import dataclass, field
from uuid import UUID

import psycopg
import pytest
from django.db import connection

from apps.assistants.models import Conversation, MemoryInteraction, Message
from apps.billing import services as billing
from apps.content.models import InteractiveContent
from apps.progress import services as progress
from apps.progress.models import Enrollment
from apps.rbac.models import Role
from apps.rbac.services import rbac_builtin_sync
from tests.accounts.factories import UserFactory
from tests.assistants.factories import MemoryFactory, ProfileFactory
from tests.billing.factories import PlanFactory
from tests.conftest import database_connect
from tests.content.factories import (
    QUIZ_CONFIG,
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    published,
)
from tests.progress.conftest import RIGHT_ANSWERS
from tests.rbac.factories import RoleFactory, RoleGrantFactory

PROGRESS, BILLING, ASSISTANTS = "progress", "billing", "assistants"

# Each protected table: its area, and SQL giving (row id, owning user, course) for every row.
TABLES: dict[str, tuple[str, str]] = {
    "progress.enrollment": (
        PROGRESS,
        'SELECT t.id::text, t.user_id, t.course_id FROM "progress"."enrollment" t',
    ),
    "progress.lesson_progress": (
        PROGRESS,
        'SELECT t.id::text, e.user_id, e.course_id FROM "progress"."lesson_progress" t '
        'JOIN "progress"."enrollment" e ON e.id = t.enrollment_id',
    ),
    "progress.quiz_attempt": (
        PROGRESS,
        'SELECT t.id::text, e.user_id, e.course_id FROM "progress"."quiz_attempt" t '
        'JOIN "progress"."enrollment" e ON e.id = t.enrollment_id',
    ),
    "progress.certificate": (
        PROGRESS,
        'SELECT t.id::text, e.user_id, e.course_id FROM "progress"."certificate" t '
        'JOIN "progress"."enrollment" e ON e.id = t.enrollment_id',
    ),
    "progress.activity": (
        PROGRESS,
        'SELECT t.id::text, t.user_id, t.course_id FROM "progress"."activity" t',
    ),
    "billing.order": (
        BILLING,
        'SELECT t.id::text, t.user_id, NULL::uuid FROM "billing"."order" t',
    ),
    "billing.order_line": (
        BILLING,
        'SELECT t.id::text, o.user_id, NULL::uuid FROM "billing"."order_line" t '
        'JOIN "billing"."order" o ON o.id = t.order_id',
    ),
    "billing.payment": (
        BILLING,
        'SELECT t.id::text, o.user_id, NULL::uuid FROM "billing"."payment" t '
        'JOIN "billing"."order" o ON o.id = t.order_id',
    ),
    "billing.refund": (
        BILLING,
        'SELECT t.id::text, o.user_id, NULL::uuid FROM "billing"."refund" t '
        'JOIN "billing"."order" o ON o.id = t.order_id',
    ),
    "billing.invoice": (
        BILLING,
        'SELECT t.id::text, o.user_id, NULL::uuid FROM "billing"."invoice" t '
        'JOIN "billing"."order" o ON o.id = t.order_id',
    ),
    "billing.subscription": (
        BILLING,
        'SELECT t.id::text, t.user_id, NULL::uuid FROM "billing"."subscription" t',
    ),
    "assistants.memory": (
        ASSISTANTS,
        'SELECT t.id::text, t.user_id, NULL::uuid FROM "assistants"."memory" t',
    ),
    "assistants.memory_interaction": (
        ASSISTANTS,
        'SELECT t.id::text, t.user_id, NULL::uuid FROM "assistants"."memory_interaction" t',
    ),
    "assistants.conversation": (
        ASSISTANTS,
        'SELECT t.id::text, t.user_id, NULL::uuid FROM "assistants"."conversation" t',
    ),
    "assistants.message": (
        ASSISTANTS,
        'SELECT t.id::text, c.user_id, NULL::uuid FROM "assistants"."message" t '
        'JOIN "assistants"."conversation" c ON c.id = t.conversation_id',
    ),
}


def quoted(table: str) -> str:
    schema, name = table.split(".")
    return f'"{schema}"."{name}"'


@dataclass
class Viewer:
    """Who asks, and what the policies should show them."""

    name: str
    user_id: UUID | None = None  # None: the system context
    areas: frozenset[str] = frozenset()  # areas whose every row they see
    courses: frozenset[UUID] = frozenset()  # courses whose learning rows they see


@dataclass
class World:
    viewers: dict[str, Viewer]
    rows: dict[str, list[tuple[str, UUID, UUID | None]]]  # table -> (id, owner, course)
    courses: dict[str, object] = field(default_factory=dict)
    learners: dict[str, object] = field(default_factory=dict)

    def expected(self, viewer: Viewer, table: str) -> set[str]:
        area = TABLES[table][0]
        return {
            row_id
            for row_id, owner, course in self.rows[table]
            if viewer.user_id is None
            or area in viewer.areas
            or owner == viewer.user_id
            or (area == PROGRESS and course in viewer.courses)
        }


def _course(*, instructor, category=None):
    course = published(
        CourseFactory(
            instructor=instructor, category=category, access_type="paid", price_minor=5_000
        )
    )
    module = ModuleFactory(course=course, position=1)
    lesson = LessonFactory(module=module, position=1, title="Read")
    quiz_lesson = LessonFactory(module=module, position=2, title="Quiz", lesson_type="quiz")
    quiz = InteractiveContent.objects.create(
        lesson=quiz_lesson, title="Check", content_type="quiz", configuration=QUIZ_CONFIG
    )
    return course, lesson, quiz


def _learn(*, learner, course, lesson, quiz, plan, profile) -> None:
    """Buy, finish (certificate), refund a little, subscribe, and talk to the assistant."""
    order = billing.order_create(user=learner, course=course)
    billing.order_pay(order=order, provider="manual", idempotency_key=f"pay-{order.pk}")
    billing.refund_create(order=order, amount_minor=100, reason="goodwill")
    billing.subscription_create(user=learner, plan=plan)
    enrollment = Enrollment.objects.get(user=learner, course=course)
    progress.lesson_progress_record(
        enrollment=enrollment, lesson_id=lesson.pk, percent=100, time_delta_seconds=60
    )
    progress.quiz_attempt_submit(enrollment=enrollment, quiz_id=quiz.pk, answers={"q1": "a"})
    progress.quiz_attempt_submit(enrollment=enrollment, quiz_id=quiz.pk, answers=RIGHT_ANSWERS)
    memory = MemoryFactory(user=learner, profile=profile)
    MemoryInteraction.objects.create(memory=memory, user=learner, interaction_type="recall")
    conversation = Conversation.objects.create(user=learner, profile=profile, title="Help")
    Message.objects.create(conversation=conversation, role="user", content="Hello")


def _global_role(permission: str):
    return RoleFactory(permissions=[permission])


@pytest.fixture
def world(transactional_db) -> World:
    rbac_builtin_sync()  # an earlier transactional test may have emptied the roles
    teacher, other_teacher = UserFactory(), UserFactory()
    anna, ben = UserFactory(), UserFactory()
    category = CategoryFactory()
    first, first_lesson, first_quiz = _course(instructor=teacher)
    second, second_lesson, second_quiz = _course(instructor=other_teacher, category=category)
    plan, profile = PlanFactory(trial_days=7), ProfileFactory()  # a trial: no order
    _learn(
        learner=anna, course=first, lesson=first_lesson, quiz=first_quiz, plan=plan, profile=profile
    )
    _learn(
        learner=ben,
        course=second,
        lesson=second_lesson,
        quiz=second_quiz,
        plan=plan,
        profile=profile,
    )

    assistant_role = Role.objects.get(name="teaching_assistant")
    ta_course, ta_category = UserFactory(), UserFactory()
    RoleGrantFactory(user=ta_course, role=assistant_role, scope_type="course", scope_id=second.pk)
    RoleGrantFactory(
        user=ta_category, role=assistant_role, scope_type="category", scope_id=category.pk
    )
    progress_staff, billing_staff, assistant_staff = UserFactory(), UserFactory(), UserFactory()
    RoleGrantFactory(user=progress_staff, role=_global_role("enrollment.view"))
    RoleGrantFactory(user=billing_staff, role=_global_role("billing.view"))
    RoleGrantFactory(user=assistant_staff, role=_global_role("assistant.manage"))
    superuser = UserFactory(is_staff=True, is_superuser=True)
    nobody = UserFactory(is_staff=True)  # staff without any permission sees nothing more

    everything = frozenset({PROGRESS, BILLING, ASSISTANTS})
    viewers = [
        Viewer("system", None, everything),
        Viewer("anna (learner)", anna.pk),
        Viewer("ben (learner)", ben.pk),
        Viewer("teacher of the first course", teacher.pk, courses=frozenset({first.pk})),
        Viewer("teacher of the second course", other_teacher.pk, courses=frozenset({second.pk})),
        Viewer(
            "assistant scoped to the second course", ta_course.pk, courses=frozenset({second.pk})
        ),
        Viewer("assistant scoped to its category", ta_category.pk, courses=frozenset({second.pk})),
        Viewer("staff with enrollment.view", progress_staff.pk, frozenset({PROGRESS})),
        Viewer("staff with billing.view", billing_staff.pk, frozenset({BILLING})),
        Viewer("staff with assistant.manage", assistant_staff.pk, frozenset({ASSISTANTS})),
        Viewer("superuser", superuser.pk, everything),
        Viewer("staff without permissions", nobody.pk),
    ]
    rows = {}
    with connection.cursor() as cursor:
        for table, (_area, sql) in TABLES.items():
            cursor.execute(sql)
            rows[table] = cursor.fetchall()
            owners = {owner for _, owner, _ in rows[table]}
            assert owners >= {anna.pk, ben.pk}, f"{table}: the world needs rows of both learners"
    return World(
        viewers={viewer.name: viewer for viewer in viewers},
        rows=rows,
        courses={"first": first, "second": second},
        learners={"anna": anna, "ben": ben},
    )


@pytest.fixture
def app_db():
    """A connection as the app role (RLS applies); each test's transaction is rolled back."""
    conn = database_connect()
    yield conn
    conn.rollback()
    conn.close()


def as_viewer(conn: psycopg.Connection, viewer: Viewer | None) -> None:
    """Set the context for the current transaction only (set_config(..., true))."""
    if viewer is None:
        context, user_id = "", ""
    elif viewer.user_id is None:
        context, user_id = "system", ""
    else:
        context, user_id = "request", str(viewer.user_id)
    conn.execute(
        "SELECT set_config('app.context', %s, true), set_config('app.current_user_id', %s, true)",
        [context, user_id],
    )
