import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.exceptions import ConflictError, DomainError
from apps.rbac.models import RoleGrant
from apps.rbac.services import (
    grant_create,
    grant_ensure,
    grant_revoke,
    role_create,
    role_delete,
    role_set_parent,
)
from tests.accounts.factories import UserFactory
from tests.rbac.factories import RoleFactory, RoleGrantFactory

pytestmark = pytest.mark.django_db


def test_role_cycle_is_a_clear_domain_error():
    a = RoleFactory()
    b = role_create(name="b_role", display_name="B", parent=a)
    c = role_create(name="c_role", display_name="C", parent=b)
    for parent in (c, a):
        with pytest.raises(DomainError) as error:
            role_set_parent(role=a, parent=parent)
        assert error.value.code == "role_cycle"
        assert "parent" in error.value.fields
    a.refresh_from_db()
    assert a.parent is None


def test_system_role_cannot_be_deleted(builtin_roles):
    with pytest.raises(DomainError, match="system role"):
        role_delete(role=builtin_roles["student"])
    role = RoleFactory()
    RoleGrantFactory(role=role)
    with pytest.raises(ConflictError):
        role_delete(role=role)


def test_grant_create_and_revoke_are_recorded(builtin_roles):
    admin, user = UserFactory(), UserFactory()
    course = uuid.uuid4()
    grant = grant_create(
        user=user,
        role=builtin_roles["instructor"],
        scope_type="course",
        scope_id=course,
        granted_by=admin,
    )
    assert grant.status() == "active"
    assert grant.granted_by == admin
    grant_revoke(grant=grant, revoked_by=admin)
    grant.refresh_from_db()
    assert grant.status() == "revoked"
    assert grant.revoked_by == admin
    assert RoleGrant.objects.filter(pk=grant.pk).exists()  # recorded, not deleted
    labels = list(grant.events.order_by("pgh_id").values_list("pgh_label", "revoked_by_id"))
    assert labels == [("insert", None), ("update", admin.pk)]
    with pytest.raises(ConflictError, match="already revoked"):
        grant_revoke(grant=grant, revoked_by=admin)


@pytest.mark.parametrize(
    ("field", "value"), [("is_active", False), ("deleted_at", "now")], ids=["inactive", "deleted"]
)
def test_inactive_or_deleted_users_cannot_receive_grants(field, value):
    user = UserFactory()
    if value == "now":
        if not hasattr(user, "deleted_at"):
            pytest.skip("accounts has no soft delete yet")
        value = timezone.now()
    setattr(user, field, value)
    with pytest.raises(DomainError) as error:
        grant_create(user=user, role=RoleFactory())
    assert error.value.code == "user_inactive"
    assert not RoleGrant.objects.exists()


def test_duplicate_active_grant_is_a_conflict_and_saves_nothing():
    user, role = UserFactory(), RoleFactory()
    grant_create(user=user, role=role)
    with pytest.raises(ConflictError) as error:
        grant_create(user=user, role=role)
    assert error.value.status_code == 409
    assert RoleGrant.objects.count() == 1
    # after revocation the same grant can be given again
    grant_revoke(grant=RoleGrant.objects.get(), revoked_by=None)
    grant_create(user=user, role=role)
    assert RoleGrant.objects.filter(revoked_at__isnull=True).count() == 1


def test_expiry_must_follow_start():
    now = timezone.now()
    with pytest.raises(DomainError) as error:
        grant_create(user=UserFactory(), role=RoleFactory(), valid_from=now, expires_at=now)
    assert "expires_at" in error.value.fields
    assert not RoleGrant.objects.exists()


@pytest.mark.parametrize(
    ("scope_type", "scope_id"), [("global", uuid.uuid4()), ("course", None), ("planet", None)]
)
def test_bad_scope_is_refused(scope_type, scope_id):
    with pytest.raises(DomainError):
        grant_create(
            user=UserFactory(), role=RoleFactory(), scope_type=scope_type, scope_id=scope_id
        )
    assert not RoleGrant.objects.exists()


def test_consecutive_periods_are_allowed():
    user, role, now = UserFactory(), RoleFactory(), timezone.now()
    grant_create(user=user, role=role, valid_from=now, expires_at=now + timedelta(days=30))
    grant_create(user=user, role=role, valid_from=now + timedelta(days=30))
    with pytest.raises(ConflictError):
        grant_create(user=user, role=role, valid_from=now + timedelta(days=10))


def test_grant_ensure_is_idempotent():
    user, role = UserFactory(), RoleFactory()
    first, created = grant_ensure(user=user, role=role)
    again, created_again = grant_ensure(user=user, role=role)
    assert (created, created_again) == (True, False)
    assert first == again
