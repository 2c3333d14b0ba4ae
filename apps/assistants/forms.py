from django import forms

from apps.accounts.validators import GRADE_LEVELS
from apps.content.models import Category


class ChatForm(forms.Form):
    message = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask, or say “remember that …”"}),
        error_messages={"required": "Write a message first."},
    )


class MemoryForm(forms.Form):
    content = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    importance = forms.FloatField(min_value=0, max_value=1, help_text="0 (trivia) to 1 (vital).")


class MemoryPreferenceForm(forms.Form):
    memory_enabled = forms.BooleanField(
        required=False, label="Let assistants remember what I tell them"
    )


class PlanDraftForm(forms.Form):
    topic = forms.CharField(max_length=150, help_text="What the lesson is about.")
    subject = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True).order_by("path"), required=False
    )
    grade_level = forms.ChoiceField(
        choices=[("", "Any")] + [(g, g) for g in GRADE_LEVELS], required=False
    )
    week_of = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="Any day of the week."
    )
