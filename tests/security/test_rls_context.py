"""How the row-level security context is set, followed, nested and cleared (apps/core/rls.py):
requests, tasks, commands and re-opened connections."""

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from apps.core import rls
from apps.core.context import command_context
from apps.core.middleware import RowLevelSecurityMiddleware
from apps.core.rls_signals import enter_task_system_context, exit_task_system_context
from tests.accounts.factories import UserFactory


def settings_now() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.context', true), "
            "current_setting('app.current_user_id', true)"
        )
        return tuple(value or "" for value in cursor.fetchone())


@pytest.fixture(autouse=True)
def _clean():
    yield
    rls.context_clear()


def test_system_context_nests_and_gives_the_previous_context_back(db, user):
    rls.context_apply(rls.request_context(user))
    assert settings_now() == ("request", str(user.pk))
    with rls.system_context():
        assert settings_now() == ("system", "")
        with rls.system_context():
            assert settings_now() == ("system", "")
        assert settings_now() == ("system", "")
    assert settings_now() == ("request", str(user.pk))
    rls.context_clear()
    assert settings_now() == ("", "")


def test_the_middleware_sets_the_context_and_follows_a_user_authenticated_in_the_view(db):
    first, second = UserFactory(), UserFactory()
    seen = []

    def view(request):
        seen.append(settings_now())
        request.user = second  # as DRF does after authenticating a token inside the view
        seen.append(settings_now())
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = first
    RowLevelSecurityMiddleware(view)(request)
    assert seen == [("request", str(first.pk)), ("request", str(second.pk))]


def test_anonymous_requests_have_a_request_context_without_a_user(db):
    from django.contrib.auth.models import AnonymousUser

    seen = []
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    RowLevelSecurityMiddleware(lambda r: seen.append(settings_now()) or HttpResponse())(request)
    assert seen == [("request", "")]


def test_a_streamed_response_keeps_the_context_until_the_request_finishes(db, client, user):
    """The gradebook CSV streams after the middleware returned; request_finished clears."""
    seen = []

    def rows():
        seen.append(settings_now())
        yield b"x"

    request = RequestFactory().get("/")
    request.user = user
    response = RowLevelSecurityMiddleware(lambda r: StreamingHttpResponse(rows()))(request)
    assert b"".join(response.streaming_content) == b"x"
    assert seen == [("request", str(user.pk))]
    # Closing sends request_finished, as the WSGI server does (without Django's connection
    # closing, as the test client does, since the test's transaction is still open).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert settings_now() == ("", "")


def test_a_test_client_request_leaves_nothing_behind(db, client, user):
    client.force_login(user)
    assert client.get("/learn/").status_code == 200
    assert settings_now() == ("", "")
    assert rls.context_current() == rls.NO_CONTEXT


def test_celery_tasks_run_as_the_system_and_give_the_context_back(db, user):
    enter_task_system_context(task_id="t-1")
    assert settings_now() == ("system", "")
    exit_task_system_context(task_id="t-1")
    assert settings_now() == ("", "")
    # An eager task inside a request returns the request's context.
    rls.context_apply(rls.request_context(user))
    enter_task_system_context(task_id="t-2")
    exit_task_system_context(task_id="t-2")
    assert settings_now() == ("request", str(user.pk))


def test_management_commands_run_as_the_system_but_servers_do_not(db):
    with command_context(["manage.py", "seed_demo"]):
        assert rls.context_current() == rls.SYSTEM_CONTEXT
        assert settings_now() == ("system", "")
    assert settings_now() == ("", "")
    with command_context(["manage.py", "runserver"]):
        assert rls.context_current() == rls.NO_CONTEXT


@pytest.mark.django_db(transaction=True)
def test_a_reopened_connection_gets_its_context_back():
    with rls.system_context():
        connection.close()
        assert settings_now() == ("system", "")  # a new session, told again on connect
    connection.close()
    assert settings_now() == ("", "")
