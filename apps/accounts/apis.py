"""Account endpoints of the REST API: the current user and their preferences."""

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.models import THEMES
from apps.accounts.selectors import preferences_for
from apps.accounts.validators import (
    NOTIFICATION_KEYS,
    validate_e164_phone,
    validate_notifications,
    validate_timezone,
)


def _django_validator(validator):
    def run(value):
        try:
            validator(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    return run


class MeApi(APIView):
    """The authenticated user: read, and change their own profile fields."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        username = serializers.CharField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        phone = serializers.CharField()
        date_of_birth = serializers.DateField(allow_null=True)
        is_email_verified = serializers.BooleanField()
        is_staff = serializers.BooleanField()

    class InputSerializer(serializers.Serializer):
        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150, required=False)
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        phone = serializers.CharField(
            max_length=16,
            required=False,
            allow_blank=True,
            validators=[_django_validator(validate_e164_phone)],
        )
        date_of_birth = serializers.DateField(required=False, allow_null=True)

    @extend_schema(responses=OutputSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer, operation_id="me_update")
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **serializer.validated_data)
        return Response(self.OutputSerializer(user).data)


class PreferencesApi(APIView):
    """The authenticated user's preferences."""

    class OutputSerializer(serializers.Serializer):
        theme = serializers.ChoiceField(choices=THEMES)
        language = serializers.CharField()
        timezone = serializers.CharField()
        notifications = serializers.DictField(
            child=serializers.BooleanField(),
            source="effective_notifications",
            help_text="Keys: " + ", ".join(NOTIFICATION_KEYS),
        )

    class InputSerializer(serializers.Serializer):
        theme = serializers.ChoiceField(choices=THEMES, required=False)
        language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
        timezone = serializers.CharField(
            max_length=64, required=False, validators=[_django_validator(validate_timezone)]
        )
        notifications = serializers.JSONField(
            required=False, validators=[_django_validator(validate_notifications)]
        )

    @extend_schema(responses=OutputSerializer, operation_id="preferences_retrieve")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(preferences_for(user=request.user)).data)

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, operation_id="preferences_update"
    )
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "notifications" in changes:
            current = preferences_for(user=request.user).notifications
            changes["notifications"] = {**current, **changes["notifications"]}
        preferences = services.preferences_update(user=request.user, **changes)
        return Response(self.OutputSerializer(preferences).data)
