from django.core.management.base import BaseCommand

from apps.demo.data import DEMO_USERS
from apps.demo.services import demo_seed


class Command(BaseCommand):
    help = (
        "Load the demo data (idempotent: running it again changes nothing and duplicates nothing)."
    )

    def handle(self, *args, **options) -> None:
        counts = demo_seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({counts['created']} created, {counts['updated']} refreshed)."
            )
        )
        for spec in DEMO_USERS:
            self.stdout.write(f"  {spec['email']} / {spec['password']}")
