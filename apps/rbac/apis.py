"""RBAC endpoints of the REST API."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasResourceScope
from apps.core.exceptions import NotFoundError
from apps.rbac.models import SLUG_PATTERN, ScopeType
from apps.rbac.permissions import IsStaff
from apps.rbac.selectors import ScopeTarget, permission_explain


class ExplainReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    grant_id = serializers.UUIDField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    via_role = serializers.CharField(allow_null=True)
    scope_type = serializers.CharField(allow_null=True)
    scope_id = serializers.UUIDField(allow_null=True)


class ExplainScopeSerializer(serializers.Serializer):
    scope_type = serializers.CharField()
    scope_id = serializers.UUIDField(allow_null=True)


class ExplainApi(APIView):
    """Why a user holds a permission or not (staff only)."""

    scope_resource = "rbac"

    permission_classes = (IsStaff, HasResourceScope)

    class InputSerializer(serializers.Serializer):
        user = serializers.UUIDField()
        permission = serializers.RegexField(
            SLUG_PATTERN.removesuffix("$") + r"\." + SLUG_PATTERN.removeprefix("^"),
            max_length=101,
            error_messages={"invalid": "Give a permission name such as course.edit."},
        )
        scope_type = serializers.ChoiceField(choices=ScopeType.choices, required=False)
        scope_id = serializers.UUIDField(required=False)

        def validate(self, attrs):
            scope_type = attrs.get("scope_type", ScopeType.GLOBAL)
            if (scope_type == ScopeType.GLOBAL) != (attrs.get("scope_id") is None):
                raise serializers.ValidationError(
                    {"scope_id": "Give scope_id exactly when scope_type is category or course."}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField()
        permission = serializers.CharField()
        scopes = ExplainScopeSerializer(many=True)
        allowed = serializers.BooleanField()
        reasons = ExplainReasonSerializer(many=True)
        denials = ExplainReasonSerializer(many=True)

    @extend_schema(
        parameters=[InputSerializer], responses=OutputSerializer, operation_id="rbac_explain"
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        user = get_user_model()._default_manager.filter(pk=data["user"]).first()
        if user is None:
            raise NotFoundError("No such user.", fields={"user": ["No user has this id."]})
        resource, action = data["permission"].split(".", 1)
        target = None
        if data.get("scope_id") is not None:
            target = ScopeTarget(data["scope_type"], data["scope_id"])
        explanation = permission_explain(user, action, resource, target)
        return Response(self.OutputSerializer(explanation.as_dict()).data)
