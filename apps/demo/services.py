"""Loading demo data."""

from django.db import transaction

from apps.accounts.services import two_factor_install, user_ensure
from apps.demo.data import DEMO_BACKUP_CODES, DEMO_ROLES, DEMO_TOTP_KEY_HEX, DEMO_USERS
from apps.rbac.models import Role
from apps.rbac.services import grant_ensure, rbac_builtin_sync


@transaction.atomic
def demo_seed() -> dict[str, int]:
    """Create or refresh the demo data; idempotent. Returns counts of created/updated rows."""
    counts = {"created": 0, "updated": 0}
    users = {}
    for spec in DEMO_USERS:
        users[spec["email"]], created = user_ensure(**spec)
        counts["created" if created else "updated"] += 1
        if spec.get("is_staff"):
            two_factor_install(
                user=users[spec["email"]], key_hex=DEMO_TOTP_KEY_HEX, backup_codes=DEMO_BACKUP_CODES
            )
    # A flushed database (transactional tests) has lost the rows migration rbac 0002 seeded.
    rbac_builtin_sync()
    roles = {role.name: role for role in Role.objects.filter(name__in=DEMO_ROLES.values())}
    for email, role_name in DEMO_ROLES.items():
        grant_ensure(user=users[email], role=roles[role_name])
    return counts
