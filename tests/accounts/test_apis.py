"""The current user and their preferences over the API."""

import pytest

from apps.accounts.models import UserPreferences

pytestmark = pytest.mark.django_db

ME = "/api/v1/accounts/me/"
PREFS = "/api/v1/accounts/me/preferences/"


def test_read_and_update_me(api_client, user):
    api_client.force_authenticate(user)
    assert api_client.get(ME).json()["email"] == user.email
    response = api_client.patch(ME, {"first_name": "Zoe", "phone": "+14155550123"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.phone) == ("Zoe", "+14155550123")


def test_a_malformed_phone_is_a_400_naming_the_field_and_nothing_changes(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.patch(ME, {"first_name": "Zoe", "phone": "555-0123"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"phone"}
    user.refresh_from_db()
    assert user.first_name != "Zoe"


def test_email_cannot_be_changed_through_me(api_client, user):
    api_client.force_authenticate(user)
    api_client.patch(ME, {"email": "other@example.org"})
    user.refresh_from_db()
    assert user.email != "other@example.org"


def test_preferences_defaults_and_partial_update(api_client, user):
    api_client.force_authenticate(user)
    body = api_client.get(PREFS).json()
    assert body["theme"] == "light"
    assert body["notifications"]["marketing"] is False
    response = api_client.patch(
        PREFS, {"timezone": "Europe/Madrid", "notifications": {"marketing": True}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["notifications"]["marketing"] is True
    assert response.json()["notifications"]["course_updates"] is True
    prefs = UserPreferences.objects.get(user=user)
    assert prefs.timezone == "Europe/Madrid"
    assert prefs.notifications == {"marketing": True}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"theme": "pink"}, "theme"),
        ({"language": "xx"}, "language"),
        ({"notifications": {"marketing": "yes"}}, "notifications"),
        ({"notifications": {"spam": True}}, "notifications"),
        ({"notifications": [True]}, "notifications"),
    ],
)
def test_invalid_preferences_are_400s(api_client, user, payload, field):
    api_client.force_authenticate(user)
    response = api_client.patch(PREFS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not UserPreferences.objects.filter(user=user).exclude(timezone="UTC").exists()
