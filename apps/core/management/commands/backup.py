from django.core.management.base import BaseCommand, CommandError

from apps.core.backups import BackupError, backup_create, backup_prune


class Command(BaseCommand):
    help = "Back up the database (pg_dump, custom format) and its roles; prune old backups."

    def add_arguments(self, parser):
        parser.add_argument("--dir", help="where to write (default settings.BACKUP_DIR)")
        parser.add_argument("--keep", type=int, help="good backups to keep (default BACKUP_KEEP)")

    def handle(self, *args, **options):
        try:
            record = backup_create(directory=options["dir"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"backup {record.pk}: {record.path} "
                f"({record.size_bytes} bytes, sha256 {record.sha256})"
            )
        )
        for pruned in backup_prune(keep=options["keep"]):
            self.stdout.write(f"pruned backup {pruned.pk} ({pruned.path})")
