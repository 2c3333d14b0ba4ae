"""Loading demo data."""

from django.db import transaction

from apps.accounts.services import user_ensure
from apps.demo.data import DEMO_USERS


@transaction.atomic
def demo_seed() -> dict[str, int]:
    """Create or refresh the demo data; idempotent. Returns counts of created/updated rows."""
    counts = {"created": 0, "updated": 0}
    for spec in DEMO_USERS:
        _user, created = user_ensure(**spec)
        counts["created" if created else "updated"] += 1
    return counts
