import datetime as dt

import factory

from apps.content.models import Category, Course, Lesson, LessonPlan, Module
from tests.accounts.factories import UserFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Subject {n}")
    slug = factory.Sequence(lambda n: f"subject-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        category = super()._create(model_class, *args, **kwargs)
        category.refresh_from_db(fields=["level", "path"])  # computed by the tree trigger
        return category


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    instructor = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n + 1)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    position = factory.Sequence(lambda n: n + 1)


class LessonPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LessonPlan

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Plan {n}")
    week_of = dt.date(2026, 11, 23)  # a Monday


def published(course: Course, **changes) -> Course:
    """Walk a course draft -> review -> published the way the database allows."""
    Course.all_objects.filter(pk=course.pk).update(status="review")
    Course.all_objects.filter(pk=course.pk).update(status="published", **changes)
    course.refresh_from_db()
    return course


QUIZ_CONFIG = {
    "pass_score": 70,
    "questions": [
        {
            "id": "q1",
            "type": "single_choice",
            "prompt": "2 + 2?",
            "points": 1,
            "choices": [
                {"id": "a", "text": "3"},
                {"id": "b", "text": "4", "correct": True},
            ],
        },
        {
            "id": "q2",
            "type": "true_false",
            "prompt": "The sky is green.",
            "points": 1,
            "answer": False,
        },
        {
            "id": "q3",
            "type": "short_answer",
            "prompt": "Capital of France?",
            "points": 2,
            "accepted_answers": ["Paris"],
        },
        {
            "id": "q4",
            "type": "multiple_choice",
            "prompt": "Primes?",
            "points": 2,
            "choices": [
                {"id": "a", "text": "2", "correct": True},
                {"id": "b", "text": "4"},
                {"id": "c", "text": "5", "correct": True},
            ],
        },
    ],
}
