from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.assistants.services.memories import user_assistant_data_retire


class Command(BaseCommand):
    help = (
        "Remove a person's assistant conversations, memories and memory interactions (as a "
        "retirement does); their usage rows stay, without the person."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="E-mail address of the person (deleted accounts too).")

    def handle(self, *args, email: str, **options) -> None:
        user = get_user_model().all_objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}.")
        counts = user_assistant_data_retire(user=user)
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Retired assistant data of {user.email}: {summary}."))
