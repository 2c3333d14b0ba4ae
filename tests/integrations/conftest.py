import pytest

from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, published


@pytest.fixture
def teacher(db):
    return UserFactory()


@pytest.fixture
def course(teacher):
    return published(CourseFactory(instructor=teacher))
