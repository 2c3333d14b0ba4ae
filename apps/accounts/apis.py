"""Account endpoints of the REST API."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    """The authenticated user."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        username = serializers.CharField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        is_staff = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)
