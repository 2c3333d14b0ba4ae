import pytest
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.rbac.permissions import HasRBACPermission
from apps.rbac.services import grant_create
from tests.accounts.factories import UserFactory
from tests.rbac.conftest import Course

pytestmark = pytest.mark.django_db


class EditCourseView(APIView):
    permission_classes = (HasRBACPermission,)
    required_permission = "course.edit"


def request_for(user):
    request = APIRequestFactory().get("/")
    force_authenticate(request, user)
    view = EditCourseView()
    return view.initialize_request(request), view


def test_view_level_needs_the_permission_in_some_scope_object_level_in_its_scope(builtin_roles):
    permission = HasRBACPermission()
    mine, other = Course(), Course()
    teacher, student = UserFactory(), UserFactory()
    grant_create(
        user=teacher, role=builtin_roles["instructor"], scope_type="course", scope_id=mine.id
    )
    grant_create(user=student, role=builtin_roles["student"])

    request, view = request_for(teacher)
    assert permission.has_permission(request, view)
    assert permission.has_object_permission(request, view, mine)
    assert not permission.has_object_permission(request, view, other)

    request, view = request_for(student)
    assert not permission.has_permission(request, view)
    assert not permission.has_object_permission(request, view, mine)
