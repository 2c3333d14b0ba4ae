"""Account endpoints of the REST API: the current user and their preferences."""

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.models import THEMES
from apps.accounts.selectors import personal_access_token_list, preferences_for
from apps.accounts.validators import (
    NOTIFICATION_KEYS,
    validate_e164_phone,
    validate_notifications,
    validate_timezone,
)
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.pagination import PageNumberPagination
from apps.core.api.scopes import token_scopes
from apps.core.exceptions import NotFoundError


def _django_validator(validator):
    def run(value):
        try:
            validator(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error

    return run


class MeApi(ConditionalGetMixin, APIView):
    """The authenticated user: read, and change their own profile fields."""

    scope_resource = "users"

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


class PreferencesApi(ConditionalGetMixin, APIView):
    """The authenticated user's preferences."""

    scope_resource = "users"

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


class PersonalAccessTokenOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The token's first characters, to recognise it.")
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class PersonalAccessTokenListApi(APIView):
    """My personal access tokens; POST makes one (its plaintext is in this answer only).

    A token may create tokens only with scopes it holds itself."""

    scope_resource = "tokens"
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1)
        expires_in_days = serializers.IntegerField(
            min_value=1, max_value=settings.PERSONAL_ACCESS_TOKEN_MAX_DAYS, required=False
        )

    class CreatedSerializer(PersonalAccessTokenOutput):
        token = serializers.CharField(help_text="The token itself: shown once, store it now.")

    @extend_schema(
        responses=PersonalAccessTokenOutput(many=True), operation_id="personal_tokens_list"
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            personal_access_token_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(PersonalAccessTokenOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: CreatedSerializer},
        operation_id="personal_tokens_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plaintext = services.personal_access_token_create(
            user=request.user,
            allowed_scopes=token_scopes(request.auth) if request.auth is not None else None,
            **serializer.validated_data,
        )
        token.token = plaintext
        return Response(self.CreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class PersonalAccessTokenDetailApi(ConditionalGetMixin, APIView):
    """One of my personal access tokens; DELETE revokes it."""

    scope_resource = "tokens"

    def _mine(self, request, token_id):
        token = personal_access_token_list(user=request.user).filter(pk=token_id).first()
        if token is None:
            raise NotFoundError("No such token.")
        return token

    @extend_schema(responses=PersonalAccessTokenOutput, operation_id="personal_tokens_retrieve")
    def get(self, request: Request, token_id) -> Response:
        return Response(PersonalAccessTokenOutput(self._mine(request, token_id)).data)

    @extend_schema(responses={204: None}, operation_id="personal_tokens_revoke")
    def delete(self, request: Request, token_id) -> Response:
        services.personal_access_token_revoke(token=self._mine(request, token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
