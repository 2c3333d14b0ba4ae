"""Apply a signed-in user's language and time zone to the request."""

import zoneinfo

from django.utils import timezone, translation

from apps.accounts.selectors import preferences_for


class PreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            preferences = preferences_for(user=user)
            request.preferences = preferences
            timezone.activate(zoneinfo.ZoneInfo(preferences.timezone))
            translation.activate(preferences.language)
            request.LANGUAGE_CODE = preferences.language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
