"""Assistant endpoints of the REST API (/api/v1/assistants/): the assistants, a chat turn,
the person's own memories, recall, recommendations."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.assistants import selectors
from apps.assistants.services import chat, memories
from apps.core.api.conditional import ConditionalGetMixin
from apps.core.api.exceptions import error_body
from apps.core.api.pagination import PageNumberPagination
from apps.core.api.schema import ErrorSerializer


class CapabilitySerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    priority = serializers.IntegerField()


class AssistantListApi(APIView):
    """Active assistants, with their enabled capabilities and subjects."""

    scope_resource = "assistants"

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        name = serializers.CharField()
        description = serializers.CharField()
        model_version = serializers.CharField()
        capabilities = CapabilitySerializer(many=True, source="enabled_capabilities")
        categories = serializers.SerializerMethodField()

        def get_categories(self, profile) -> list[str]:
            return [category.name for category in profile.categories.all()]

    @extend_schema(responses=OutputSerializer(many=True), operation_id="assistants_list")
    def get(self, request: Request) -> Response:
        profiles = selectors.profile_list()
        return Response(self.OutputSerializer(profiles, many=True).data)


class ChatApi(APIView):
    """One chat turn. A provider failure answers 502 with the error (recorded on the
    conversation); the person's message is kept."""

    scope_resource = "assistants"

    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(max_length=chat.MAX_MESSAGE, trim_whitespace=True)
        conversation = serializers.UUIDField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        conversation = serializers.UUIDField(source="conversation.id")
        reply = serializers.CharField(source="reply.content")
        prompt_tokens = serializers.IntegerField(source="reply.prompt_tokens")
        completion_tokens = serializers.IntegerField(source="reply.completion_tokens")
        memories_created = serializers.SerializerMethodField()

        def get_memories_created(self, result) -> list[str]:
            return [memory.content for memory in result.memories]

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 502: ErrorSerializer},
        operation_id="assistant_chat",
    )
    def post(self, request: Request, profile_id) -> Response:
        profile = selectors.profile_get(profile_id=profile_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = None
        if serializer.validated_data.get("conversation"):
            conversation = selectors.conversation_get(
                user=request.user, conversation_id=serializer.validated_data["conversation"]
            )
        result = chat.chat_turn(
            user=request.user,
            profile=profile,
            text=serializer.validated_data["message"],
            conversation=conversation,
        )
        if not result.ok:
            body = error_body(
                f"provider_{result.error_code}",
                result.error,
                {"conversation": [str(result.conversation.pk)]},
            )
            return Response(body, status=status.HTTP_502_BAD_GATEWAY)
        return Response(self.OutputSerializer(result).data)


class MemoryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    assistant = serializers.UUIDField(source="profile_id")
    content = serializers.CharField()
    importance = serializers.FloatField()
    confidence = serializers.FloatField()
    category = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    version = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_accessed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class _MemoryFields(serializers.Serializer):
    content = serializers.CharField(max_length=memories.MAX_CONTENT)
    importance = serializers.FloatField(min_value=0, max_value=1, required=False)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=memories.MAX_TAGS, required=False
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class MemoryListApi(APIView):
    """The person's own live memories (filter with ?assistant=<id>); add one."""

    scope_resource = "memories"
    pagination_class = PageNumberPagination

    class InputSerializer(_MemoryFields):
        assistant = serializers.UUIDField()

    @extend_schema(responses=MemoryOutputSerializer(many=True), operation_id="memories_list")
    def get(self, request: Request) -> Response:
        queryset = selectors.memory_list(user=request.user)
        assistant = request.query_params.get("assistant")
        if assistant:
            try:
                queryset = queryset.filter(profile_id=uuid.UUID(assistant))
            except ValueError as error:
                raise serializers.ValidationError(
                    {"assistant": ["Not an assistant id."]}
                ) from error
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(MemoryOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: MemoryOutputSerializer},
        operation_id="memories_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        profile = selectors.profile_get(profile_id=data.pop("assistant"))
        memory = memories.memory_create(user=request.user, profile=profile, **data)
        return Response(MemoryOutputSerializer(memory).data, status=status.HTTP_201_CREATED)


class MemoryDetailApi(ConditionalGetMixin, APIView):
    """One of the person's memories: read, change, forget (DELETE)."""

    scope_resource = "memories"

    class InputSerializer(_MemoryFields):
        pass

    @extend_schema(responses=MemoryOutputSerializer, operation_id="memories_retrieve")
    def get(self, request: Request, memory_id) -> Response:
        memory = selectors.memory_get(user=request.user, memory_id=memory_id)
        return Response(MemoryOutputSerializer(memory).data)

    @extend_schema(
        request=InputSerializer, responses=MemoryOutputSerializer, operation_id="memories_update"
    )
    def patch(self, request: Request, memory_id) -> Response:
        memory = selectors.memory_get(user=request.user, memory_id=memory_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        memory = memories.memory_update(
            actor=request.user, memory=memory, **serializer.validated_data
        )
        return Response(MemoryOutputSerializer(memory).data)

    @extend_schema(responses={204: None}, operation_id="memories_forget")
    def delete(self, request: Request, memory_id) -> Response:
        memory = selectors.memory_get(user=request.user, memory_id=memory_id)
        memories.memory_forget(actor=request.user, memory=memory)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecallApi(APIView):
    """The person's memories with an assistant that best fit a query, with their score."""

    # Recall reads memories (POST only to carry the query).
    required_scopes = {"memories:read"}

    class InputSerializer(serializers.Serializer):
        query = serializers.CharField(max_length=1000, allow_blank=True)
        limit = serializers.IntegerField(
            min_value=1, max_value=memories.RECALL_MAX_LIMIT, required=False
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        content = serializers.CharField()
        category = serializers.CharField()
        importance = serializers.FloatField()
        confidence = serializers.FloatField()
        score = serializers.FloatField()

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer(many=True),
        operation_id="assistant_recall",
    )
    def post(self, request: Request, profile_id) -> Response:
        profile = selectors.profile_get(profile_id=profile_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recalled = memories.memory_recall(
            user=request.user,
            profile=profile,
            query=serializer.validated_data["query"],
            limit=serializer.validated_data.get("limit"),
        )
        return Response(self.OutputSerializer(recalled, many=True).data)


class RecommendationsApi(APIView):
    """Courses to take next, each with the reason (from memories and assistants' subjects)."""

    scope_resource = "assistants"

    class OutputSerializer(serializers.Serializer):
        course = serializers.UUIDField(source="course.id")
        title = serializers.CharField(source="course.title")
        slug = serializers.CharField(source="course.slug")
        reason = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="assistant_recommendations")
    def get(self, request: Request) -> Response:
        found = selectors.recommendations_for(user=request.user)
        return Response(self.OutputSerializer(found, many=True).data)
