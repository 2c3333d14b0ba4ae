"""Reading the trail back: an object's history, its state as of a time, what a user did, and
domain events by aggregate or correlation."""

from datetime import UTC, datetime

import pghistory.models
from django.db import models
from django.db.models import QuerySet

from apps.audit.models import AuditEvent, DomainEvent

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
END = datetime(9999, 1, 1, tzinfo=UTC)


def object_history(*, obj: models.Model) -> QuerySet[AuditEvent]:
    """Every row-level event of `obj`, oldest first, each with its diff (`pgh_diff`, field ->
    [old, new]), snapshot (`pgh_data`) and context (who, request, task...)."""
    return AuditEvent.objects.tracks(obj).order_by("pgh_created_at", "pgh_id")


def object_as_of(*, model: type[models.Model], pk, at: datetime) -> models.Model | None:
    """The state of the `model` row `pk` as it was at `at`, rebuilt from its last snapshot then
    (an unsaved instance), or None if it did not exist then."""
    event_model = _event_model_for(model)
    last = (
        event_model.objects.filter(pgh_obj_id=pk, pgh_created_at__lte=at)
        .order_by("-pgh_created_at", "-pgh_id")
        .first()
    )
    if last is None or last.pgh_label == "delete":
        return None
    tracked = {f.attname for f in model._meta.concrete_fields}
    values = {
        f.attname: getattr(last, f.attname)
        for f in event_model._meta.concrete_fields
        if f.attname in tracked
    }
    return model(**values)


def _event_model_for(model: type[models.Model]):
    for event_model in pghistory.models.Event.__subclasses__():
        if getattr(event_model, "pgh_tracked_model", None) is model:
            return event_model
    raise LookupError(f"{model._meta.label} is not tracked by pghistory")


def user_activity(*, user_id, start: datetime, end: datetime) -> QuerySet[AuditEvent]:
    """Every row-level change made in a request of `user_id` between `start` and `end`."""
    return (
        AuditEvent.objects.filter(pgh_context__user=str(user_id))
        .filter(pgh_created_at__gte=start, pgh_created_at__lt=end)
        .order_by("pgh_created_at", "pgh_id")
    )


def domain_events(
    *,
    aggregate_type: str | None = None,
    aggregate_id=None,
    correlation_id=None,
    actor_id=None,
) -> QuerySet[DomainEvent]:
    """Domain events filtered by aggregate, correlation id or actor, in order."""
    events = DomainEvent.objects.all()
    if aggregate_type is not None:
        events = events.filter(aggregate_type=aggregate_type)
    if aggregate_id is not None:
        events = events.filter(aggregate_id=aggregate_id)
    if correlation_id is not None:
        events = events.filter(correlation_id=correlation_id)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events.order_by("occurred_at", "version", "id")


def latest_event_id(*, obj: models.Model) -> int | None:
    """The id of the newest row-level event of `obj` (its current version in the trail)."""
    event_model = _event_model_for(type(obj))
    return (
        event_model.objects.filter(pgh_obj_id=obj.pk)
        .order_by("-pgh_id")
        .values_list("pgh_id", flat=True)
        .first()
    )
