"""Endpoints that fail on purpose, mounted over the real URLconf for the error-body tests."""

from django.core.exceptions import PermissionDenied
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apps.accounts.models import User
from apps.core.exceptions import ConflictError


class _Open(APIView):
    permission_classes = [AllowAny]


class Validates(_Open):
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=5)
        count = serializers.IntegerField(min_value=0)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Forbids(_Open):
    def get(self, request):
        raise PermissionDenied


class Conflicts(_Open):
    def post(self, request):
        raise ConflictError("The course is full.", code="course_full")


class Crashes(_Open):
    def get(self, request):
        raise RuntimeError("boom")


class OncePerMinute(AnonRateThrottle):
    rate = "1/minute"
    scope = "test-once"


class Throttled(_Open):
    throttle_classes = [OncePerMinute]

    def get(self, request):
        return Response({"ok": True})


class Users(generics.ListAPIView):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = ["id", "email"]

    serializer_class = OutputSerializer
    queryset = User.objects.order_by("email")
    filterset_fields = ["is_staff"]


test_patterns = [
    path("validates/", Validates.as_view()),
    path("forbids/", Forbids.as_view()),
    path("conflicts/", Conflicts.as_view()),
    path("crashes/", Crashes.as_view()),
    path("throttled/", Throttled.as_view()),
    path("users/", Users.as_view()),
]

urlpatterns = [
    path("api/v1/test/", include(test_patterns)),
    path("", include("config.urls")),
]

handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
