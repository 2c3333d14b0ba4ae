"""Webhook signing secrets encrypted at rest (ADR 0016's field); existing ones are sealed."""

import apps.core.fields
from django.conf import settings
from django.db import migrations, models

from apps.core import crypto


def seal_existing(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, secret FROM integrations.webhook_endpoint WHERE secret NOT LIKE 'enc1:%%'"
        )
        for pk, secret in cursor.fetchall():
            cursor.execute(
                "UPDATE integrations.webhook_endpoint SET secret = %s WHERE id = %s",
                [crypto.encrypt(secret), pk],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0003_schedules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='webhookendpoint',
            name='secret',
            field=apps.core.fields.EncryptedTextField(editable=False),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='webhookendpoint',
            constraint=models.CheckConstraint(condition=models.Q(('secret__sealed', True)), name='webhook_endpoint_secret_encrypted'),
        ),
    ]
