from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("verify-email/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("profile/", views.profile, name="profile"),
    path("preferences/theme/", views.theme_set, name="theme_set"),
    path("teacher/", views.teacher_profile, name="teacher_profile"),
    path("security/", views.security, name="security"),
    path("security/log-out-everywhere/", views.log_out_everywhere, name="log_out_everywhere"),
    path("security/tokens/", views.personal_tokens, name="personal_tokens"),
    path("security/two-factor/", views.two_factor, name="two_factor"),
    path("security/two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("security/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
