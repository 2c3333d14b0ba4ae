from django.core.management.base import BaseCommand, CommandError

from apps.core.backups import BackupError, backup_restore
from apps.core.models import BackupRecord


class Command(BaseCommand):
    help = (
        "Restore a recorded backup into a new database: manage.py restore <backup id> --into NAME"
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=int, help="the backup's id (see admin or `backup`)")
        parser.add_argument("--into", required=True, help="name of the new database")

    def handle(self, *args, **options):
        record = BackupRecord.objects.filter(pk=options["backup"]).first()
        if record is None:
            raise CommandError(f"no backup with id {options['backup']}")
        try:
            backup_restore(record=record, into=options["into"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"restored backup {record.pk} into {options['into']}"))
