import pytest

from tests.accounts.factories import UserFactory
from tests.content.factories import CourseFactory, LessonFactory, ModuleFactory, published


@pytest.fixture
def buyer(db):
    return UserFactory()


def paid_course(price_minor: int = 10_000, currency: str = "USD", **kwargs):
    """A published paid course with one lesson."""
    course = published(
        CourseFactory(access_type="paid", price_minor=price_minor, currency=currency, **kwargs)
    )
    LessonFactory(module=ModuleFactory(course=course))
    return course


@pytest.fixture
def course(db):
    return paid_course()
