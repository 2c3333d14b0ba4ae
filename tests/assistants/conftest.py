import pytest

from apps.rbac.models import Role
from apps.rbac.services import grant_ensure, rbac_builtin_sync
from tests.accounts.factories import UserFactory
from tests.assistants.factories import CapabilityFactory, ProfileFactory


@pytest.fixture
def profile(db):
    """An offline assistant that remembers."""
    profile = ProfileFactory(name="Study buddy")
    CapabilityFactory(profile=profile, name="memory")
    return profile


def with_role(user, role_name: str):
    rbac_builtin_sync()
    grant_ensure(user=user, role=Role.objects.get(name=role_name))
    return user


@pytest.fixture
def student(db):
    return with_role(UserFactory(first_name="Sofia"), "student")


@pytest.fixture
def teacher(db):
    return with_role(UserFactory(first_name="Tomas"), "instructor")
