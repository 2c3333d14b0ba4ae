"""Account pages: sign up, log in (with the second factor), profile, preferences, security."""

import base64
import time

import qrcode
import qrcode.image.svg
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from apps.accounts import selectors, services
from apps.accounts.forms import (
    EmailAuthenticationForm,
    PasswordConfirmForm,
    PreferencesForm,
    ProfileForm,
    SignUpForm,
    TeacherProfileForm,
    TokenForm,
)
from apps.accounts.models import THEMES, TeacherProfile
from apps.accounts.selectors import preferences_for
from apps.accounts.tokens import InvalidLink
from apps.core.api.scopes import all_scopes
from apps.core.exceptions import DomainError
from apps.core.ratelimit import page_rate_limit

PENDING_SESSION_KEY = "accounts.pending_second_factor"
PENDING_MAX_AGE = 300  # seconds between the password and the code
MAX_CODE_ATTEMPTS = 5


def _safe_next(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@method_decorator(page_rate_limit("login"), name="dispatch")
class LoginView(auth_views.LoginView):
    """Password first; a user with two-factor on then confirms a code before being logged in."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not user_has_device(user):
            return super().form_valid(form)
        self.request.session[PENDING_SESSION_KEY] = {
            "user": str(user.pk),
            "backend": user.backend,
            "at": time.time(),
            "attempts": 0,
        }
        target = reverse("accounts:login_verify")
        next_url = self.get_redirect_url()
        return redirect(f"{target}?next={next_url}" if next_url else target)


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step of logging in: a code from the authenticator app or a backup code."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.error(request, "Please log in again.")
        return redirect("accounts:login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"].strip())
        if device is not None:
            request.session.pop(PENDING_SESSION_KEY, None)
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
        pending["attempts"] += 1
        if pending["attempts"] >= MAX_CODE_ATTEMPTS:
            request.session.pop(PENDING_SESSION_KEY, None)
            messages.error(request, "Too many wrong codes. Log in again.")
            return redirect("accounts:login")
        request.session[PENDING_SESSION_KEY] = pending
        form.add_error("token", "That code is not right.")
    return render(
        request, "accounts/login_verify.html", {"form": form, "next": _safe_next(request, "")}
    )


class LogoutView(auth_views.LogoutView):
    pass


def locked_out(request: HttpRequest, response=None, credentials=None, *args, **kwargs):
    """django-axes lockout: say the account is locked and until when, never whether the
    password was right."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    last = AccessAttempt.objects.filter(username__iexact=username).order_by("-attempt_time").first()
    locked_until = (last.attempt_time if last else timezone.now()) + settings.AXES_COOLOFF_TIME
    form = EmailAuthenticationForm(request, data=None, initial={"username": username})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_until": locked_until, "next": _safe_next(request, "")},
        status=429,
    )


@require_http_methods(["GET", "POST"])
@page_rate_limit("signup")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_register(
                email=data["email"],
                password=data["password1"],
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                request_base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, f"Welcome! We sent a link to {user.email} to confirm your address."
            )
            return redirect("core:home")
    return render(request, "accounts/signup.html", {"form": form})


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token)
    except InvalidLink as error:
        return render(
            request,
            "accounts/verify_email_failed.html",
            {"message": str(error), "expired": error.expired},
            status=400,
        )
    messages.success(request, f"Thank you: {user.email} is confirmed.")
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified_at is not None:
        messages.info(request, "Your address is already confirmed.")
    else:
        services.email_verification_send(
            user=request.user, base_url=request.build_absolute_uri("/")
        )
        messages.success(request, f"We sent a new link to {request.user.email}.")
    return redirect("accounts:profile")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The user's profile and preferences, each its own form on one page."""
    user = request.user
    preferences = preferences_for(user=user)
    profile_form = ProfileForm(instance=user, prefix="profile")
    preferences_form = PreferencesForm(instance=preferences, prefix="prefs")
    if request.method == "POST":
        if "save_profile" in request.POST:
            profile_form = ProfileForm(request.POST, instance=user, prefix="profile")
            if profile_form.is_valid():
                changes = {f: profile_form.cleaned_data[f] for f in ProfileForm.Meta.fields}
                try:
                    services.user_update_profile(user=user, **changes)
                except ValidationError as error:
                    _add_errors(profile_form, error)
                else:
                    messages.success(request, "Profile saved.")
                    return redirect("accounts:profile")
        else:
            preferences_form = PreferencesForm(request.POST, instance=preferences, prefix="prefs")
            if preferences_form.is_valid():
                try:
                    services.preferences_update(user=user, **preferences_form.changes())
                except ValidationError as error:
                    _add_errors(preferences_form, error)
                else:
                    messages.success(request, "Preferences saved.")
                    return redirect("accounts:profile")
        user.refresh_from_db()
    return render(
        request,
        "accounts/profile.html",
        {"profile_form": profile_form, "preferences_form": preferences_form},
    )


@login_required
@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """The theme switch in the header, for signed-in users (the choice is kept in preferences)."""
    theme = request.POST.get("theme")
    if theme not in dict(THEMES):
        return JsonResponse(
            {
                "error": {
                    "code": "invalid",
                    "message": "Unknown theme.",
                    "fields": {"theme": ["Unknown theme."]},
                }
            },
            status=400,
        )
    services.preferences_update(user=request.user, theme=theme)
    return JsonResponse({"theme": theme})


@login_required
@require_http_methods(["GET", "POST"])
def teacher_profile(request: HttpRequest) -> HttpResponse:
    instance = TeacherProfile.objects.filter(user=request.user).first() or TeacherProfile(
        user=request.user
    )
    form = TeacherProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.teacher_profile_update(user=request.user, **form.changes())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Teacher profile saved.")
            return redirect("accounts:teacher_profile")
    return render(request, "accounts/teacher_profile.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def security(request: HttpRequest) -> HttpResponse:
    device = services.two_factor_device(user=request.user)
    backup_left = sum(d.token_set.count() for d in request.user.staticdevice_set.all())
    return render(request, "accounts/security.html", {"device": device, "backup_left": backup_left})


@login_required
@require_POST
def log_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the user, on every device, this one included."""
    services.user_log_out_everywhere(user=request.user)
    auth_logout(request)
    messages.success(request, "You were logged out on every device. Log in again here.")
    return redirect("accounts:login")


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Confirm a code for this session, or set up an authenticator when there is none."""
    user = request.user
    device = services.two_factor_device(user=user)
    form = TokenForm(request.POST or None)
    next_url = _safe_next(request, reverse("accounts:security"))
    if device is not None:
        if user.is_verified():
            return redirect(next_url)
        if request.method == "POST" and form.is_valid():
            matched = match_token(user, form.cleaned_data["token"].strip())
            if matched is not None:
                otp_login(request, matched)
                return redirect(next_url)
            form.add_error("token", "That code is not right.")
        return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})

    pending = services.two_factor_begin(user=user)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed, codes = services.two_factor_confirm(
                user=user, token=form.cleaned_data["token"].strip()
            )
        except DomainError as error:
            form.add_error("token", error.message)
        else:
            otp_login(request, confirmed)
            messages.success(request, "Two-factor authentication is on.")
            return render(request, "accounts/backup_codes.html", {"codes": codes, "next": next_url})
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(pending.config_url)),  # noqa: S308 (our own SVG)
            "secret": _base32(pending),
            "next": next_url,
        },
    )


def _base32(device) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _require_verified(request: HttpRequest):
    if not request.user.is_verified():
        return redirect(f"{reverse('accounts:two_factor')}?next={request.path}")
    return None


@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    if services.two_factor_device(user=request.user) is None:
        return redirect("accounts:two_factor")
    if (response := _require_verified(request)) is not None:
        return response
    codes = services.backup_codes_regenerate(user=request.user)
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "next": reverse("accounts:security")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if services.two_factor_device(user=request.user) is None:
        return redirect("accounts:security")
    if (response := _require_verified(request)) is not None:
        return response
    form = PasswordConfirmForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.two_factor_disable(user=request.user)
        messages.success(request, "Two-factor authentication is off.")
        return redirect("accounts:security")
    return render(request, "accounts/two_factor_disable.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        messages.success(self.request, "Password changed.")
        return super().form_valid(form)


@method_decorator(page_rate_limit("password_reset"), name="dispatch")
@method_decorator(page_rate_limit("password_reset_email", key="post:email"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def personal_tokens(request: HttpRequest) -> HttpResponse:
    """The user's personal access tokens: make one (its plaintext shown on this page only),
    revoke one."""
    created = None
    scopes = all_scopes()
    if request.method == "POST" and "revoke" in request.POST:
        token = (
            selectors.personal_access_token_list(user=request.user)
            .filter(pk=request.POST.get("revoke"))
            .first()
        )
        if token is not None:
            services.personal_access_token_revoke(token=token)
            messages.success(request, f"Token {token.name} revoked.")
        return redirect("accounts:personal_tokens")
    if request.method == "POST":
        try:
            days = int(request.POST.get("expires_in_days") or 0) or None
            token, plaintext = services.personal_access_token_create(
                user=request.user,
                name=request.POST.get("name", "")[:100],
                scopes=request.POST.getlist("scopes"),
                expires_in_days=days,
            )
        except (DomainError, ValueError) as error:
            messages.error(request, getattr(error, "message", "Give the lifetime in days."))
        else:
            created = {"token": token, "plaintext": plaintext}
    return render(
        request,
        "accounts/personal_tokens.html",
        {
            "tokens": selectors.personal_access_token_list(user=request.user),
            "scopes": scopes.items(),
            "created": created,
            "default_days": settings.PERSONAL_ACCESS_TOKEN_DEFAULT_DAYS,
            "max_days": settings.PERSONAL_ACCESS_TOKEN_MAX_DAYS,
        },
    )
