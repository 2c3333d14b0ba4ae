"""Course versions from the pghistory events of the course, its modules and its lessons.

Every insert, update and delete of those rows is an event (written by triggers, so raw SQL
changes count too). The version list is the course's events in order, numbered from 1; the
state "as of" version n folds events 1..n, so any two versions can be compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

from apps.content.models import Course
from apps.core.exceptions import DomainError

KINDS = ("course", "module", "lesson")
LABELS = ("insert", "update", "delete")
_SKIP = {"id", "created_at", "updated_at"}


def _event_model(kind: str):
    return apps.get_model("content", f"{kind.capitalize()}Event")


def _values(event) -> dict[str, Any]:
    data = {
        f.attname: f.value_from_object(event)
        for f in event._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.attname not in _SKIP
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@dataclass
class Version:
    number: int
    at: datetime
    kind: str
    label: str
    object_id: str
    title: str
    changed_fields: list[str]
    actor_id: str | None
    values: dict[str, Any]


def course_versions(*, course: Course) -> list[Version]:
    """Every recorded change to the course, its modules and lessons, oldest first (3 queries)."""
    course_events = list(
        _event_model("course").objects.filter(pgh_obj_id=course.pk).select_related("pgh_context")
    )
    module_events = list(
        _event_model("module").objects.filter(course_id=course.pk).select_related("pgh_context")
    )
    module_ids = {e.pgh_obj_id for e in module_events}
    lesson_events = list(
        _event_model("lesson")
        .objects.filter(module_id__in=module_ids)
        .select_related("pgh_context")
    )
    tagged = [
        (kind, event)
        for kind, events in (
            ("course", course_events),
            ("module", module_events),
            ("lesson", lesson_events),
        )
        for event in events
    ]
    # Events of one transaction share a timestamp: there, inserts come before updates before
    # deletes, the course before its modules before their lessons.
    tagged.sort(
        key=lambda item: (
            item[1].pgh_created_at,
            LABELS.index(item[1].pgh_label) if item[1].pgh_label in LABELS else len(LABELS),
            KINDS.index(item[0]),
            item[1].pgh_id,
        )
    )
    previous: dict[tuple[str, Any], dict] = {}
    versions = []
    for number, (kind, event) in enumerate(tagged, start=1):
        values = _values(event)
        key = (kind, event.pgh_obj_id)
        before = previous.get(key)
        changed = (
            sorted(name for name, value in values.items() if before.get(name) != value)
            if before is not None
            else []
        )
        previous[key] = values
        context = event.pgh_context.metadata if event.pgh_context_id else {}
        versions.append(
            Version(
                number=number,
                at=event.pgh_created_at,
                kind=kind,
                label=event.pgh_label,
                object_id=str(event.pgh_obj_id),
                title=values.get("title", ""),
                changed_fields=changed,
                actor_id=(context or {}).get("user"),
                values=values,
            )
        )
    return versions


def _state(versions: list[Version], upto: int) -> dict[str, dict]:
    state: dict[str, dict] = {kind: {} for kind in KINDS}
    for version in versions[:upto]:
        if version.label == "delete":
            state[version.kind].pop(version.object_id, None)
        else:
            state[version.kind][version.object_id] = version.values
    return state


def _field_changes(old: dict, new: dict) -> dict[str, list]:
    return {
        name: [old.get(name), new.get(name)]
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    }


def course_version_diff(*, course: Course, from_version: int, to_version: int) -> dict:
    """What changed between two versions: course fields, and modules and lessons added,
    removed or changed (each changed field as [old, new]).

    Raises DomainError when a version number does not exist.
    """
    versions = course_versions(course=course)
    for name, number in (("from", from_version), ("to", to_version)):
        if not 1 <= number <= len(versions):
            raise DomainError(
                f"Version {number} does not exist; this course has {len(versions)}.",
                fields={name: [f"Choose 1 to {len(versions)}."]},
            )
    old, new = _state(versions, from_version), _state(versions, to_version)
    diff: dict[str, Any] = {
        "from": from_version,
        "to": to_version,
        "course": _field_changes(
            next(iter(old["course"].values()), {}), next(iter(new["course"].values()), {})
        ),
    }
    for kind in ("module", "lesson"):
        before, after = old[kind], new[kind]
        diff[f"{kind}s"] = {
            "added": [
                {"id": pk, "title": after[pk].get("title")} for pk in after if pk not in before
            ],
            "removed": [
                {"id": pk, "title": before[pk].get("title")} for pk in before if pk not in after
            ],
            "changed": [
                {"id": pk, "title": after[pk].get("title"), "fields": changes}
                for pk in after
                if pk in before and (changes := _field_changes(before[pk], after[pk]))
            ],
        }
    return diff
