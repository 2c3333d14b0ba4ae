"""The lesson unlock condition language, evaluated by one function for pages and the API.

A lesson's `unlock_conditions` is a list of conditions that must all hold:

- `{"type": "after_lesson", "lesson": "<lesson id>"}`: that lesson is completed;
- `{"type": "after_date", "date": "YYYY-MM-DD"}`: from that day on (UTC);
- `{"type": "min_score", "quiz": "<quiz id>", "score": 80}`: best score on that quiz >= 80.

Progress (issue 5) supplies what a learner has done through `LearnerProgress`; without it only
date conditions can hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from django.utils import timezone


@dataclass(frozen=True)
class LearnerProgress:
    completed_lesson_ids: frozenset[UUID] = frozenset()
    best_quiz_scores: Mapping[UUID, float] = field(default_factory=dict)


NO_PROGRESS = LearnerProgress()


@dataclass(frozen=True)
class UnlockState:
    unlocked: bool
    unmet: tuple[str, ...]


def unlock_state(
    conditions: list[dict],
    *,
    progress: LearnerProgress = NO_PROGRESS,
    titles: Mapping[UUID, str] | None = None,
    now: dt.datetime | None = None,
) -> UnlockState:
    """Whether every condition holds for `progress`, and a sentence for each one that does not.

    `titles` names lessons and quizzes in the sentences (ids are shown otherwise).
    """
    titles = titles or {}
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    unmet: list[str] = []
    for condition in conditions:
        kind = condition.get("type")
        if kind == "after_lesson":
            lesson = UUID(condition["lesson"])
            if lesson not in progress.completed_lesson_ids:
                unmet.append(f"Complete “{titles.get(lesson, lesson)}” first.")
        elif kind == "after_date":
            day = dt.date.fromisoformat(condition["date"])
            if today < day:
                unmet.append(f"Opens on {day:%Y-%m-%d}.")
        elif kind == "min_score":
            quiz = UUID(condition["quiz"])
            best = progress.best_quiz_scores.get(quiz)
            if best is None or best < condition["score"]:
                unmet.append(f"Score at least {condition['score']} on “{titles.get(quiz, quiz)}”.")
    return UnlockState(unlocked=not unmet, unmet=tuple(unmet))
