import pytest

from apps.rbac.models import Role
from apps.rbac.services import grant_create
from tests.accounts.factories import UserFactory


@pytest.fixture
def roles(db):
    return {role.name: role for role in Role.objects.all()}


@pytest.fixture
def instructor(roles):
    """A teacher holding the built-in instructor role globally (like the demo teacher)."""
    teacher = UserFactory()
    grant_create(user=teacher, role=roles["instructor"])
    return teacher


@pytest.fixture
def student(roles):
    learner = UserFactory()
    grant_create(user=learner, role=roles["student"])
    return learner


@pytest.fixture
def admin(roles):
    person = UserFactory()
    grant_create(user=person, role=roles["administrator"])
    return person
