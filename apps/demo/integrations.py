"""Demo credentials for the integrator quick start (docs/api.md): an OAuth application using
client credentials, owned by the demo admin, and a personal access token of the demo student."""

from oauth2_provider.models import Application

from apps.accounts.services import personal_access_token_install

DEMO_OAUTH_CLIENT_ID = "lyceum-demo-integration"
DEMO_OAUTH_CLIENT_SECRET = "lyceum-demo-secret"  # noqa: S105 (demo data, like the demo passwords)
DEMO_STUDENT_TOKEN = "lyc_pat_demoStudentToken0000000000000000000000"  # noqa: S105 (demo data)
DEMO_STUDENT_TOKEN_SCOPES = ["courses:read", "enrollments:read", "enrollments:write", "users:read"]


def demo_integrations_seed(*, admin, student) -> int:
    """Create or refresh the demo OAuth application and the student's token. Returns how many
    were created."""
    _app, created = Application.objects.update_or_create(
        client_id=DEMO_OAUTH_CLIENT_ID,
        defaults={
            "name": "Demo integration (client credentials)",
            "user": admin,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
            "client_secret": DEMO_OAUTH_CLIENT_SECRET,
            "hash_client_secret": True,
        },
    )
    personal_access_token_install(
        user=student,
        name="Demo script",
        plaintext=DEMO_STUDENT_TOKEN,
        scopes=DEMO_STUDENT_TOKEN_SCOPES,
        days=366,
    )
    return int(created)
