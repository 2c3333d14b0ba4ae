"""User admin: search, soft delete and restore, the permissions link."""

import pytest

from apps.accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_page_links_to_the_permission_explanation(verified_staff_client):
    user = UserFactory()
    response = verified_staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert response.status_code == 200
    assert f"/admin/rbac/rolegrant/explain/?user={user.pk}" in response.content.decode()


def test_soft_delete_and_restore_actions(verified_staff_client):
    user = UserFactory(email="gone@example.org")
    url = "/admin/accounts/user/"
    verified_staff_client.post(url, {"action": "soft_delete", "_selected_action": [str(user.pk)]})
    user.refresh_from_db()
    assert user.deleted_at is not None and not user.is_active
    assert b"gone@example.org" not in verified_staff_client.get(url).content
    assert b"gone@example.org" in verified_staff_client.get(url, {"account": "deleted"}).content
    verified_staff_client.post(
        url + "?account=deleted", {"action": "restore", "_selected_action": [str(user.pk)]}
    )
    user.refresh_from_db()
    assert user.deleted_at is None and user.is_active


def test_a_deleted_users_address_stays_reserved(client):
    old = UserFactory(email="reuse@example.org")
    User.all_objects.filter(pk=old.pk).update(deleted_at=old.created_at, is_active=False)
    response = client.post(
        "/accounts/signup/",
        {
            "email": "REUSE@example.org",
            "username": "reuser",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert "email" in response.context["form"].errors


def test_users_are_never_hard_deleted_from_admin(verified_staff_client):
    user = UserFactory()
    response = verified_staff_client.get(f"/admin/accounts/user/{user.pk}/delete/")
    assert response.status_code == 403


def test_course_admin_manages_guardian_object_permissions(verified_staff_client):
    from tests.content.factories import CourseFactory

    course = CourseFactory()
    page = verified_staff_client.get(f"/admin/content/course/{course.pk}/change/")
    assert f"/admin/content/course/{course.pk}/permissions/" in page.content.decode()
    response = verified_staff_client.get(f"/admin/content/course/{course.pk}/permissions/")
    assert response.status_code == 200
    assert "Object permissions" in response.content.decode()
