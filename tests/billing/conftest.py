import pytest

from tests.accounts.factories import UserFactory
from tests.billing import stripe_fake
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


@pytest.fixture
def fake_stripe(settings):
    """Stripe as the provider, its API a local fake server (tests/billing/stripe_fake.py)."""
    fake, server = stripe_fake.start()
    settings.BILLING_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = stripe_fake.SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = stripe_fake.WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    yield fake
    server.shutdown()
    server.server_close()
