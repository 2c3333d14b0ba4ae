"""Recompute blind indexes with the current blind-index key (docs/security.md, "Rotating keys").

In audit, like rotate_encryption_keys, because the run is recorded as a domain event
(`blind_index.keys_rotated`, after the batches, each of which commits on its own).
"""

import uuid

import pghistory
from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import domain_event_record
from apps.core import crypto
from apps.core.encryption import blind_index_key_usage, blind_indexes_rotate

# The aggregate the rotation events belong to: the site's blind-index keyring.
KEYRING_ID = uuid.uuid5(uuid.NAMESPACE_URL, "lyceum:blind-index-keyring")


class Command(BaseCommand):
    help = (
        "Recompute every blind index not made with the current key (the first of "
        "LYCEUM_BLIND_INDEX_KEYS), in batches; safe to stop and run again. Search keeps "
        "working meanwhile: lookups match the index under every configured key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--status",
            action="store_true",
            help="Only show how many indexes each key computed; change nothing.",
        )
        parser.add_argument(
            "--generate",
            metavar="KEY_ID",
            help="Print a new '<id>:<secret>' entry to put first in LYCEUM_BLIND_INDEX_KEYS.",
        )

    def handle(self, *args, batch_size, status, generate, **options):
        if generate:
            try:
                self.stdout.write(crypto.generate_blind_index_key(generate))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            return
        if status:
            self._show_usage()
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = crypto.blind_index_keyring().current_id
        with pghistory.context(command="rotate_blind_index_keys"):
            try:
                report = blind_indexes_rotate(
                    batch_size=batch_size,
                    on_batch=lambda label, done: self.stdout.write(f"{label}: {done} recomputed"),
                )
            except crypto.DecryptionError as exc:
                raise CommandError(str(exc)) from exc
            domain_event_record(
                aggregate_type="blind_index_keyring",
                aggregate_id=KEYRING_ID,
                event_type="blind_index.keys_rotated",
                data={
                    "key_id": current,
                    "rotated": report.rotated,
                    "skipped": report.skipped,
                    "batch_size": batch_size,
                },
            )
        self.stdout.write(
            self.style.SUCCESS(f"{report.total} blind indexes recomputed with key {current!r}.")
        )
        self._show_usage()

    def _show_usage(self):
        ring = crypto.blind_index_keyring()
        totals = dict.fromkeys(ring.ids, 0)
        for label, usage in blind_index_key_usage().items():
            self.stdout.write(
                f"{label}: " + (", ".join(f"{k}={n}" for k, n in usage.items()) or "-")
            )
            for key_id, count in usage.items():
                totals[key_id] = totals.get(key_id, 0) + count
        for key_id, count in totals.items():
            role = "current" if key_id == ring.current_id else "old"
            verdict = "still in use" if count else "unused: may be removed"
            if key_id not in ring.keys:
                role, verdict = "missing", "NOT CONFIGURED: these rows cannot be found by search"
            self.stdout.write(f"key {key_id} ({role}): {count} indexes, {verdict}")
