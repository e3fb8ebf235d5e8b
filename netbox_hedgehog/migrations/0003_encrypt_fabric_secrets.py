"""
Fabric secrets are stored encrypted (see netbox_hedgehog/crypto.py), and the server URL follows the endpoint
policy of kube/endpoint.py. Existing tokens and kubeconfigs are encrypted in place; going back decrypts them.

Rows are read and written with plain SQL so that the field's own encryption never applies twice.
"""

from django.db import migrations, models

import netbox_hedgehog.models.fields
import netbox_hedgehog.validators
from netbox_hedgehog.crypto import Sealed, seal, unseal

TABLE = 'netbox_hedgehog_hedgehogfabric'
SECRET_COLUMNS = ('kubernetes_token', 'kubeconfig')


def _rewrite(schema_editor, transform):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'SELECT id, {", ".join(SECRET_COLUMNS)} FROM {TABLE}')
        for pk, *values in cursor.fetchall():
            new = [transform(value) if value else value for value in values]
            assignments = ', '.join(f'{column} = %s' for column in SECRET_COLUMNS)
            cursor.execute(f'UPDATE {TABLE} SET {assignments} WHERE id = %s', [*new, pk])


def encrypt(apps, schema_editor):
    _rewrite(schema_editor, lambda plaintext: str(seal(plaintext)))


def decrypt(apps, schema_editor):
    _rewrite(schema_editor, lambda ciphertext: unseal(Sealed(ciphertext)))


class Migration(migrations.Migration):
    dependencies = [
        ('netbox_hedgehog', '0002_mirrored_kinds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='hedgehogfabric',
            name='kubernetes_server',
            field=models.CharField(
                blank=True, max_length=255, validators=[netbox_hedgehog.validators.validate_kubernetes_server]
            ),
        ),
        migrations.AlterField(
            model_name='hedgehogfabric',
            name='kubernetes_token',
            field=netbox_hedgehog.models.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name='hedgehogfabric',
            name='kubeconfig',
            field=netbox_hedgehog.models.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
