"""Every tracked model, every way it is changed: an ORM save, a raw SQL statement, the admin and
the API each leave exactly one row-level event with the right old/new values and changed
fields; the ones made in a request carry the actor and the request id.

The matrix is table-driven: one `Case` per tracked model. Where a path does not exist for a
model (no admin form, no API that writes it), the case says why instead, and a structural test
keeps the table complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pghistory.models
import pytest
from django import forms
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.selectors import object_history
from apps.content.models import InteractiveContent
from tests.accounts.factories import UserFactory
from tests.assistants.factories import CapabilityFactory, MemoryFactory, ProfileFactory
from tests.billing.factories import CouponFactory, PlanFactory
from tests.content.factories import (
    QUIZ_CONFIG,
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    LessonPlanFactory,
    ModuleFactory,
    published,
)
from tests.rbac.factories import PermissionFactory, RoleFactory, RoleGrantFactory

pytestmark = pytest.mark.django_db

REQUEST_ID = "matrix-req-0001"

# ------------------------------------------------------------------------------------------------
# Building blocks


def events_of(obj) -> list:
    return list(object_history(obj=obj))


def changed(event) -> dict:
    """The event's diff without updated_at (moved by trigger on every update)."""
    return {k: v for k, v in (event.pgh_diff or {}).items() if k != "updated_at"}


def admin_form_data(response) -> dict[str, Any]:
    """The POST body a browser would send back unchanged from an admin change page: the main
    form's current values and every inline formset's management form and existing rows."""
    data: dict[str, Any] = {}

    def add(form):
        for name, bound_field in form.fields.items():
            key = form.add_prefix(name)
            widget = bound_field.widget
            value = form[name].value()  # already prepared for display, as rendered
            if isinstance(widget, forms.CheckboxInput):
                if value:
                    data[key] = "on"
            elif isinstance(widget, forms.MultiWidget):
                parts = value if isinstance(value, list) else widget.decompress(value)
                for suffix, sub, part in zip(
                    widget.widgets_names, widget.widgets, parts, strict=True
                ):
                    shown = sub.format_value(part)  # what the browser shows, and posts back
                    data[key + suffix] = "" if shown is None else shown
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        existing = formset.initial_form_count()
        management = formset.management_form
        prefix = formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = str(existing)
        data[f"{prefix}-INITIAL_FORMS"] = str(existing)
        data[f"{prefix}-MIN_NUM_FORMS"] = management["MIN_NUM_FORMS"].value() or "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = management["MAX_NUM_FORMS"].value() or "1000"
        for form in formset.forms[:existing]:
            add(form)
    return data


def inline_key(response, obj, field_name: str) -> str:
    """The POST key of `field_name` in the inline row that edits `obj` on a parent's page."""
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        if formset.model is not type(obj):
            continue
        for form in formset.forms[: formset.initial_form_count()]:
            if form.instance.pk == obj.pk:
                return form.add_prefix(field_name)
    raise AssertionError(f"no inline row for {obj!r} on this page")


def model_field(model, attname: str):
    """The concrete field whose column attribute is `attname` (`role_id` -> `role`)."""
    for candidate in model._meta.concrete_fields:
        if candidate.attname == attname:
            return candidate
    raise LookupError(f"{model._meta.label} has no {attname}")


def whole_seconds(obj):
    """Drop sub-second parts of the row's timestamps first: the admin's date/time widgets show
    (and post back) whole seconds, so a round trip would otherwise move them."""
    model = type(obj)
    stamps = [
        f
        for f in model._meta.concrete_fields
        if f.get_internal_type() == "DateTimeField"
        and getattr(obj, f.attname)
        and getattr(obj, f.attname).microsecond
        and f.attname not in ("created_at", "updated_at")
    ]
    if stamps:
        model._base_manager.filter(pk=obj.pk).update(
            **{f.attname: getattr(obj, f.attname).replace(microsecond=0) for f in stamps}
        )
        obj.refresh_from_db()
    return obj


def admin_url(obj) -> str:
    meta = obj._meta
    return f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/"


def quoted_table(model) -> str:
    schema, table = model._meta.db_table.split('"."')
    return f'"{schema}"."{table}"'


# ------------------------------------------------------------------------------------------------
# The table


@dataclass
class Case:
    label: str
    make: Callable[[], Any]
    field: str  # a column the ORM, raw SQL and admin paths change
    new: Any  # its new value (python)
    form_value: Any = None  # the admin form's representation of `new`, when it differs
    # Admin: "own" (the model's change page), a callable obj -> parent (inline row on the
    # parent's change page), a callable (client, obj) -> changed object for an admin action,
    # or a string saying why there is no admin path.
    admin: Any = "own"
    # API: a callable (client, obj) -> (changed object, label, changed fields) or why not.
    api: Any = "no API writes it"
    extra_changed: set[str] = field(default_factory=set)  # columns triggers move with `field`

    def __str__(self) -> str:
        return self.label


def _old(obj, name):
    return getattr(obj, name)


# API paths ----------------------------------------------------------------------------------


def api_me(client, user):
    client.force_login(user)
    response = client.patch(
        "/api/v1/accounts/me/",
        {"first_name": "ApiName"},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    return user, "update", {"first_name"}


def api_preferences(client, preferences):
    client.force_login(preferences.user)
    response = client.patch(
        "/api/v1/accounts/me/preferences/",
        {"theme": "dark"},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 200, response.content
    return preferences, "update", {"theme"}


def _staff_patch(client, url, body, staff):
    client.force_login(staff)
    response = client.patch(
        url, body, content_type="application/json", HTTP_X_REQUEST_ID=REQUEST_ID
    )
    assert response.status_code == 200, response.content
    return response


def _staff_post(client, url, body, staff, status=(200, 201)):
    client.force_login(staff)
    response = client.post(url, body, content_type="application/json", HTTP_X_REQUEST_ID=REQUEST_ID)
    assert response.status_code in status, response.content
    return response


def api_patch_title(path: str, as_owner: str | None = None):
    def run(client, obj, staff):
        actor = getattr(obj, as_owner) if as_owner else staff
        _staff_patch(client, path.format(pk=obj.pk), {"title": "Api title"}, actor)
        return obj, "update", {"title"}

    return run


def api_category_move(client, category, staff):
    target = CategoryFactory()
    _staff_post(
        client, f"/api/v1/content/categories/{category.pk}/move/", {"parent": str(target.pk)}, staff
    )
    return category, "update", {"parent_id", "level", "path"}


def api_enroll(client, course, staff):
    learner = UserFactory()
    client.force_login(learner)
    response = client.post(
        "/api/v1/progress/enrollments/",
        {"course": str(course.pk)},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 201, response.content
    from apps.progress.models import Enrollment

    return Enrollment.objects.get(user=learner, course=course), learner


def api_enrollment_drop(client, enrollment, staff):
    client.force_login(enrollment.user)
    response = client.post(
        f"/api/v1/progress/enrollments/{enrollment.pk}/drop/",
        {},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 200, response.content
    return enrollment, "update", {"status", "dropped_at"}


def api_heartbeat(client, lesson_progress, staff):
    enrollment = lesson_progress.enrollment
    client.force_login(enrollment.user)
    response = client.post(
        f"/api/v1/progress/enrollments/{enrollment.pk}/progress/",
        {"lesson": str(lesson_progress.lesson_id), "percent": "40", "time_delta_seconds": 30},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 200, response.content
    return lesson_progress, "update", None  # a heartbeat moves several counters


def api_memory_patch(client, memory, staff):
    client.force_login(memory.user)
    response = client.patch(
        f"/api/v1/assistants/memories/{memory.pk}/",
        {"importance": 0.9},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 200, response.content
    return memory, "update", {"importance", "version"}  # an edit is a new version


# Objects ------------------------------------------------------------------------------------


def make_enrollment():
    from apps.progress.services import enrollment_create

    course = published(CourseFactory())
    LessonFactory(module=ModuleFactory(course=course))
    return enrollment_create(user=UserFactory(), course=course)


def make_lesson_progress():
    from apps.progress.models import LessonProgress

    enrollment = make_enrollment()
    lesson = enrollment.course.modules.first().lessons.first()
    return LessonProgress.objects.create(enrollment=enrollment, lesson=lesson)


def make_quiz_attempt():
    from apps.progress.models import QuizAttempt

    enrollment = make_enrollment()
    lesson = enrollment.course.modules.first().lessons.first()
    quiz = InteractiveContent.objects.create(
        lesson=lesson, title="Quiz", content_type="quiz", configuration=QUIZ_CONFIG
    )
    return QuizAttempt.objects.create(
        enrollment=enrollment,
        quiz=quiz,
        run=enrollment.run,
        number=1,
        answers={},
        results={},
        score=0,
        max_score=6,
        percent=0,
        passed=False,
        quiz_version_at=timezone.now(),
    )


def make_certificate():
    from apps.progress.models import Certificate

    enrollment = make_enrollment()
    return Certificate.objects.create(
        enrollment=enrollment,
        code="MTRX-0001-AAAA",
        learner_name="Ann Lee",
        course_title=enrollment.course.title,
        instructor_name="Teacher",
    )


def make_preferences():
    from apps.accounts.models import UserPreferences

    return UserPreferences.objects.create(user=UserFactory())


def make_teacher_profile():
    from apps.accounts.models import TeacherProfile

    return TeacherProfile.objects.create(user=UserFactory(), school="Old school")


def make_personal_access_token():
    from apps.accounts.services import personal_access_token_create

    return personal_access_token_create(user=UserFactory(), name="Old", scopes=["users:read"])[0]


def make_totp_device():
    from apps.accounts.models import TOTPDevice

    return TOTPDevice.objects.create(user=UserFactory(), name="Old phone")


def make_role_permission():
    from apps.rbac.models import RolePermission

    return RolePermission.objects.create(role=RoleFactory(), permission=PermissionFactory())


def make_prerequisite():
    from apps.content.models import CoursePrerequisite

    return CoursePrerequisite.objects.create(course=CourseFactory(), prerequisite=CourseFactory())


def make_interactive():
    return InteractiveContent.objects.create(
        lesson=LessonFactory(), title="Quiz", content_type="quiz", configuration=QUIZ_CONFIG
    )


def make_objective():
    from apps.content.models import Objective

    return Objective.objects.create(lesson_plan=LessonPlanFactory(), text="Old aim", position=1)


def make_objective_question():
    from apps.content.models import ObjectiveQuestion

    quiz = make_interactive()
    return ObjectiveQuestion.objects.create(objective=make_objective(), quiz=quiz, question_id="q1")


def make_subscription():
    from apps.billing.services import subscription_create

    return subscription_create(user=UserFactory(), plan=PlanFactory(trial_days=0))


def make_paid_order():
    from apps.billing.services import order_create, order_pay
    from tests.billing.conftest import paid_course

    order = order_create(user=UserFactory(), course=paid_course())
    return order_pay(
        order=order, provider="manual", provider_reference="matrix", idempotency_key="matrix-pay"
    )


def make_pending_order():
    from apps.billing.services import order_create
    from tests.billing.conftest import paid_course

    return order_create(user=UserFactory(), course=paid_course())


def make_order_line():
    return make_pending_order().lines.get()


def make_redemption():
    from apps.billing.models import CouponRedemption
    from apps.billing.services import order_create
    from tests.billing.conftest import paid_course

    coupon = CouponFactory()
    order = order_create(user=UserFactory(), course=paid_course(), coupon_code=coupon.code)
    return CouponRedemption.objects.get(order=order)


def make_payment():
    return make_paid_order().payments.get()


def make_refund():
    from apps.billing.services import refund_create

    order = make_paid_order()
    return refund_create(order=order, amount_minor=1_000, reason="partial")


def make_invoice():
    return make_paid_order().invoice


def make_invoice_counter():
    from apps.billing.models import InvoiceCounter

    make_paid_order()
    return InvoiceCounter.objects.get(year=timezone.now().year)


def make_provider_event():
    from apps.billing.models import ProviderEvent

    return ProviderEvent.objects.create(
        provider="stripe",
        event_id="evt_matrix",
        event_type="checkout.session.completed",
        payload={},
    )


def make_webhook_endpoint():
    from apps.integrations.services import webhooks

    return webhooks.endpoint_create(
        owner=UserFactory(is_staff=True),
        url="https://hooks.example.org/lyceum",
        event_types=["enrollment.created"],
    )


def api_webhook_patch(client, endpoint, staff):
    _staff_patch(
        client,
        f"/api/v1/webhooks/endpoints/{endpoint.pk}/",
        {"description": "Api description"},
        staff,
    )
    return endpoint, "update", {"description"}


def make_memory_preference():
    from apps.assistants.models import MemoryPreference

    return MemoryPreference.objects.create(user=UserFactory(), memory_enabled=True)


def make_conversation():
    from apps.assistants.models import Conversation

    return Conversation.objects.create(user=UserFactory(), profile=ProfileFactory(), title="Chat")


# Admin actions ------------------------------------------------------------------------------


def admin_action(changelist: str, action: str):
    def run(client, obj):
        response = client.post(
            changelist,
            {"action": action, "_selected_action": [str(obj.pk)]},
            HTTP_X_REQUEST_ID=REQUEST_ID,
        )
        assert response.status_code == 302, response.content
        return obj

    return run


NO_ADMIN_READONLY = "read-only in admin: changes only through services (admin actions cover them)"

CASES = [
    Case("accounts.User", UserFactory, "first_name", "Changed", api=lambda c, o, s: api_me(c, o)),
    Case(
        "accounts.UserPreferences",
        make_preferences,
        "theme",
        "dark",
        admin=lambda obj: obj.user,
        api=lambda c, o, s: api_preferences(c, o),
    ),
    Case(
        "accounts.TeacherProfile",
        make_teacher_profile,
        "school",
        "New school",
        admin=lambda obj: obj.user,
    ),
    Case(
        "accounts.PersonalAccessToken",
        make_personal_access_token,
        "name",
        "New",
        admin=NO_ADMIN_READONLY,
        api="revoked with DELETE accounts/me/tokens/<id>/ (tests/accounts/test_personal_tokens.py)",
    ),
    Case(
        "accounts.TOTPDevice",
        make_totp_device,
        "name",
        "New phone",
        api="no API: users enrol and remove their authenticator on the security page",
    ),
    Case("rbac.Permission", PermissionFactory, "description", "Changed"),
    Case("rbac.Role", RoleFactory, "description", "Changed"),
    Case(
        "rbac.RolePermission",
        make_role_permission,
        "permission_id",
        None,  # set per object: another permission
        admin=lambda obj: obj.role,
    ),
    Case(
        "rbac.RoleGrant",
        RoleGrantFactory,
        "expires_at",
        dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC),
        # Grants are not edited in admin (revoke and grant again): its action is the change.
        admin=lambda client, obj: admin_action("/admin/rbac/rolegrant/", "revoke_selected")(
            client, obj
        ),
    ),
    Case("content.Category", CategoryFactory, "description", "Changed", api=api_category_move),
    Case(
        "content.Course",
        CourseFactory,
        "title",
        "Changed",
        api=api_patch_title("/api/v1/content/courses/{pk}/"),
    ),
    Case(
        "content.CoursePrerequisite",
        make_prerequisite,
        "prerequisite_id",
        None,
        admin=lambda obj: obj.course,
    ),
    Case(
        "content.Module",
        ModuleFactory,
        "title",
        "Changed",
        api=api_patch_title("/api/v1/content/modules/{pk}/"),
    ),
    Case(
        "content.Lesson",
        LessonFactory,
        "title",
        "Changed",
        api=api_patch_title("/api/v1/content/lessons/{pk}/"),
    ),
    Case(
        "content.InteractiveContent",
        make_interactive,
        "title",
        "Changed",
        api=api_patch_title("/api/v1/content/interactive/{pk}/"),
    ),
    Case(
        "content.LessonPlan",
        LessonPlanFactory,
        "title",
        "Changed",
        api=api_patch_title("/api/v1/content/lesson-plans/{pk}/", as_owner="owner"),
    ),
    Case(
        "content.Objective",
        make_objective,
        "text",
        "New aim",
        admin=lambda obj: obj.lesson_plan,
        api="written with its lesson plan (the plan API replaces objectives as a whole)",
    ),
    Case(
        "content.ObjectiveQuestion",
        make_objective_question,
        "question_id",
        "q2",
        admin="a link edited with the lesson plan's objectives, not in admin",
        api="written with its lesson plan",
    ),
    Case(
        "progress.Enrollment",
        make_enrollment,
        "study_time_seconds",
        120,
        admin=lambda client, obj: admin_action("/admin/progress/enrollment/", "drop_selected")(
            client, obj
        ),
        api=api_enrollment_drop,
    ),
    Case(
        "progress.LessonProgress",
        make_lesson_progress,
        "notes",
        "Remember this",
        admin=NO_ADMIN_READONLY,
        api=api_heartbeat,
    ),
    Case(
        "progress.QuizAttempt",
        make_quiz_attempt,
        "score",
        5,
        admin=NO_ADMIN_READONLY,
        api="attempts are inserted once by the API and never changed afterwards",
    ),
    Case(
        "progress.Certificate",
        make_certificate,
        "revoked_at",
        dt.datetime(2030, 1, 1, 9, 30, tzinfo=dt.UTC),
    ),
    Case("billing.Plan", PlanFactory, "description", "Changed"),
    Case("billing.Coupon", CouponFactory, "max_redemptions", 50),
    Case(
        "billing.Order",
        make_pending_order,
        "tax_country",
        "DE",
        admin=lambda client, obj: admin_action("/admin/billing/order/", "mark_paid")(client, obj),
        api="orders are created by the API (an insert), then change only by payment/refund",
    ),
    Case(
        "billing.OrderLine",
        make_order_line,
        "description",
        "Changed",
        admin="shown read-only inside its order",
    ),
    Case(
        "billing.CouponRedemption",
        make_redemption,
        "redeemed_at",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        admin="not in admin: written with the order",
    ),
    Case("billing.Payment", make_payment, "provider_reference", "changed", admin=NO_ADMIN_READONLY),
    Case("billing.Refund", make_refund, "reason", "changed", admin=NO_ADMIN_READONLY),
    Case(
        "billing.InvoiceCounter",
        make_invoice_counter,
        "last_number",
        99,
        admin="not in admin: advanced only by the invoice trigger",
    ),
    Case("billing.Invoice", make_invoice, "billed_to_name", "Changed", admin=NO_ADMIN_READONLY),
    Case("billing.Subscription", make_subscription, "cancel_at_period_end", True),
    Case(
        "billing.ProviderEvent",
        make_provider_event,
        "event_type",
        "changed",
        admin="not in admin: written only by webhook handling",
    ),
    Case("assistants.AssistantProfile", ProfileFactory, "description", "Changed"),
    Case(
        "assistants.AssistantCapability",
        CapabilityFactory,
        "description",
        "Changed",
        admin=lambda obj: obj.profile,
    ),
    Case("assistants.UserMemory", MemoryFactory, "importance", 0.25, api=api_memory_patch),
    Case(
        "integrations.WebhookEndpoint",
        make_webhook_endpoint,
        "description",
        "Changed",
        api=api_webhook_patch,
    ),
    Case("assistants.MemoryPreference", make_memory_preference, "memory_enabled", False),
    Case(
        "assistants.Conversation",
        make_conversation,
        "last_error_at",
        dt.datetime(2030, 1, 1, 9, 30, tzinfo=dt.UTC),
    ),
]
CASE_BY_LABEL = {case.label: case for case in CASES}


def new_value(case: Case, obj):
    """The case's new value; for foreign keys left None, a fresh row of the same kind."""
    if case.new is not None:
        return case.new
    if case.label == "rbac.RolePermission":
        return PermissionFactory().pk
    if case.label == "content.CoursePrerequisite":
        return CourseFactory().pk
    raise AssertionError(case)


def comparable(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value) if value is not None and not isinstance(value, bool | int) else value


def assert_one_update(case: Case, obj, before: int, old, new, *, request: bool, actor=None):
    events = events_of(obj)[before:]
    assert [e.pgh_label for e in events] == ["update"], [(e.pgh_label, e.pgh_diff) for e in events]
    (event,) = events
    diff = changed(event)
    assert set(diff) == {case.field, *case.extra_changed}, diff
    attname = case.field
    old_seen, new_seen = diff[attname]
    assert _same(old_seen, old) and _same(new_seen, new), (diff[attname], old, new)
    if request:
        assert event.pgh_context is not None
        assert event.pgh_context.get("request_id") == REQUEST_ID
        assert event.pgh_context.get("user") == str(actor.pk)
    return event


def _same(seen, expected) -> bool:
    """A diff value (JSON from the trigger) against a Python value."""
    if isinstance(expected, dt.datetime):
        return dt.datetime.fromisoformat(str(seen)) == expected
    if isinstance(expected, bool | int) or expected is None:
        return seen == expected
    return str(seen) == str(expected)


# ------------------------------------------------------------------------------------------------
# The tests


def test_the_table_covers_every_tracked_model():
    tracked = {
        m.pgh_tracked_model._meta.label
        for m in pghistory.models.Event.__subclasses__()
        if getattr(m, "pgh_tracked_model", None)
    }
    assert set(CASE_BY_LABEL) == tracked


@pytest.mark.parametrize("case", CASES, ids=str)
def test_orm_change_is_one_event(case: Case):
    obj = case.make()
    before = len(events_of(obj))
    old = getattr(obj, case.field)
    new = new_value(case, obj)
    setattr(obj, case.field, new)
    obj.save(update_fields=[model_field(type(obj), case.field).name])
    assert_one_update(case, obj, before, old, new, request=False)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_raw_sql_change_is_one_event_without_actor(case: Case):
    obj = case.make()
    before = len(events_of(obj))
    old = getattr(obj, case.field)
    new = new_value(case, obj)
    model = type(obj)
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {quoted_table(model)} SET "{model_field(model, case.field).column}" = %s '
            f'WHERE "{pk.column}" = %s',
            [new, obj.pk],
        )
    event = assert_one_update(case, obj, before, old, new, request=False)
    assert event.pgh_context is None or "user" not in event.pgh_context


ADMIN_CASES = [c for c in CASES if not isinstance(c.admin, str) or c.admin == "own"]


@pytest.mark.parametrize("case", ADMIN_CASES, ids=str)
def test_admin_change_is_one_event_with_actor_and_request(
    case: Case, verified_staff_client, staff_user
):
    obj = whole_seconds(case.make())
    before = len(events_of(obj))
    old = getattr(obj, case.field)
    if callable(case.admin) and case.admin.__code__.co_argcount == 2:  # an admin action
        case.admin(verified_staff_client, obj)
        events = events_of(obj)[before:]
        assert [e.pgh_label for e in events] == ["update"], events
        assert events[0].pgh_context["request_id"] == REQUEST_ID
        assert events[0].pgh_context["user"] == str(staff_user.pk)
        return
    new = new_value(case, obj)
    form_name = model_field(type(obj), case.field).name
    if case.admin == "own":
        url = admin_url(obj)
        page = verified_staff_client.get(url)
        assert page.status_code == 200
        data = admin_form_data(page)
        key = form_name
    else:
        parent = case.admin(obj)
        url = admin_url(parent)
        page = verified_staff_client.get(url)
        assert page.status_code == 200
        data = admin_form_data(page)
        key = inline_key(page, obj, form_name)
    value = case.form_value if case.form_value is not None else new
    if isinstance(value, bool):
        if value:
            data[key] = "on"
        else:
            data.pop(key, None)
    elif isinstance(value, dt.datetime):
        local = timezone.localtime(value)
        data[key + "_0"] = local.date().isoformat()
        data[key + "_1"] = local.time().isoformat()
    else:
        data[key] = value
    response = verified_staff_client.post(url, data, HTTP_X_REQUEST_ID=REQUEST_ID)
    errors = None
    if response.status_code != 302 and response.context:
        errors = (
            response.context["adminform"].form.errors,
            [f.errors for i in response.context["inline_admin_formsets"] for f in i.formset.forms],
        )
    assert response.status_code == 302, errors
    assert_one_update(case, obj, before, old, new, request=True, actor=staff_user)


API_CASES = [c for c in CASES if callable(c.api)]


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_api_change_is_one_event_with_actor_and_request(case: Case, client, staff_user):
    obj = case.make()
    before = len(events_of(obj))
    changed_obj, label, fields = case.api(client, obj, staff_user)
    events = events_of(changed_obj)[before:]
    assert [e.pgh_label for e in events] == [label], [(e.pgh_label, e.pgh_diff) for e in events]
    (event,) = events
    if fields is not None:
        assert set(changed(event)) == fields, event.pgh_diff
    else:
        assert changed(event), event.pgh_diff
    assert event.pgh_context["request_id"] == REQUEST_ID
    actor = client.session.get("_auth_user_id")
    assert event.pgh_context["user"] == str(actor)


def test_api_insert_paths_record_one_insert_with_actor(client):
    """Where the API creates rather than changes (enrollments, orders with their line and
    coupon redemption), each new row has exactly one insert event carrying the request."""
    from apps.billing.models import CouponRedemption, Order
    from tests.billing.conftest import paid_course

    course = published(CourseFactory())
    LessonFactory(module=ModuleFactory(course=course))
    enrollment, learner = api_enroll(client, course, None)
    (event,) = events_of(enrollment)
    assert event.pgh_label == "insert"
    assert event.pgh_context["request_id"] == REQUEST_ID
    assert event.pgh_context["user"] == str(learner.pk)

    buyer = UserFactory()
    coupon = CouponFactory()
    client.force_login(buyer)
    response = client.post(
        "/api/v1/billing/orders/",
        {"course": str(paid_course().pk), "coupon": coupon.code},
        content_type="application/json",
        HTTP_X_REQUEST_ID=REQUEST_ID,
    )
    assert response.status_code == 201, response.content
    order = Order.objects.get(user=buyer)
    for row in (order, order.lines.get(), CouponRedemption.objects.get(order=order)):
        (event,) = events_of(row)
        assert event.pgh_label == "insert", row
        assert event.pgh_context["user"] == str(buyer.pk)
        assert event.pgh_context["request_id"] == REQUEST_ID


def test_a_rolled_back_change_leaves_no_row_event():
    course = CourseFactory(title="Kept")
    before = len(events_of(course))
    with pytest.raises(RuntimeError), transaction.atomic():
        course.title = "Never happened"
        course.save(update_fields=["title"])
        raise RuntimeError("abort")
    assert len(events_of(course)) == before
