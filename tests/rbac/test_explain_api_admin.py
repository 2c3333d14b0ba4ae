"""The explanation (selector, API, admin page) and the rbac admin."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.rbac.models import Role, RoleGrant
from apps.rbac.selectors import ScopeTarget, permission_explain, user_can
from apps.rbac.services import grant_create, grant_revoke
from tests.accounts.factories import UserFactory
from tests.rbac.conftest import Course

pytestmark = pytest.mark.django_db


def codes(reasons):
    return sorted(reason.code for reason in reasons)


def test_explain_names_the_grant_and_the_inherited_role(builtin_roles):
    user = UserFactory()
    course = Course()
    grant = grant_create(
        user=user, role=builtin_roles["instructor"], scope_type="course", scope_id=course.id
    )
    result = permission_explain(user, "edit", "grade", course)
    assert result.allowed
    (reason,) = result.reasons
    assert (reason.code, reason.grant_id, reason.role, reason.via_role) == (
        "role_grant",
        grant.pk,
        "instructor",
        "teaching_assistant",
    )
    assert "inherited from teaching_assistant" in reason.message


def test_explain_says_why_nothing_allows(builtin_roles):
    now = timezone.now()
    user = UserFactory()
    mine, other = Course(), Course()
    grant_create(user=user, role=builtin_roles["instructor"], scope_type="course", scope_id=mine.id)
    grant_create(
        user=user,
        role=builtin_roles["administrator"],
        valid_from=now - timedelta(days=9),
        expires_at=now - timedelta(days=2),
    )
    grant_revoke(
        grant=grant_create(user=user, role=builtin_roles["billing_manager"]), revoked_by=None
    )
    grant_create(user=user, role=builtin_roles["student"])
    result = permission_explain(user, "edit", "course", other)
    assert not result.allowed
    assert result.reasons == ()
    assert codes(result.denials) == [
        "grant_expired",
        "role_lacks_permission",
        "role_lacks_permission",
        "scope_mismatch",
    ]
    expired = next(r for r in result.denials if r.code == "grant_expired")
    assert expired.role == "administrator"
    assert str(now.year) in expired.message
    assert user_can(user, "edit", "course", other) is result.allowed


@pytest.mark.parametrize("state", ["inactive", "deleted", "no_grants", "superuser"])
def test_explain_user_states(state):
    user = UserFactory(is_superuser=state == "superuser")
    if state == "inactive":
        user.is_active = False
    if state == "deleted":
        user.deleted_at = timezone.now()
    result = permission_explain(user, "view", "course")
    expected = {
        "inactive": "user_inactive",
        "deleted": "user_deleted",
        "no_grants": "no_grants",
        "superuser": "superuser",
    }[state]
    assert expected in codes(result.reasons) + codes(result.denials)
    assert result.allowed is (state == "superuser") is user_can(user, "view", "course")


def test_explain_flags_unknown_permissions():
    result = permission_explain(UserFactory(), "fly", "course")
    assert "unknown_permission" in codes(result.denials)


# -- API -------------------------------------------------------------------------------------

EXPLAIN_URL = "/api/v1/rbac/explain/"


def test_url_name():
    assert reverse("api:rbac:explain") == EXPLAIN_URL


def test_api_explains_for_staff(api_client, builtin_roles):
    staff, user = UserFactory(is_staff=True), UserFactory()
    course = uuid.uuid4()
    grant_create(
        user=user, role=builtin_roles["teaching_assistant"], scope_type="course", scope_id=course
    )
    api_client.force_authenticate(staff)
    response = api_client.get(
        EXPLAIN_URL,
        {"user": user.pk, "permission": "grade.edit", "scope_type": "course", "scope_id": course},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allowed"] is True
    assert body["reasons"][0]["role"] == "teaching_assistant"
    assert {"scope_type": "course", "scope_id": str(course)} in body["scopes"]
    response = api_client.get(EXPLAIN_URL, {"user": user.pk, "permission": "grade.edit"})
    assert response.json()["allowed"] is False
    assert response.json()["denials"][0]["code"] == "scope_mismatch"


def test_api_refuses_non_staff_with_the_standard_body(api_client):
    api_client.force_authenticate(UserFactory())
    response = api_client.get(EXPLAIN_URL, {"user": uuid.uuid4(), "permission": "course.view"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"permission": "course.view"}, 400, "user"),
        ({"user": "not-a-uuid", "permission": "course.view"}, 400, "user"),
        ({"user": "USER", "permission": "Course edit"}, 400, "permission"),
        ({"user": "USER", "permission": "course.view", "scope_type": "course"}, 400, "scope_id"),
        ({"user": str(uuid.uuid4()), "permission": "course.view"}, 404, "user"),
    ],
)
def test_api_bad_input(api_client, params, status, field):
    staff = UserFactory(is_staff=True)
    params = {k: (str(staff.pk) if v == "USER" else v) for k, v in params.items()}
    api_client.force_authenticate(staff)
    response = api_client.get(EXPLAIN_URL, params)
    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]


def test_scope_target_matches_exactly_its_scope(builtin_roles):
    user, course = UserFactory(), uuid.uuid4()
    grant_create(user=user, role=builtin_roles["student"], scope_type="course", scope_id=course)
    assert user_can(user, "view", "course", ScopeTarget("course", course))
    assert not user_can(user, "view", "course", ScopeTarget("course", uuid.uuid4()))


# -- admin -----------------------------------------------------------------------------------


def test_admin_pages_render(verified_admin, builtin_roles):
    grant = grant_create(user=UserFactory(), role=builtin_roles["student"])
    for name, args in [
        ("admin:rbac_role_changelist", []),
        ("admin:rbac_role_change", [builtin_roles["instructor"].pk]),
        ("admin:rbac_permission_changelist", []),
        ("admin:rbac_rolegrant_changelist", []),
        ("admin:rbac_rolegrant_add", []),
        ("admin:rbac_rolegrant_change", [grant.pk]),
    ]:
        response = verified_admin.get(reverse(name, args=args))
        assert response.status_code == 200, name
    for status in ("active", "expired", "future", "revoked"):
        url = reverse("admin:rbac_rolegrant_changelist") + f"?status={status}"
        assert verified_admin.get(url).status_code == 200


def test_admin_system_role_cannot_be_deleted_and_says_why(verified_admin, builtin_roles):
    student = builtin_roles["student"]
    page = verified_admin.get(reverse("admin:rbac_role_change", args=[student.pk]))
    assert b"cannot be deleted" in page.content
    response = verified_admin.post(
        reverse("admin:rbac_role_delete", args=[student.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Role.objects.filter(pk=student.pk).exists()


def test_admin_rejects_a_role_cycle(verified_admin, builtin_roles):
    student = builtin_roles["student"]
    response = verified_admin.post(
        reverse("admin:rbac_role_change", args=[student.pk]),
        {
            "name": "student",
            "display_name": "Student",
            "description": "",
            "parent": builtin_roles["instructor"].pk,
            "level": 10,
            "role_permissions-TOTAL_FORMS": 0,
            "role_permissions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "would become its own ancestor" in str(
        response.context["adminform"].form.errors["parent"]
    )
    student.refresh_from_db()
    assert student.parent is None


def grant_post(user, role, **extra):
    now = timezone.now()
    data = {
        "user": user.pk,
        "role": role.pk,
        "scope_type": "global",
        "scope_id": "",
        "valid_from_0": now.strftime("%Y-%m-%d"),
        "valid_from_1": now.strftime("%H:%M:%S"),
        "expires_at_0": "",
        "expires_at_1": "",
    }
    data.update(extra)
    return data


def test_admin_grants_through_the_service(verified_admin, staff_user, builtin_roles):
    user = UserFactory()
    url = reverse("admin:rbac_rolegrant_add")
    response = verified_admin.post(url, grant_post(user, builtin_roles["student"]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    grant = RoleGrant.objects.get(user=user)
    assert grant.granted_by == staff_user
    # the same again is refused as a form error, nothing saved
    response = verified_admin.post(url, grant_post(user, builtin_roles["student"]))
    assert response.status_code == 200
    assert "overlapping period" in str(response.context["adminform"].form.errors)
    assert RoleGrant.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("problem", ["inactive_user", "expiry", "scope"])
def test_admin_grant_bad_input_is_a_form_error(verified_admin, builtin_roles, problem):
    user = UserFactory(is_active=problem != "inactive_user")
    extra = {}
    if problem == "expiry":
        extra = {"expires_at_0": "2000-01-01", "expires_at_1": "00:00:00"}
    if problem == "scope":
        extra = {"scope_type": "course"}
    response = verified_admin.post(
        reverse("admin:rbac_rolegrant_add"), grant_post(user, builtin_roles["student"], **extra)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not RoleGrant.objects.exists()


def test_admin_revoke_action_uses_the_service(verified_admin, staff_user, builtin_roles):
    grant = grant_create(user=UserFactory(), role=builtin_roles["student"])
    response = verified_admin.post(
        reverse("admin:rbac_rolegrant_changelist"),
        {"action": "revoke_selected", "_selected_action": [grant.pk]},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status() == "revoked"
    assert grant.revoked_by == staff_user


def test_admin_explain_page(verified_admin, builtin_roles):
    user = UserFactory()
    grant_create(user=user, role=builtin_roles["instructor"])
    url = reverse("admin:rbac_explain")
    assert url == "/admin/rbac/rolegrant/explain/"
    response = verified_admin.get(
        url, {"user": user.pk, "permission": "grade.edit", "scope_type": "global"}
    )
    assert response.status_code == 200
    assert response.context["explanation"].allowed
    assert b"inherited from teaching_assistant" in response.content
    assert verified_admin.get(url).status_code == 200  # the empty form
