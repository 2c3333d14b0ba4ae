"""Automatic grading of quiz answers against the content's quiz definition."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from apps.core.exceptions import DomainError


@dataclass(frozen=True)
class Graded:
    results: dict
    score: Decimal
    max_score: Decimal
    percent: Decimal
    passed: bool


def _correct(question: dict, answer) -> bool:
    kind = question["type"]
    if kind == "single_choice":
        right = [c["id"] for c in question["choices"] if c.get("correct")]
        return isinstance(answer, str) and [answer] == right
    if kind == "multiple_choice":
        right = {c["id"] for c in question["choices"] if c.get("correct")}
        return isinstance(answer, list) and set(map(str, answer)) == right
    if kind == "true_false":
        return isinstance(answer, bool) and answer == question["answer"]
    if kind == "short_answer":
        if not isinstance(answer, str):
            return False
        given = answer.strip()
        accepted = [a.strip() for a in question["accepted_answers"]]
        if question.get("case_sensitive"):
            return given in accepted
        return given.casefold() in {a.casefold() for a in accepted}
    return False


def grade_quiz(configuration: dict, answers: dict) -> Graded:
    """Score `answers` (question id -> answer); unanswered questions score 0.

    Raises DomainError naming answers to questions the quiz does not have.
    """
    questions = {q["id"]: q for q in configuration.get("questions", [])}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise DomainError(
            "These are not questions of this quiz: " + ", ".join(unknown) + ".",
            code="unknown_questions",
            fields={"answers": [f"Unknown question {qid}." for qid in unknown]},
        )
    results = {}
    score = Decimal(0)
    max_score = Decimal(0)
    for qid, question in questions.items():
        points = Decimal(str(question["points"]))
        max_score += points
        correct = qid in answers and _correct(question, answers[qid])
        earned = points if correct else Decimal(0)
        score += earned
        results[qid] = {"correct": correct, "points": str(earned)}
    percent = (
        (score * 100 / max_score).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if max_score
        else Decimal(0)
    )
    pass_score = Decimal(str(configuration.get("pass_score", settings.QUIZ_DEFAULT_PASS_SCORE)))
    return Graded(results, score, max_score, percent, percent >= pass_score)
