"""Re-encrypt sensitive fields with the current key (docs/security.md, "Rotating keys").

It lives in audit because the run is recorded as a domain event (`encryption.keys_rotated`,
after the batches, each of which commits on its own), which core cannot write.
"""

import uuid

import pghistory
from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import domain_event_record
from apps.core import crypto
from apps.core.encryption import encrypted_values_rotate, encryption_key_usage

# The aggregate the rotation events belong to: the site's keyring.
KEYRING_ID = uuid.uuid5(uuid.NAMESPACE_URL, "lyceum:encryption-keyring")


class Command(BaseCommand):
    help = (
        "Re-encrypt every sensitive value not sealed with the current key (the first of "
        "LYCEUM_ENCRYPTION_KEYS), in batches; safe to stop and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--status",
            action="store_true",
            help="Only show how many values each key sealed; change nothing.",
        )
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help="Print a new '<id>:<key>' entry to put first in LYCEUM_ENCRYPTION_KEYS.",
        )

    def handle(self, *args, batch_size, status, generate, **options):
        if generate:
            try:
                self.stdout.write(crypto.generate_key(generate))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            return
        if status:
            self._show_usage()
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = crypto.keyring().current_id
        with pghistory.context(command="rotate_encryption_keys"):
            try:
                report = encrypted_values_rotate(
                    batch_size=batch_size,
                    on_batch=lambda label, done: self.stdout.write(f"{label}: {done} re-encrypted"),
                )
            except crypto.DecryptionError as exc:
                raise CommandError(str(exc)) from exc
            domain_event_record(
                aggregate_type="encryption_keyring",
                aggregate_id=KEYRING_ID,
                event_type="encryption.keys_rotated",
                data={
                    "key_id": current,
                    "rotated": report.rotated,
                    "skipped": report.skipped,
                    "batch_size": batch_size,
                },
            )
        self.stdout.write(
            self.style.SUCCESS(f"{report.total} values re-encrypted with key {current!r}.")
        )
        self._show_usage()

    def _show_usage(self):
        ring = crypto.keyring()
        totals = dict.fromkeys(ring.ids, 0)
        for label, usage in encryption_key_usage().items():
            self.stdout.write(
                f"{label}: " + (", ".join(f"{k}={n}" for k, n in usage.items()) or "-")
            )
            for key_id, count in usage.items():
                totals[key_id] = totals.get(key_id, 0) + count
        for key_id, count in totals.items():
            role = "current" if key_id == ring.current_id else "old"
            verdict = "still in use" if count else "unused: may be removed"
            if key_id not in ring.fernets:
                role, verdict = "missing", "NOT CONFIGURED: these values cannot be read"
            self.stdout.write(f"key {key_id} ({role}): {count} values, {verdict}")
