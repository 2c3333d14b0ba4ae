import pytest

from apps.accounts.models import User
from apps.demo.services import demo_seed
from apps.rbac.builtin import BUILTIN_ROLES
from apps.rbac.models import RoleGrant
from apps.rbac.selectors import user_can

pytestmark = pytest.mark.django_db


def test_demo_people_hold_the_builtin_roles_and_seeding_twice_changes_nothing():
    demo_seed()
    demo_seed()
    held = dict(RoleGrant.objects.active().values_list("user__email", "role__name"))
    assert held == {
        "admin@lyceum.test": "administrator",
        "teacher@lyceum.test": "instructor",
        "assistant@lyceum.test": "teaching_assistant",
        "billing@lyceum.test": "billing_manager",
        "student@lyceum.test": "student",
        "subscriber@lyceum.test": "student",
    }
    # Every built-in role has a demo holder.
    assert set(held.values()) == set(BUILTIN_ROLES)
    teacher = User.objects.get(email="teacher@lyceum.test")
    student = User.objects.get(email="student@lyceum.test")
    assert user_can(teacher, "edit", "course")
    assert user_can(student, "enroll", "course")
    assert not user_can(student, "edit", "course")
