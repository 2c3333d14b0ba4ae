"""The whole gradebook as CSV (page download and analytics export): rows, chunking, statements
per chunk, and cells a spreadsheet opens as text."""

import csv
import io

import pytest

from apps.progress import selectors, services
from tests.accounts.factories import UserFactory
from tests.progress.conftest import RIGHT_ANSWERS

pytestmark = pytest.mark.django_db


def _learners(course, count):
    enrollments = []
    for number in range(count):
        user = UserFactory(
            first_name="Ann", last_name=f"Learner{number:02d}", email=f"l{number:02d}@example.org"
        )
        enrollment = services.enrollment_create(user=user, course=course)
        services.lesson_progress_record(
            enrollment=enrollment, lesson_id=course.test_lessons[number % 3].pk, percent=40
        )
        enrollments.append(enrollment)
    return enrollments


def test_rows_in_roster_order_with_progress_and_best_quiz_scores(course):
    first, _second = _learners(course, 2)
    services.quiz_attempt_submit(enrollment=first, quiz_id=course.test_quiz.pk, answers={})
    services.quiz_attempt_submit(
        enrollment=first, quiz_id=course.test_quiz.pk, answers=RIGHT_ANSWERS
    )
    rows = list(selectors.gradebook_export(course=course))
    assert rows[0] == [
        "email",
        "name",
        "status",
        "progress %",
        "Intro",
        "Basics",
        "More",
        "Quiz time",
    ]
    assert rows[1][:3] == ["l00@example.org", "Ann Learner00", "active"]
    assert rows[1][4:] == [40.0, "", "", 100.0]  # the best of two attempts, as a number
    assert rows[2][:2] == ["l01@example.org", "Ann Learner01"]
    assert rows[2][4:] == ["", 40.0, "", ""]


def test_chunks_give_the_same_rows_with_a_constant_number_of_statements_each(
    course, django_assert_num_queries
):
    _learners(course, 5)
    whole = list(selectors.gradebook_export(course=course))
    reports = []
    # lessons, roster, then per chunk of 2 learners: their progress and their quiz scores
    with django_assert_num_queries(2 + 3 * 2):
        chunked = list(
            selectors.gradebook_export(
                course=course, chunk=2, report=lambda done, total: reports.append((done, total))
            )
        )
    assert chunked == whole
    assert reports == [(2, 5), (4, 5), (5, 5)]


def test_the_page_csv_keeps_formulas_as_text(client, course):
    user = UserFactory(first_name="=HYPERLINK(1)", last_name="", email="x@example.org")
    services.enrollment_create(user=user, course=course)
    client.force_login(course.instructor)
    response = client.get(f"/teach/{course.slug}/gradebook/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][:2] == ["x@example.org", "'=HYPERLINK(1)"]
    assert len(rows) == 2


def test_page_cells_round_like_the_template_filter():
    """The gradebook page formats cells without a template filter: for every percentage a
    numeric(5, 2) column holds, the same text as `{{ value|floatformat:0 }}%`."""
    from django.template.defaultfilters import floatformat

    from apps.progress.views import _percent

    for hundredths in range(0, 10001):
        value = hundredths / 100
        assert _percent(value) == f"{floatformat(value, 0)}%", value
