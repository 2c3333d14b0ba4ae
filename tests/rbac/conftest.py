import uuid
from dataclasses import dataclass, field

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from apps.accounts.models import TOTPDevice
from apps.rbac.models import Role


@dataclass(frozen=True)
class Category:
    """Test stand-in for a content category (content models do not exist yet)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    parent: "Category | None" = None

    def rbac_scopes(self):
        node = self
        while node is not None:
            yield ("category", node.id)
            node = node.parent


@dataclass(frozen=True)
class Course:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    category: Category | None = None

    def rbac_scopes(self):
        yield ("course", self.id)
        if self.category is not None:
            yield from self.category.rbac_scopes()


@dataclass(frozen=True)
class Lesson:
    course: Course

    def rbac_scopes(self):
        return self.course.rbac_scopes()


@pytest.fixture
def builtin_roles(db):
    """The roles seeded by migration 0002, by name."""
    return {role.name: role for role in Role.objects.all()}


@pytest.fixture
def verified_admin(client, staff_user):
    """A staff session that passed the second factor (the admin site requires it)."""
    device = TOTPDevice.objects.create(user=staff_user, name="rbac-tests", confirmed=True)
    client.force_login(staff_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
