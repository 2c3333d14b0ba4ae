"""Assistant profiles and capabilities, per-user memories, conversations and the usage register.

Tables live in the `assistants` PostgreSQL schema (db_table = 'assistants"."<table>'). The
database guards the ranges the services check (docs/adr/0010-assistants.md): model parameters,
importance/confidence, non-empty texts, JSON shapes; memory search columns are kept by triggers.
Memory texts and chat messages are personal data: they stay out of the audit trail, so that
forgetting and retirement really remove them.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Length, Trim

from apps.core.fields import EncryptedTextField
from apps.core.models import TimeStampedModel, UUIDModel

NAME_REGEX = r"^[a-z][a-z0-9_]*$"


def _json_type(field: str, json_type: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.lookups.Exact(
            models.Func(field, function="jsonb_typeof", output_field=models.TextField()),
            json_type,
        ),
        name=name,
    )


def _not_blank(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.lookups.GreaterThan(Length(Trim(field)), 0), name=name
    )


def _between(field: str, low: float, high: float, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": low, f"{field}__lte": high}), name=name
    )


# -- profiles and capabilities ------------------------------------------------------------


class ProviderName(models.TextChoices):
    DEFAULT = "", "Site default (ASSISTANT_PROVIDER)"
    OFFLINE = "offline", "Built-in offline provider"
    OPENAI = "openai", "OpenAI-compatible HTTP API"


class LiveProfileManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(is_active=True)


@pghistory.track(
    # The provider key is encrypted (ADR 0016) and never enters the trail, not even sealed.
    exclude=["api_key"],
    meta={"db_table": 'audit"."assistants_profile_event'},
)
class AssistantProfile(UUIDModel, TimeStampedModel):
    """An assistant people can talk to: its model, sampling parameters and subjects."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    model_version = models.CharField(
        max_length=50, help_text="Model name sent to the provider, e.g. gpt-4o-mini."
    )
    provider = models.CharField(
        max_length=10, choices=ProviderName.choices, default=ProviderName.DEFAULT, blank=True
    )
    configuration = models.JSONField(
        default=dict,
        blank=True,
        help_text='Provider options, e.g. {"base_url": "...", "system_prompt": "..."}. '
        "API keys never go here: use the API key field.",
    )
    api_key = EncryptedTextField(
        "provider API key",
        blank=True,
        default="",
        db_default="",
        help_text="Encrypted at rest; blank uses the site's key (ASSISTANT_OPENAI_API_KEY).",
    )
    is_active = models.BooleanField(default=True)
    max_context_length = models.PositiveIntegerField(default=4096)
    temperature = models.FloatField(default=0.7, help_text="0 to 2.")
    top_p = models.FloatField(default=1.0, help_text="0 to 1.")
    frequency_penalty = models.FloatField(default=0.0, help_text="-2 to 2.")
    presence_penalty = models.FloatField(default=0.0, help_text="-2 to 2.")
    stop_sequences = ArrayField(models.CharField(max_length=50), default=list, blank=True, size=4)
    categories = models.ManyToManyField(
        "content.Category",
        blank=True,
        related_name="assistant_profiles",
        db_table='assistants"."profile_category',
    )
    metadata = models.JSONField(default=dict, blank=True)

    objects = models.Manager()
    active = LiveProfileManager()

    class Meta(TimeStampedModel.Meta):
        db_table = 'assistants"."profile'
        ordering = ("name",)
        indexes = [
            models.Index(fields=["name"], condition=models.Q(is_active=True), name="profile_active")
        ]
        constraints = [
            _not_blank("name", "profile_name_not_blank"),
            _not_blank("model_version", "profile_model_version_not_blank"),
            _between("temperature", 0, 2, "profile_temperature_range"),
            _between("top_p", 0, 1, "profile_top_p_range"),
            _between("frequency_penalty", -2, 2, "profile_frequency_penalty_range"),
            _between("presence_penalty", -2, 2, "profile_presence_penalty_range"),
            models.CheckConstraint(
                condition=models.Q(max_context_length__gte=256, max_context_length__lte=2_000_000),
                name="profile_max_context_length_range",
            ),
            models.CheckConstraint(
                condition=models.Q(provider__in=ProviderName.values), name="profile_provider_valid"
            ),
            _json_type("configuration", "object", "profile_configuration_object"),
            models.CheckConstraint(
                condition=models.Q(api_key__sealed=True), name="profile_api_key_encrypted"
            ),
            _json_type("metadata", "object", "profile_metadata_object"),
        ]

    def __str__(self) -> str:
        return self.name


class CapabilityName(models.TextChoices):
    """Capabilities the services act on; others may be stored for providers to read."""

    MEMORY = "memory", "Remembers what people tell it"
    LESSON_PLANNING = "lesson_planning", "Drafts lesson plans"
    QUIZ_GENERATION = "quiz_generation", "Generates quiz questions"
    FEEDBACK = "feedback", "Gives feedback on answers"
    RECOMMENDATION = "recommendation", "Recommends lessons and courses"


@pghistory.track(meta={"db_table": 'audit"."assistants_capability_event'})
class AssistantCapability(UUIDModel, TimeStampedModel):
    profile = models.ForeignKey(
        AssistantProfile, on_delete=models.CASCADE, related_name="capabilities"
    )
    name = models.CharField(
        max_length=50,
        help_text="Lower-case identifier: " + ", ".join(CapabilityName.values) + ", or your own.",
    )
    description = models.TextField(blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher runs first.")
    version = models.CharField(max_length=20, default="1.0")

    class Meta(TimeStampedModel.Meta):
        db_table = 'assistants"."capability'
        verbose_name_plural = "capabilities"
        ordering = ("profile", "-priority", "name")
        constraints = [
            models.UniqueConstraint(fields=("profile", "name"), name="capability_name_unique"),
            models.CheckConstraint(
                condition=models.Q(name__regex=NAME_REGEX), name="capability_name_format"
            ),
            _json_type("parameters", "object", "capability_parameters_object"),
        ]

    def __str__(self) -> str:
        return self.name


# -- memories -----------------------------------------------------------------------------


class MemorySource(models.TextChoices):
    USER = "user", "Written by the person"
    CONVERSATION = "conversation", "Asked for in a conversation (“remember that …”)"
    PROVIDER = "provider", "Proposed by the model"
    STAFF = "staff", "Entered by staff"
    DEMO = "demo", "Demo data"


# Weighted search vector: the memory text (A), its tags (B) and category (C).
MEMORY_SEARCH_SQL = """
NEW.search_vector :=
    setweight(to_tsvector('english'::regconfig, coalesce(NEW.content, '')), 'A')
    || setweight(to_tsvector('english'::regconfig,
                 array_to_string(coalesce(NEW.tags, '{}'::text[]), ' ')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(NEW.category, '')), 'C');
RETURN NEW;
"""

MEMORY_TRACKED_EXCLUDE = ["content", "context", "search_vector", "last_accessed_at"]


@pghistory.track(
    pghistory.InsertEvent(),
    # Recall touches last_accessed_at on every use: that is not a change worth a trail row.
    pghistory.UpdateEvent(
        condition=pghistory.AnyChange(exclude=MEMORY_TRACKED_EXCLUDE, exclude_auto=True)
    ),
    pghistory.DeleteEvent(),
    # The text is personal data: the trail records that a memory changed, not what it says.
    exclude=MEMORY_TRACKED_EXCLUDE,
    meta={"db_table": 'audit"."assistants_memory_event'},
)
class UserMemory(UUIDModel, TimeStampedModel):
    """Something an assistant remembers about one person (the Faraday `user_memories`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistant_memories"
    )
    profile = models.ForeignKey(AssistantProfile, on_delete=models.PROTECT, related_name="memories")
    content = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    importance = models.FloatField(default=0.5, help_text="0 to 1.")
    confidence = models.FloatField(default=1.0, help_text="0 to 1.")
    category = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    source = models.CharField(max_length=12, choices=MemorySource.choices, default="user")
    version = models.PositiveIntegerField(default=1, editable=False)
    last_accessed_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta(TimeStampedModel.Meta):
        db_table = 'assistants"."memory'
        verbose_name = "user memory"
        verbose_name_plural = "user memories"
        ordering = ("-updated_at",)
        indexes = [
            models.Index(
                fields=["user", "profile"],
                condition=models.Q(forgotten_at__isnull=True),
                name="memory_live_by_owner",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expires_at__isnull=False),
                name="memory_expires",
            ),
            models.Index(
                fields=["forgotten_at"],
                condition=models.Q(forgotten_at__isnull=False),
                name="memory_forgotten",
            ),
            GinIndex(fields=["search_vector"], name="memory_search_vector"),
            GinIndex(fields=["content"], opclasses=["gin_trgm_ops"], name="memory_content_trgm"),
        ]
        constraints = [
            _not_blank("content", "memory_content_not_blank"),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(Length("content"), 2000),
                name="memory_content_length",
            ),
            _between("importance", 0, 1, "memory_importance_range"),
            _between("confidence", 0, 1, "memory_confidence_range"),
            models.CheckConstraint(
                condition=models.Q(source__in=MemorySource.values), name="memory_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="memory_version_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True)
                | models.Q(expires_at__gt=models.F("created_at")),
                name="memory_expires_after_creation",
            ),
            _json_type("context", "object", "memory_context_object"),
        ]
        triggers = [
            # Like TimeStampedModel's, but recall's last_accessed_at touch is not an update.
            pgtrigger.Trigger(
                name="set_updated_at",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.AnyChange(exclude=["last_accessed_at", "updated_at"]),
                func="NEW.updated_at = now(); RETURN NEW;",
            ),
            pgtrigger.Trigger(
                name="memory_search_vector_insert",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                func=MEMORY_SEARCH_SQL,
            ),
            # Only when the searched text changes: recall's touches stay cheap.
            pgtrigger.Trigger(
                name="memory_search_vector_update",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.AnyChange("content", "tags", "category"),
                func=MEMORY_SEARCH_SQL,
            ),
        ]

    def __str__(self) -> str:
        return self.content[:60]

    @property
    def is_forgotten(self) -> bool:
        return self.forgotten_at is not None


@pghistory.track(meta={"db_table": 'audit"."assistants_memory_preference_event'})
class MemoryPreference(TimeStampedModel):
    """A person's choice about memory. No row means memory is on (the default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="assistant_memory_preference",
    )
    memory_enabled = models.BooleanField(
        default=True, help_text="Off: assistants neither store nor recall memories."
    )

    class Meta(TimeStampedModel.Meta):
        db_table = 'assistants"."memory_preference'

    def __str__(self) -> str:
        return f"{self.user_id}: memory {'on' if self.memory_enabled else 'off'}"


class InteractionType(models.TextChoices):
    RECALL = "recall", "Recall"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    FEEDBACK = "feedback", "Feedback"
    FORGET = "forget", "Forget"
    EXPIRE = "expire", "Expire (removed by the expiry task)"


class MemoryInteraction(models.Model):
    """One use of a memory (high volume, append-only; trimmed after a retention period).

    A recall writes one row per memory returned (or one row without a memory when nothing
    matched). Rows outlive their memory: deleting it sets `memory` to NULL, `context` keeps the id.
    """

    id = models.BigAutoField(primary_key=True)
    memory = models.ForeignKey(
        UserMemory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    interaction_type = models.CharField(max_length=10, choices=InteractionType.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    context = models.JSONField(default=dict, blank=True)
    feedback = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    success = models.BooleanField(default=True)
    error_message = models.TextField(blank=True)

    class Meta:
        db_table = 'assistants"."memory_interaction'
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="interaction_user_time"),
            models.Index(fields=["created_at"], name="interaction_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interaction_type__in=InteractionType.values),
                name="interaction_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(success=True) | ~models.Q(error_message=""),
                name="interaction_failure_has_error",
            ),
            _json_type("context", "object", "interaction_context_object"),
            _json_type("feedback", "object", "interaction_feedback_object"),
        ]

    def __str__(self) -> str:
        return f"{self.interaction_type} {self.memory_id or '-'} @ {self.created_at:%Y-%m-%d %H:%M}"


# -- conversations ------------------------------------------------------------------------


@pghistory.track(
    exclude=["title", "last_error"],
    meta={"db_table": 'audit"."assistants_conversation_event'},
)
class Conversation(UUIDModel, TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assistant_conversations"
    )
    profile = models.ForeignKey(
        AssistantProfile, on_delete=models.PROTECT, related_name="conversations"
    )
    title = models.CharField(max_length=120)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True, help_text="The last failed turn, for the person.")
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        db_table = 'assistants"."conversation'
        ordering = ("-updated_at",)
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_recent")]
        constraints = [
            _not_blank("title", "conversation_title_not_blank"),
            models.CheckConstraint(
                condition=models.Q(last_error_code="") | models.Q(last_error_at__isnull=False),
                name="conversation_error_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MessageRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    SYSTEM = "system", "System"


class Message(models.Model):
    """One message of a conversation (append-only). A user message whose turn failed carries
    the error; the failed turn has no assistant message."""

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    content = models.TextField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = 'assistants"."message'
        ordering = ("conversation", "id")
        indexes = [models.Index(fields=["conversation", "id"], name="message_conversation")]
        constraints = [
            _not_blank("content", "message_content_not_blank"),
            models.CheckConstraint(
                condition=models.Q(role__in=MessageRole.values), name="message_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(error_code="") | models.Q(role="user"),
                name="message_error_on_user_turn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class UsageRecord(models.Model):
    """One provider call (the usage register): who, which assistant, tokens, time, outcome.

    Survives retirement without the person (user set to NULL) so totals stay right.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile = models.ForeignKey(AssistantProfile, on_delete=models.PROTECT, related_name="usage")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage"
    )
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    operation = models.CharField(max_length=20, default="chat")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    success = models.BooleanField()
    error_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = 'assistants"."usage_record'
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(success=True, error_code="")
                | models.Q(success=False) & ~models.Q(error_code=""),
                name="usage_error_iff_failed",
            ),
            models.CheckConstraint(
                condition=models.Q(attempts__gte=1), name="usage_attempts_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
