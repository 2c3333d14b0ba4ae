"""Forms of the content pages and admin. They turn text into values; the services validate the
rules and their ValidationErrors land on the matching fields."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError

from apps.accounts.validators import GRADE_LEVELS
from apps.content.models import AccessType, Category, CourseLevel, PlanStatus
from apps.content.schemas import CONFIGURATION_SCHEMAS, configuration_errors
from apps.core.widgets import PlainSelect


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown fields: form-wide)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True).order_by("path"),
        required=False,
        to_field_name="slug",
        empty_label="All subjects",
        widget=PlainSelect,
    )
    level = forms.ChoiceField(
        choices=[("", "Any level"), *CourseLevel.choices], required=False, widget=PlainSelect
    )
    language = forms.ChoiceField(
        choices=[
            ("", "Any language"),
            ("en", "English"),
            ("es", "Spanish"),
            ("fr", "French"),
            ("de", "German"),
        ],
        required=False,
        widget=PlainSelect,
    )
    price_type = forms.ChoiceField(
        label="Price",
        choices=[("", "Any price"), *AccessType.choices],
        required=False,
        widget=PlainSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: "— " * (c.level - 1) + c.name


class LinesField(forms.CharField):
    """One item per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value


class JSONTextField(forms.JSONField):
    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "mono"})


class LessonPlanForm(forms.Form):
    title = forms.CharField(max_length=200)
    week_of = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Any day of the week."
    )
    subject_category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True).order_by("path"), required=False
    )
    grade_level = forms.ChoiceField(
        choices=[("", "—"), *[(g, g) for g in GRADE_LEVELS]], required=False
    )
    content_area = forms.CharField(max_length=100, required=False)
    status = forms.ChoiceField(choices=PlanStatus.choices, initial=PlanStatus.DRAFT)
    objectives = LinesField(required=False, help_text="One objective per line.")
    materials = LinesField(required=False, help_text="One per line.")
    assessment_criteria = LinesField(required=False, help_text="One per line.")
    activities = JSONTextField(
        required=False,
        initial=list,
        help_text='JSON list, e.g. [{"title": "Warm-up", "minutes": 5}].',
    )
    lesson_data = JSONTextField(
        required=False,
        initial=dict,
        help_text="JSON object: duration_minutes, difficulty (easy/medium/hard), standards, "
        "differentiation, homework.",
    )
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def clean_activities(self):
        return self.cleaned_data["activities"] if self.cleaned_data["activities"] else []

    def clean_lesson_data(self):
        return self.cleaned_data["lesson_data"] if self.cleaned_data["lesson_data"] else {}

    @staticmethod
    def initial_for(plan) -> dict:
        return {
            "title": plan.title,
            "week_of": plan.week_of,
            "subject_category": plan.subject_category_id,
            "grade_level": plan.grade_level,
            "content_area": plan.content_area,
            "status": plan.status,
            "objectives": [o.text for o in plan.objectives.all()],
            "materials": plan.materials,
            "assessment_criteria": plan.assessment_criteria,
            "activities": plan.activities,
            "lesson_data": plan.lesson_data,
            "tags": ", ".join(plan.tags),
        }


class InteractiveContentAdminForm(forms.ModelForm):
    """Shows every JSON Schema problem of the configuration on the field."""

    def clean(self):
        cleaned = super().clean()
        content_type = cleaned.get("content_type")
        configuration = cleaned.get("configuration")
        if content_type in CONFIGURATION_SCHEMAS and "configuration" not in self.errors:
            messages = configuration_errors(content_type, configuration)
            if messages:
                self.add_error("configuration", messages)
        return cleaned


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
