"""user_can: grants, inheritance, scopes, time, guardian, superusers; and the backend."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.accounts.models import User
from apps.rbac.selectors import user_can, user_has_permission, user_permission_scopes
from apps.rbac.services import grant_create, grant_revoke
from tests.accounts.factories import UserFactory
from tests.rbac.conftest import Category, Course, Lesson
from tests.rbac.factories import RoleFactory

pytestmark = pytest.mark.django_db


def test_builtin_roles_inherit_from_their_ancestors(builtin_roles):
    user = UserFactory()
    grant_create(user=user, role=builtin_roles["instructor"])
    assert user_can(user, "edit", "course")  # own permission
    assert user_can(user, "edit", "grade")  # from teaching_assistant
    assert user_can(user, "enroll", "course")  # from student
    assert not user_can(user, "refund", "billing")
    assert not user_can(user, "grant", "rbac")


def test_course_scoped_grant_applies_to_that_course_and_its_lessons(builtin_roles):
    science = Category()
    physics = Category(parent=science)
    mine, other = Course(category=physics), Course(category=physics)
    user = UserFactory()
    grant_create(user=user, role=builtin_roles["instructor"], scope_type="course", scope_id=mine.id)
    assert user_can(user, "edit", "course", mine)
    assert user_can(user, "edit", "course", Lesson(course=mine))
    assert not user_can(user, "edit", "course", other)
    assert not user_can(user, "edit", "course")  # without an object only global grants count
    assert user_permission_scopes(user, "course.edit") == {("course", mine.id)}


def test_category_grant_applies_to_courses_in_sub_categories(builtin_roles):
    science, arts = Category(), Category()
    physics = Category(parent=science)
    user = UserFactory()
    grant_create(
        user=user,
        role=builtin_roles["teaching_assistant"],
        scope_type="category",
        scope_id=science.id,
    )
    assert user_can(user, "edit", "grade", Course(category=physics))
    assert not user_can(user, "edit", "grade", Course(category=arts))


def test_global_grant_applies_everywhere(builtin_roles):
    user = UserFactory()
    grant_create(user=user, role=builtin_roles["student"])
    assert user_can(user, "view", "course")
    assert user_can(user, "view", "course", Course())
    assert user_can(user, "view", "course", object())  # no rbac_scopes: global grants only


def test_expired_future_and_revoked_grants_give_nothing():
    now = timezone.now()
    role = RoleFactory(permissions=["course.view"])
    expired, future, revoked = UserFactory(), UserFactory(), UserFactory()
    grant_create(
        user=expired,
        role=role,
        valid_from=now - timedelta(days=10),
        expires_at=now - timedelta(days=1),
    )
    grant_create(user=future, role=role, valid_from=now + timedelta(days=1))
    grant = grant_create(user=revoked, role=role)
    assert user_can(revoked, "view", "course")
    grant_revoke(grant=grant, revoked_by=None)
    for user in (expired, future, revoked):
        fresh = User.objects.get(pk=user.pk)
        assert not user_can(fresh, "view", "course")


def test_inactive_deleted_and_anonymous_users_have_nothing():
    role = RoleFactory(permissions=["course.view"])
    user = UserFactory()
    grant_create(user=user, role=role)
    assert user_can(user, "view", "course")
    inactive = User.objects.get(pk=user.pk)
    inactive.is_active = False
    assert not user_can(inactive, "view", "course")
    deleted = User.objects.get(pk=user.pk)
    deleted.deleted_at = timezone.now()
    assert not user_can(deleted, "view", "course")
    assert not user_can(AnonymousUser(), "view", "course")


def test_superusers_may_do_everything_while_active():
    root = UserFactory(is_superuser=True)
    assert user_can(root, "refund", "billing", Course())
    root.is_active = False
    assert not user_can(root, "refund", "billing")


def test_guardian_object_permission_counts_for_that_object_only():
    user, target, other = UserFactory(), UserFactory(), UserFactory()
    perm = AuthPermission.objects.create(
        codename="user.manage",
        name="Manage this user (rbac)",
        content_type=ContentType.objects.get_for_model(User),
    )
    assign_perm(perm, user, target)
    assert user_can(user, "manage", "user", target)
    assert not user_can(user, "manage", "user", other)
    assert not user_can(user, "manage", "user")


def test_effective_permissions_load_in_one_query_and_are_cached(
    builtin_roles, django_assert_num_queries
):
    courses = [Course(category=Category()) for _ in range(20)]
    user = UserFactory()
    grant_create(user=user, role=builtin_roles["student"])
    for course in courses[:10]:
        grant_create(
            user=user, role=builtin_roles["instructor"], scope_type="course", scope_id=course.id
        )
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        results = [user_can(user, "edit", "course", course) for course in courses]
        results += [user_has_permission(user, "course.view") for _ in range(50)]
    assert results[:10] == [True] * 10
    assert results[10:20] == [False] * 10
    assert all(results[20:])


def test_cache_is_dropped_when_a_service_changes_the_users_grants():
    role = RoleFactory(permissions=["course.view"])
    user = UserFactory()
    assert not user_can(user, "view", "course")
    grant = grant_create(user=user, role=role)
    assert user_can(user, "view", "course")
    grant_revoke(grant=grant, revoked_by=None)
    assert not user_can(user, "view", "course")


def test_user_has_perm_goes_through_the_rbac_backend(builtin_roles):
    user = UserFactory()
    course = Course()
    grant_create(
        user=user, role=builtin_roles["instructor"], scope_type="course", scope_id=course.id
    )
    assert user.has_perm("rbac:course.edit", course)
    assert not user.has_perm("rbac:course.edit", Course())
    assert not user.has_perm("rbac:course.edit")
    assert not user.has_perm("rbac:billing.refund", course)
    # Django's own permissions are untouched
    assert not user.has_perm("accounts.change_user")
    assert UserFactory(is_superuser=True).has_perm("rbac:billing.refund")


def test_rbac_denial_on_a_model_object_does_not_reach_guardians_app_check():
    user, target = UserFactory(), UserFactory()
    # guardian's backend would raise WrongAppError for "rbac:user.manage" on an accounts object
    assert not user.has_perm("rbac:user.manage", target)
