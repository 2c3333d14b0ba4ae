"""JSON Schemas of the typed JSON columns, and the semantic checks a schema cannot express.

Forms, serializers and services call `*_errors()` for field-level messages; the database
triggers in `models.py` re-check the same shapes when the application is bypassed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

QUESTION_TYPES = ("single_choice", "multiple_choice", "true_false", "short_answer")
CONTENT_TYPES = ("quiz", "video_interactive", "simulation")
IDENT_PATTERN = "^[A-Za-z0-9_-]{1,40}$"
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

_QUESTION = {
    "type": "object",
    "required": ["id", "type", "prompt", "points"],
    "properties": {
        "id": {"type": "string", "pattern": IDENT_PATTERN},
        "type": {"enum": list(QUESTION_TYPES)},
        "prompt": {"type": "string", "minLength": 1},
        "points": {"type": "number", "exclusiveMinimum": 0},
        "explanation": {"type": "string"},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "text"],
                "properties": {
                    "id": {"type": "string", "pattern": IDENT_PATTERN},
                    "text": {"type": "string", "minLength": 1},
                    "correct": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
        },
        "answer": {"type": "boolean"},
        "accepted_answers": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1},
        },
        "case_sensitive": {"type": "boolean"},
    },
    "additionalProperties": False,
    "allOf": [
        {
            "if": {"properties": {"type": {"enum": ["single_choice", "multiple_choice"]}}},
            "then": {"required": ["choices"], "properties": {"choices": {"minItems": 2}}},
        },
        {
            "if": {"properties": {"type": {"const": "true_false"}}},
            "then": {"required": ["answer"]},
        },
        {
            "if": {"properties": {"type": {"const": "short_answer"}}},
            "then": {"required": ["accepted_answers"]},
        },
    ],
}

CONFIGURATION_SCHEMAS: dict[str, dict] = {
    "quiz": {
        "type": "object",
        "required": ["questions"],
        "properties": {
            "questions": {"type": "array", "minItems": 1, "items": _QUESTION},
            "pass_score": {"type": "number", "minimum": 0, "maximum": 100},
            "shuffle": {"type": "boolean"},
            "time_limit_minutes": {"type": "integer", "minimum": 1},
        },
        "additionalProperties": False,
    },
    "video_interactive": {
        "type": "object",
        "required": ["video_url", "interactions"],
        "properties": {
            "video_url": {"type": "string", "pattern": "^https?://"},
            "interactions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at_seconds", "kind", "text"],
                    "properties": {
                        "at_seconds": {"type": "number", "minimum": 0},
                        "kind": {"enum": ["note", "question", "pause"]},
                        "text": {"type": "string", "minLength": 1},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
    "simulation": {
        "type": "object",
        "required": ["simulation_config", "parameters"],
        "properties": {
            "simulation_config": {"type": "object"},
            "parameters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "type"],
                    "properties": {
                        "name": {"type": "string", "pattern": IDENT_PATTERN},
                        "type": {"enum": ["number", "integer", "boolean", "choice"]},
                        "default": {},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "options": {"type": "array"},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": False,
    },
}

UNLOCK_CONDITIONS_SCHEMA = {
    "type": "array",
    "maxItems": 10,
    "items": {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": ["after_lesson", "after_date", "min_score"]}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": "after_lesson"}}},
                "then": {
                    "properties": {
                        "type": {},
                        "lesson": {"type": "string", "pattern": UUID_PATTERN},
                    },
                    "required": ["lesson"],
                    "additionalProperties": False,
                },
            },
            {
                "if": {"properties": {"type": {"const": "after_date"}}},
                "then": {
                    "properties": {"type": {}, "date": {"type": "string", "pattern": DATE_PATTERN}},
                    "required": ["date"],
                    "additionalProperties": False,
                },
            },
            {
                "if": {"properties": {"type": {"const": "min_score"}}},
                "then": {
                    "properties": {
                        "type": {},
                        "quiz": {"type": "string", "pattern": UUID_PATTERN},
                        "score": {"type": "number", "minimum": 0, "maximum": 100},
                    },
                    "required": ["quiz", "score"],
                    "additionalProperties": False,
                },
            },
        ],
    },
}

LESSON_DATA_SCHEMA = {
    "type": "object",
    "properties": {
        "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 600},
        "difficulty": {"enum": ["easy", "medium", "hard"]},
        "standards": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "differentiation": {"type": "string"},
        "homework": {"type": "string"},
    },
    "additionalProperties": False,
}

STRING_LIST_SCHEMA = {"type": "array", "items": {"type": "string", "minLength": 1}}

ACTIVITIES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "minutes": {"type": "integer", "minimum": 0},
            "description": {"type": "string"},
        },
        "additionalProperties": False,
    },
}


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_errors(schema: dict, value: Any) -> list[str]:
    """Human messages for every place `value` breaks `schema`, each prefixed by its JSON path."""
    validator = Draft202012Validator(schema)
    messages = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path))):
        where = _path(error.absolute_path)
        messages.append(f"{where}: {error.message}" if where else error.message)
    return messages[:20]


def _quiz_semantic_errors(configuration: dict) -> list[str]:
    messages = []
    seen: set[str] = set()
    for index, question in enumerate(configuration.get("questions", [])):
        where = f"questions[{index}]"
        if question["id"] in seen:
            messages.append(f"{where}.id: question id {question['id']!r} is used twice.")
        seen.add(question["id"])
        correct = [c for c in question.get("choices", []) if c.get("correct")]
        if question["type"] == "single_choice" and len(correct) != 1:
            messages.append(f"{where}.choices: a single-choice question needs exactly one answer.")
        if question["type"] == "multiple_choice" and not correct:
            messages.append(f"{where}.choices: mark at least one choice as correct.")
    return messages


def configuration_errors(content_type: str, configuration: Any) -> list[str]:
    """Everything wrong with an interactive content configuration of `content_type`."""
    schema = CONFIGURATION_SCHEMAS.get(content_type)
    if schema is None:
        return [f"Unknown content type {content_type!r}; use one of {', '.join(CONTENT_TYPES)}."]
    messages = schema_errors(schema, configuration)
    if not messages and content_type == "quiz":
        messages = _quiz_semantic_errors(configuration)
    return messages


def quiz_question_ids(configuration: dict) -> set[str]:
    return {
        q["id"] for q in configuration.get("questions", []) if isinstance(q, dict) and "id" in q
    }


def raise_for(field: str, messages: list[str]) -> None:
    """Turn schema messages into a ValidationError on `field` (nothing when there are none)."""
    if messages:
        raise ValidationError({field: messages})


def _validator(schema: dict):
    def validate(value: Any) -> None:
        messages = schema_errors(schema, value)
        if messages:
            raise ValidationError(messages)

    return validate


validate_unlock_conditions_shape = _validator(UNLOCK_CONDITIONS_SCHEMA)
validate_lesson_data = _validator(LESSON_DATA_SCHEMA)
validate_string_list = _validator(STRING_LIST_SCHEMA)
validate_activities = _validator(ACTIVITIES_SCHEMA)


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
