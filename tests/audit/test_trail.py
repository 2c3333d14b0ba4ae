"""The row-level trail read back: one event per change, from every path, with diffs and
context; history, state as of a time, a user's activity; the admin browser and the staff API."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import personal_access_token_create, user_create
from apps.audit.selectors import domain_events, object_as_of, object_history, user_activity
from apps.audit.services import domain_event_record
from apps.rbac.models import Role
from apps.rbac.services import grant_create, grant_revoke
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def changed(event) -> dict:
    """The event's diff without updated_at (which every update moves, by trigger)."""
    assert "updated_at" in event.pgh_diff
    return {k: v for k, v in event.pgh_diff.items() if k != "updated_at"}


def updates_of(user):
    return [e for e in object_history(obj=user) if e.pgh_label == "update"]


def test_orm_change_is_one_event_with_old_new_and_changed_fields():
    user = UserFactory(first_name="Ann", last_name="Lee")
    user.first_name = "Anna"
    user.save()
    (event,) = updates_of(user)
    assert changed(event) == {"first_name": ["Ann", "Anna"]}
    assert event.pgh_data["first_name"] == "Anna"


def test_raw_sql_change_is_one_event_without_actor():
    user = UserFactory(last_name="Old")
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "accounts"."user" SET last_name = %s WHERE id = %s', ["New", user.pk]
        )
    (event,) = updates_of(user)
    assert changed(event) == {"last_name": ["Old", "New"]}
    assert event.pgh_context is None


def test_api_change_is_one_event_with_actor_and_request_id(api_client):
    user = UserFactory(first_name="Api")
    _token, plaintext = personal_access_token_create(user=user, name="t", scopes=["users:write"])
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_X_REQUEST_ID="api-req-0001"
    )
    response = api_client.patch("/api/v1/accounts/me/", {"first_name": "Changed"})
    assert response.status_code == 200
    (event,) = updates_of(user)
    assert changed(event) == {"first_name": ["Api", "Changed"]}
    assert event.pgh_context["user"] == str(user.pk)
    assert event.pgh_context["request_id"] == "api-req-0001"


def test_admin_change_is_one_event_with_actor_and_request_id(verified_staff_client, staff_user):
    user = UserFactory(first_name="Adm")
    response = verified_staff_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "username": user.username,
            "first_name": "Edited",
            "last_name": user.last_name,
            "phone": "",
            "is_active": "on",
            "preferences-TOTAL_FORMS": "0",
            "preferences-INITIAL_FORMS": "0",
            "teacher_profile-TOTAL_FORMS": "0",
            "teacher_profile-INITIAL_FORMS": "0",
            "role_grants-TOTAL_FORMS": "0",
            "role_grants-INITIAL_FORMS": "0",
        },
        HTTP_X_REQUEST_ID="admin-req-0001",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    (event,) = updates_of(user)
    assert changed(event) == {"first_name": ["Adm", "Edited"]}
    assert event.pgh_context["user"] == str(staff_user.pk)
    assert event.pgh_context["request_id"] == "admin-req-0001"


def test_grants_and_preferences_are_tracked_too(staff_user):
    user = user_create(email="t@example.org", password="x-long-password")
    role = Role.objects.get(name="student")
    grant = grant_create(user=user, role=role, granted_by=staff_user)
    grant_revoke(grant=grant, revoked_by=staff_user)
    labels = [e.pgh_label for e in object_history(obj=grant)]
    assert labels == ["insert", "update"]
    assert [e.pgh_label for e in object_history(obj=user.preferences)] == ["insert"]


@pytest.mark.django_db(transaction=True)  # each change its own transaction, as in real life
def test_state_as_of_a_past_time():
    user = UserFactory(first_name="First")
    user.first_name = "Second"
    user.save()
    events = object_history(obj=user)
    insert_at, update_at = (e.pgh_created_at for e in events)
    assert object_as_of(model=User, pk=user.pk, at=insert_at).first_name == "First"
    assert object_as_of(model=User, pk=user.pk, at=update_at).first_name == "Second"
    assert object_as_of(model=User, pk=user.pk, at=insert_at - timedelta(seconds=1)) is None


@pytest.mark.django_db(transaction=True)
def test_user_activity_between_two_times(client):
    actor = UserFactory()
    client.force_login(actor)
    start = timezone.now()
    client.patch("/api/v1/accounts/me/", {"first_name": "Busy"}, content_type="application/json")
    end = timezone.now() + timedelta(seconds=1)
    events = list(user_activity(user_id=actor.pk, start=start, end=end))
    assert [(e.pgh_obj_model, e.pgh_label) for e in events] == [("accounts.User", "update")]
    assert list(user_activity(user_id=actor.pk, start=end, end=end + timedelta(hours=1))) == []


def test_services_record_domain_events(staff_user):
    user = user_create(email="dom@example.org", password="x-long-password")
    role = Role.objects.get(name="student")
    grant = grant_create(user=user, role=role, granted_by=staff_user)
    grant_revoke(grant=grant, revoked_by=staff_user)
    events = list(domain_events(aggregate_type="user", aggregate_id=user.pk))
    assert [(e.version, e.event_type) for e in events] == [
        (1, "user.created"),
        (2, "role.granted"),
        (3, "role.revoked"),
    ]
    assert events[1].actor_id == staff_user.pk
    assert events[1].data["role"] == "student"


# Admin -----------------------------------------------------------------------------------------


def test_admin_audit_browser_filters_by_actor_request_and_dates(verified_staff_client):
    actor = UserFactory(email="actor@example.org")
    client = Client()
    client.force_login(actor)
    client.patch(
        "/api/v1/accounts/me/",
        {"first_name": "Seen"},
        content_type="application/json",
        HTTP_X_REQUEST_ID="find-me-123",
    )
    url = "/admin/audit/auditevent/"
    by_actor = verified_staff_client.get(url, {"actor": "actor@example.org"})
    assert by_actor.status_code == 200
    assert "find-me-123" in by_actor.content.decode()
    by_request = verified_staff_client.get(url, {"request_id": "find-me-123"})
    assert len(by_request.context["cl"].result_list) == 1
    today = timezone.localdate().isoformat()
    assert verified_staff_client.get(url, {"since": today}).status_code == 200
    later = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert len(verified_staff_client.get(url, {"since": later}).context["cl"].result_list) == 0


def test_tracked_model_change_page_links_to_its_history(verified_staff_client):
    user = UserFactory()
    page = verified_staff_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert f"/admin/audit/auditevent/?method=tracks&obj=accounts.User:{user.pk}" in page


def test_admin_lists_domain_events(verified_staff_client):
    domain_event_record(aggregate_type="course", aggregate_id=uuid.uuid4(), event_type="x.y")
    response = verified_staff_client.get("/admin/audit/domainevententry/")
    assert response.status_code == 200
    assert "x.y" in response.content.decode()


# API -------------------------------------------------------------------------------------------


def test_api_events_for_an_object(api_client, staff_user):
    user = UserFactory(first_name="A")
    user.first_name = "B"
    user.save()
    api_client.force_authenticate(staff_user)
    body = api_client.get(
        "/api/v1/audit/events/", {"model": "accounts.User", "object_id": str(user.pk)}
    ).json()
    assert [r["label"] for r in body["results"]] == ["insert", "update"]
    assert body["results"][1]["diff"]["first_name"] == ["A", "B"]


def test_api_domain_events_by_aggregate_and_correlation(api_client, staff_user):
    aggregate = uuid.uuid4()
    correlation = uuid.uuid4()
    for _ in range(2):
        domain_event_record(
            aggregate_type="course",
            aggregate_id=aggregate,
            event_type="e",
            correlation_id=correlation,
        )
    api_client.force_authenticate(staff_user)
    by_aggregate = api_client.get(
        "/api/v1/audit/domain-events/", {"aggregate_type": "course", "aggregate_id": aggregate}
    ).json()
    assert [r["version"] for r in by_aggregate["results"]] == [1, 2]
    by_correlation = api_client.get(
        "/api/v1/audit/domain-events/", {"correlation_id": correlation}
    ).json()
    # Cursor pagination (ADR 0018): no count, follow `next`.
    assert len(by_correlation["results"]) == 2
    assert by_correlation["next"] is None


def test_api_is_for_staff_only(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.get("/api/v1/audit/domain-events/", {"actor": str(user.pk)})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/audit/events/", {"model": "nope.Nope", "object_id": "1"}, "model"),
        ("/api/v1/audit/events/", {"model": "accounts.User"}, "non_field_errors"),
        ("/api/v1/audit/events/", {}, "non_field_errors"),
        ("/api/v1/audit/domain-events/", {}, "non_field_errors"),
        ("/api/v1/audit/domain-events/", {"aggregate_id": "not-a-uuid"}, "aggregate_id"),
    ],
)
def test_api_bad_filters_are_400s(api_client, staff_user, path, params, field):
    api_client.force_authenticate(staff_user)
    response = api_client.get(path, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], json.dumps(response.json())


def test_history_link_opens_the_objects_events(verified_staff_client):
    user = UserFactory(first_name="Hist")
    user.first_name = "Tory"
    user.save()
    response = verified_staff_client.get(
        "/admin/audit/auditevent/", {"method": "tracks", "obj": f"accounts.User:{user.pk}"}
    )
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2


@pytest.mark.django_db(transaction=True)
def test_a_courses_state_as_of_a_past_time_matches_what_it_was():
    from apps.content.models import Course
    from tests.content.factories import CourseFactory

    course = CourseFactory(title="First title", max_enrollments=10)
    first = object_history(obj=course).last().pgh_created_at
    course.title = "Second title"
    course.max_enrollments = 20
    course.save()
    second = object_history(obj=course).last().pgh_created_at
    then = object_as_of(model=Course, pk=course.pk, at=first)
    now = object_as_of(model=Course, pk=course.pk, at=second)
    assert (then.title, then.max_enrollments) == ("First title", 10)
    assert (now.title, now.max_enrollments) == ("Second title", 20)
