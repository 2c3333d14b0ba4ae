"""Every user-facing list still works when the site runs as the app role, under row-level
security, and the request context never leaks from one request to the next on a connection.

The rest of the suite connects as the owner role (pytest-django must create the database), for
which RLS does not apply. Here the world is committed first, then Django's default connection is
re-opened as the app role, so the real middleware, views, APIs and policies run together in
process, exactly as web does."""

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from apps.accounts.models import TOTPDevice
from apps.core import rls
from apps.progress.models import Certificate, Enrollment
from tests.conftest import APP_ROLE_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def as_app_role(world):
    """Django's default connection, re-opened as the app role for the test."""
    owner = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=settings.DATABASE_APP_ROLE, PASSWORD=APP_ROLE_PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DATABASE_APP_ROLE
    yield world
    connection.close()
    connection.settings_dict.update(owner)


def session_setting() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.context', true), "
            "current_setting('app.current_user_id', true)"
        )
        return tuple(value or "" for value in cursor.fetchone())


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_learner_pages_and_apis_show_their_own_rows(as_app_role, client):
    world = as_app_role
    anna, first, second = world.learners["anna"], world.courses["first"], world.courses["second"]
    client.force_login(anna)
    pages = {
        "my learning": reverse("progress:my_learning"),
        "outline": reverse("progress:outline", args=[first.slug]),
        "my orders": reverse("billing:orders"),
        "subscription": reverse("billing:subscription"),
        "memories": reverse("assistants:memories"),
        "assistants": reverse("assistants:index"),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
    learning = client.get(pages["my learning"]).content.decode()
    assert first.title in learning and second.title not in learning
    assert "Your certificate" in client.get(pages["outline"]).content.decode()
    order = client.get(pages["my orders"]).context["orders"]
    assert {o.user_id for o in order} == {anna.pk}
    with rls.system_context():  # the test itself, outside any request, is no one
        certificate = Certificate.objects.get(enrollment__user=anna)
    assert client.get(reverse("billing:invoice", args=[order[0].pk])).status_code == 200
    # Ben's course outline does not show Anna Ben's progress, and Ben's order is not found.
    ben_order = world.rows["billing.order"]
    ben_ids = [row_id for row_id, owner, _ in ben_order if owner == world.learners["ben"].pk]
    assert client.get(reverse("billing:order", args=[ben_ids[0]])).status_code == 404
    # Writing still works: a heartbeat on her own lesson.
    lesson = first.modules.first().lessons.order_by("position").first()
    assert client.get(reverse("progress:lesson", args=[first.slug, lesson.pk])).status_code == 200
    # The public certificate page, signed out, reads through the SECURITY DEFINER function.
    client.logout()
    page = client.get(reverse("progress:certificate", args=[certificate.code]))
    assert page.status_code == 200 and certificate.learner_name in page.content.decode()


def test_api_lists_follow_the_user_authenticated_inside_the_view(as_app_role):
    """DRF authenticates in the view (tokens), after the middleware: the context follows."""
    world = as_app_role
    anna = world.learners["anna"]
    api = APIClient()
    api.force_authenticate(anna)
    lists = {
        "enrollments": reverse("api:progress:enrollments"),
        "orders": reverse("api:billing:orders"),
        "memories": reverse("api:assistants:memories"),
    }
    for name, url in lists.items():
        response = api.get(url)
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        rows = response.json()["results"]
        assert rows, name
    enrollments = api.get(lists["enrollments"]).json()["results"]
    assert [row["course"] for row in enrollments] == [str(world.courses["first"].pk)]


def test_teacher_sees_their_course_roster_and_gradebook(as_app_role, client):
    world = as_app_role
    first = world.courses["first"]
    client.force_login(first.instructor)
    roster = client.get(reverse("progress:roster", args=[first.slug]))
    assert roster.status_code == 200
    assert world.learners["anna"].email in roster.content.decode()
    gradebook = client.get(reverse("progress:gradebook", args=[first.slug]) + "?format=csv")
    assert gradebook.status_code == 200
    csv = b"".join(gradebook.streaming_content).decode()  # streamed after the middleware ends
    assert world.learners["anna"].email in csv
    # The other course is not theirs: the page refuses.
    second = world.courses["second"]
    assert client.get(reverse("progress:roster", args=[second.slug])).status_code == 404


def test_admin_lists_for_a_superuser(as_app_role, client):
    world = as_app_role
    admin = world.viewers["superuser"]
    from apps.accounts.models import User

    user = User.objects.get(pk=admin.user_id)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    for url in (
        "/admin/progress/enrollment/",
        "/admin/billing/order/",
        "/admin/assistants/usermemory/",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.context["cl"].result_count == 2, url


def test_the_context_never_outlives_its_request_on_a_reused_connection(as_app_role, client):
    world = as_app_role
    anna, ben = world.learners["anna"], world.learners["ben"]
    client.force_login(anna)
    assert client.get(reverse("progress:my_learning")).status_code == 200
    pid = backend_pid()
    assert session_setting() == ("", "")  # cleared when the request finished
    assert Enrollment.objects.count() == 0  # and so the session sees nothing
    client.force_login(ben)
    page = client.get(reverse("progress:my_learning"))
    assert backend_pid() == pid  # the same database session served both requests
    titles = [e.course.title for e in page.context["enrollments"]]
    assert titles == [world.courses["second"].title]
    client.logout()
    assert client.get(reverse("progress:my_learning")).status_code == 302
    assert session_setting() == ("", "")
