import uuid
from dataclasses import dataclass, field

import pytest

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
