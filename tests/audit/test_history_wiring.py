"""pghistory wiring: events land in the audit schema, with the context of whoever caused them."""

import json
import subprocess

import pytest
from celery import shared_task
from django.db import connection

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.demo.data import DEMO_USERS
from tests.accounts.factories import UserFactory
from tests.conftest import BASE_DIR, PYTHON, subprocess_env


def events_for(user_id):
    """(label, first_name, context metadata) of a user's audit events, oldest first, via SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.pgh_label, e.first_name, c.metadata
            FROM "audit"."accounts_user_event" e
            LEFT JOIN pghistory_context c ON c.id = e.pgh_context_id
            WHERE e.pgh_obj_id = %s
            ORDER BY e.pgh_id
            """,
            [user_id],
        )
        return [
            (label, name, json.loads(meta) if meta is not None else None)
            for label, name, meta in cursor.fetchall()
        ]


@pytest.mark.django_db
def test_insert_update_delete_are_recorded_in_the_audit_schema():
    user = user_create(email="ann@example.org", password="s3cret-pass", first_name="Ann")
    user.first_name = "Anne"
    user.save()
    user_id = user.pk
    user.delete()
    assert [(label, name) for label, name, _ in events_for(user_id)] == [
        ("insert", "Ann"),
        ("update", "Anne"),
        ("delete", "Anne"),
    ]


@pytest.mark.django_db
def test_a_save_without_changes_records_no_event():
    user = UserFactory()
    user.save()  # only updated_at moves
    assert [label for label, _, _ in events_for(user.pk)] == ["insert"]


@pytest.mark.django_db
def test_raw_sql_changes_are_recorded_without_context():
    user = UserFactory(first_name="Before")
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "accounts"."user" SET first_name = \'After\' WHERE id = %s', [user.pk]
        )
    assert events_for(user.pk)[-1] == ("update", "After", None)


@pytest.mark.django_db
def test_secrets_never_enter_the_trail():
    user = UserFactory()
    user.set_password("a brand new secret")
    user.save()
    assert [label for label, _, _ in events_for(user.pk)] == ["insert"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'audit' AND table_name = 'accounts_user_event'"
        )
        columns = {row[0] for row in cursor.fetchall()}
    assert "password" not in columns
    assert "last_login" not in columns


@pytest.mark.django_db
def test_request_context_is_attached_to_events(client):
    target = UserFactory(first_name="Old")
    client.force_login(target)
    url = "/api/v1/accounts/me/"
    response = client.patch(
        url,
        {"first_name": "New"},
        content_type="application/json",
        HTTP_USER_AGENT="pytest-browser/1.0",
        HTTP_X_REQUEST_ID="req-1234567890",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == "req-1234567890"
    label, name, metadata = events_for(target.pk)[-1]
    assert (label, name) == ("update", "New")
    assert metadata["user"] == str(target.pk)
    assert metadata["url"] == url
    assert metadata["method"] == "PATCH"
    assert metadata["request_id"] == "req-1234567890"
    assert metadata["ip"] == "203.0.113.9"
    assert metadata["user_agent"] == "pytest-browser/1.0"


def test_a_malformed_request_id_is_replaced(client, db):
    response = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
    assert len(response["X-Request-ID"]) == 32


@shared_task(name="tests.rename_user")
def rename_user(user_id: str, first_name: str) -> None:
    User.objects.filter(pk=user_id).update(first_name=first_name)


@pytest.mark.django_db
def test_celery_task_context_is_attached_to_events():
    user = UserFactory()
    result = rename_user.apply(args=[str(user.pk), "Tasked"], task_id="task-42")
    assert result.successful()
    label, name, metadata = events_for(user.pk)[-1]
    assert (label, name) == ("update", "Tasked")
    assert metadata == {"task": "tests.rename_user", "task_id": "task-42"}


@pytest.mark.django_db(transaction=True)
def test_management_command_context_is_attached_to_events():
    for _ in range(2):  # seed_demo is idempotent: the second run changes nothing
        completed = subprocess.run(
            [PYTHON, "manage.py", "seed_demo"],
            cwd=BASE_DIR,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr
    admin = User.objects.get(email="admin@lyceum.test")
    assert User.objects.filter(email__endswith="@lyceum.test").count() == len(DEMO_USERS)
    assert events_for(admin.pk) == [("insert", "Ada", {"command": "seed_demo"})]
