from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts.models import THEMES, TeacherProfile, User, UserPreferences
from apps.accounts.validators import GRADE_LEVELS, NOTIFICATION_KEYS


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The e-mail address and password do not match an active account.",
    }


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Letters, digits and @/./+/-/_ only.",
        error_messages={"invalid": "Use letters, digits and @/./+/-/_ only."},
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.all_objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this e-mail address already exists.")
        return email

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.all_objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken.")
        return username

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            candidate = User(
                email=cleaned.get("email", ""),
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "username", "phone", "date_of_birth"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}


class PreferencesForm(forms.ModelForm):
    theme = forms.ChoiceField(choices=THEMES, widget=forms.RadioSelect)
    timezone = forms.CharField(max_length=64, help_text="e.g. Europe/Madrid, America/New_York")

    class Meta:
        model = UserPreferences
        fields = ["theme", "language", "timezone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        notifications = self.instance.effective_notifications
        for key in NOTIFICATION_KEYS:
            self.fields[f"notify_{key}"] = forms.BooleanField(
                label=key.replace("_", " ").capitalize(),
                required=False,
                initial=notifications[key],
            )

    def notification_fields(self):
        return [self[f"notify_{key}"] for key in NOTIFICATION_KEYS]

    def changes(self) -> dict:
        data = {field: self.cleaned_data[field] for field in self.Meta.fields}
        data["notifications"] = {
            key: self.cleaned_data[f"notify_{key}"] for key in NOTIFICATION_KEYS
        }
        return data


class TeacherProfileForm(forms.ModelForm):
    subjects = forms.CharField(
        required=False, help_text="Separate subjects with commas, e.g. Algebra, Physics."
    )
    grade_levels = forms.MultipleChoiceField(
        choices=[(level, level) for level in GRADE_LEVELS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = TeacherProfile
        fields = ["school", "department", "subjects", "grade_levels", "custom_instructions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["subjects"] = ", ".join(self.instance.subjects)

    def clean_subjects(self):
        raw = self.cleaned_data["subjects"]
        subjects = [s.strip() for s in raw.split(",") if s.strip()]
        if any(len(s) > 100 for s in subjects):
            raise forms.ValidationError("Each subject must be at most 100 characters.")
        return subjects

    def changes(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.Meta.fields}


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
