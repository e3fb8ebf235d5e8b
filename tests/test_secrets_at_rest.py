"""
Fabric tokens and kubeconfigs (client private keys included) are encrypted at rest: not in a pg_dump, not in an
export template or custom link, decrypted only where a connection is built; a key that no longer opens them is an
error on that fabric alone; `hedgehog_rotate_secrets` moves every row to the first key.
"""

import base64
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from extras.models import CustomLink, ExportTemplate
from utilities.jinja2 import render_jinja2

from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices
from netbox_hedgehog.crypto import Sealed, SecretUnreadable, unseal
from netbox_hedgehog.kube.connection import test_connection as check_connection
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.sync import sync_fabric

from .certs import ca_certificate_pem
from .sync_fixtures import TOKEN, make_fabric, plugin_settings, standin

__all__ = ('make_fabric', 'standin')  # fixtures

KEY_A = 'first-key-a3f09e1c7b2d4e6f8a0b1c2d3e4f5a6b'
KEY_B = 'second-key-7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f'
KEY_C = 'unrelated-key-0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c'
UNREADABLE = 'cannot decrypt the stored token: was `secret_keys` changed?'
PACKAGE = Path(__file__).resolve().parent.parent / 'netbox_hedgehog'


def private_key_pem():
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def client_certificate_kubeconfig(server_url, key_pem):
    encoded = base64.b64encode
    return yaml.safe_dump({
        'clusters': [{'name': 'c', 'cluster': {'server': server_url}}],
        'users': [{'name': 'u', 'user': {
            'client-certificate-data': encoded(ca_certificate_pem().encode()).decode(),
            'client-key-data': encoded(key_pem.encode()).decode(),
        }}],
        'contexts': [{'name': 'x', 'context': {'cluster': 'c', 'user': 'u'}}],
    })


def key_body(pem):
    """The longest base64 line of a PEM: what a dump would show of it."""
    return max(pem.splitlines(), key=len)


@pytest.mark.django_db(transaction=True)
def test_pg_dump_holds_no_token_and_no_private_key(admin_user, api_client_for):
    key_pem = private_key_pem()
    api = api_client_for(admin_user)
    response = api.post('/api/plugins/hedgehog/fabrics/', {
        'name': 'dumped-token', 'kubernetes_server': 'https://10.9.0.1:6443', 'kubernetes_token': TOKEN,
    }, format='json')
    assert response.status_code == 201, response.content
    kubeconfig = client_certificate_kubeconfig('https://10.9.0.2:6443', key_pem)
    response = api.post('/api/plugins/hedgehog/fabrics/', {'name': 'dumped-key', 'kubeconfig': kubeconfig},
                        format='json')
    assert response.status_code == 201, response.content
    # Edit once more so that the change log holds an update too.
    response = api.patch(f'/api/plugins/hedgehog/fabrics/{response.json()["id"]}/', {'description': 'edited'},
                         format='json')
    assert response.status_code == 200, response.content

    db = connection.settings_dict
    environment = {**os.environ, 'PGPASSWORD': db['PASSWORD'] or ''}
    dump = subprocess.run(
        ['pg_dump', '--host', db['HOST'] or '127.0.0.1', '--port', str(db['PORT'] or 5432), '--username',
         db['USER'], '--no-owner', db['NAME']],
        capture_output=True, text=True, env=environment, timeout=600, check=True,
    ).stdout
    assert 'dumped-token' in dump and 'dumped-key' in dump, 'the dump does not hold the fabrics at all'
    ciphertext = HedgehogFabric.objects.get(name='dumped-token').kubernetes_token
    assert ciphertext in dump, 'the encrypted token is stored where the dump shows it'
    for plain in (TOKEN, key_body(key_pem), base64.b64encode(key_pem.encode()).decode()[:60], 'client-key-data'):
        assert plain not in dump


@pytest.mark.django_db
def test_stored_secrets_are_ciphertext_that_opens_with_the_key(make_fabric):
    fabric = make_fabric(name='sealed', kubernetes_server='https://10.9.0.3:6443', kubernetes_token=TOKEN)
    fabric = HedgehogFabric.objects.get(pk=fabric.pk)
    assert isinstance(fabric.kubernetes_token, Sealed)
    assert TOKEN not in fabric.kubernetes_token
    assert unseal(fabric.kubernetes_token) == TOKEN
    with connection.cursor() as cursor:
        cursor.execute('SELECT kubernetes_token FROM netbox_hedgehog_hedgehogfabric WHERE id = %s', [fabric.pk])
        assert cursor.fetchone()[0] == fabric.kubernetes_token


@pytest.mark.django_db
def test_export_template_and_custom_link_see_no_secret(admin_user, make_fabric):
    from core.models import ObjectType

    key_pem = private_key_pem()
    make_fabric(name='exported', kubernetes_server='https://10.9.0.4:6443', kubernetes_token=TOKEN)
    make_fabric(name='exported-kc', kubeconfig=client_certificate_kubeconfig('https://10.9.0.5:6443', key_pem))
    object_type = ObjectType.objects.get_for_model(HedgehogFabric)
    template = ExportTemplate.objects.create(
        name='leaky', template_code='{% for o in queryset %}{{ o.name }}={{ o.kubernetes_token }}|'
                                    '{{ o.kubeconfig }};{% endfor %}',
    )
    template.object_types.set([object_type])
    client = Client()
    client.force_login(admin_user)
    response = client.get('/plugins/hedgehog/fabrics/', {'export': 'leaky'})
    assert response.status_code == 200
    exported = b''.join(response.streaming_content if response.streaming else [response.content]).decode()
    assert 'exported=' in exported and 'exported-kc=' in exported
    for plain in (TOKEN, key_body(key_pem), 'client-key-data'):
        assert plain not in exported

    link = CustomLink.objects.create(name='leaky-link', link_text='{{ object.kubernetes_token }}',
                                     link_url='https://example.invalid/{{ object.kubeconfig }}')
    link.object_types.set([object_type])
    for fabric in HedgehogFabric.objects.all():
        rendered = link.render({'object': fabric})
        assert TOKEN not in str(rendered) and 'client-key-data' not in str(rendered)
    # Nor through anything a template may call on the stored value.
    fabric = HedgehogFabric.objects.get(name='exported')
    probe = render_jinja2('{{ t }}{{ t.__class__ }}{{ t.upper() }}{{ t.encode() }}', {'t': fabric.kubernetes_token})
    assert TOKEN not in probe


def test_plain_text_is_read_only_where_a_connection_is_built():
    """unseal() is called by the connection code, the rotation command and the migration, nowhere else."""
    allowed = {'kube/client.py', 'crypto.py', 'management/commands/hedgehog_rotate_secrets.py',
               'migrations/0003_encrypt_fabric_secrets.py'}
    callers = {
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob('*.py') if re.search(r'\bunseal\(', path.read_text())
    }
    assert 'kube/client.py' in callers
    assert callers <= allowed, callers - allowed


@pytest.mark.django_db
def test_a_key_that_no_longer_opens_the_token_fails_that_fabric_only(standin, make_fabric, make_user):
    with plugin_settings(secret_keys=[KEY_A]):
        locked = make_fabric(standin, name='locked')
    with plugin_settings(secret_keys=[KEY_B]):
        working = make_fabric(standin, name='working')
        run = sync_fabric(locked.pk, 'manual')
        locked.refresh_from_db()
        assert run.outcome == SyncOutcomeChoices.FAILED
        assert UNREADABLE in locked.sync_error
        assert locked.sync_status == SyncStatusChoices.ERROR
        assert TOKEN not in locked.sync_error

        report = check_connection(HedgehogFabric.objects.get(pk=locked.pk))
        assert not report.ok and UNREADABLE in report.error

        assert sync_fabric(working.pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS

        client = Client()
        client.force_login(make_user('viewer', 'netbox_hedgehog.view_hedgehogfabric',
                                     'netbox_hedgehog.view_syncrun', 'netbox_hedgehog.sync_hedgehogfabric'))
        for url in (locked.get_absolute_url(), '/plugins/hedgehog/fabrics/', run.get_absolute_url(),
                    f'{locked.get_absolute_url()}edit/'):
            assert client.get(url).status_code in (200, 403), url
        assert client.get(locked.get_absolute_url()).status_code == 200
        response = client.post(f'{locked.get_absolute_url()}test-connection/', HTTP_HX_REQUEST='true')
        assert response.status_code == 200 and UNREADABLE in response.content.decode()


@pytest.mark.django_db
def test_rotation_moves_every_row_to_the_first_key(make_fabric):
    key_pem = private_key_pem()
    with plugin_settings(secret_keys=[KEY_A]):
        token_fabric = make_fabric(name='rotated', kubernetes_server='https://10.9.0.6:6443', kubernetes_token=TOKEN)
        kubeconfig = client_certificate_kubeconfig('https://10.9.0.7:6443', key_pem)
        kubeconfig_fabric = make_fabric(name='rotated-kc', kubeconfig=kubeconfig)
        make_fabric(name='no-secrets', kubernetes_server='https://10.9.0.8:6443')
    with plugin_settings(secret_keys=[KEY_B, KEY_A]):
        call_command('hedgehog_rotate_secrets', stdout=open(os.devnull, 'w'))
    with plugin_settings(secret_keys=[KEY_B]):
        assert unseal(HedgehogFabric.objects.get(pk=token_fabric.pk).kubernetes_token) == TOKEN
        assert unseal(HedgehogFabric.objects.get(pk=kubeconfig_fabric.pk).kubeconfig) == kubeconfig
        assert HedgehogFabric.objects.get(name='no-secrets').kubernetes_token == ''


@pytest.mark.django_db
def test_rotation_without_the_old_key_changes_nothing(make_fabric):
    with plugin_settings(secret_keys=[KEY_A]):
        first = make_fabric(name='first', kubernetes_server='https://10.9.0.9:6443', kubernetes_token=TOKEN)
    with plugin_settings(secret_keys=[KEY_B]):
        second = make_fabric(name='second', kubernetes_server='https://10.9.0.10:6443', kubernetes_token=TOKEN)
    stored = dict(HedgehogFabric.objects.values_list('name', 'kubernetes_token'))
    with plugin_settings(secret_keys=[KEY_C, KEY_B]), pytest.raises(CommandError, match='first'):
        call_command('hedgehog_rotate_secrets')
    assert dict(HedgehogFabric.objects.values_list('name', 'kubernetes_token')) == stored
    with plugin_settings(secret_keys=[KEY_B]):
        assert unseal(HedgehogFabric.objects.get(pk=second.pk).kubernetes_token) == TOKEN
    with plugin_settings(secret_keys=[KEY_A]):
        assert unseal(HedgehogFabric.objects.get(pk=first.pk).kubernetes_token) == TOKEN


@pytest.mark.django_db
def test_without_secret_keys_a_key_derived_from_secret_key_is_used(make_fabric, settings):
    fabric = make_fabric(name='derived', kubernetes_server='https://10.9.0.11:6443', kubernetes_token=TOKEN)
    stored = HedgehogFabric.objects.get(pk=fabric.pk).kubernetes_token
    assert unseal(stored) == TOKEN
    settings.SECRET_KEY = 'another-secret-key-of-netbox-' + 'x' * 40
    with pytest.raises(SecretUnreadable):
        unseal(stored)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_reverses():
    from django.db.migrations.executor import MigrationExecutor

    before, encrypted = ('netbox_hedgehog', '0002_mirrored_kinds'), ('netbox_hedgehog', '0003_encrypt_fabric_secrets')
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes('netbox_hedgehog')
    MigrationExecutor(connection).migrate([before])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO netbox_hedgehog_hedgehogfabric (name, description, comments, custom_field_data, created, "
                "kubernetes_server, kubernetes_token, kubernetes_ca_cert, kubernetes_skip_tls_verify, kubeconfig, "
                "kubernetes_namespace, sync_enabled, sync_interval, sync_status, sync_error) VALUES ('legacy', '', "
                "'', '{}', now(), 'https://10.9.0.12:6443', %s, '', false, '', 'default', false, 300, "
                "'never_synced', '') RETURNING id",
                [TOKEN],
            )
            pk = cursor.fetchone()[0]
        MigrationExecutor(connection).migrate([encrypted])
        raw = _raw_token(pk)
        assert raw != TOKEN and TOKEN not in raw
        assert unseal(Sealed(raw)) == TOKEN
        MigrationExecutor(connection).migrate([before])
        assert _raw_token(pk) == TOKEN
    finally:
        MigrationExecutor(connection).migrate(latest)


def _raw_token(pk):
    with connection.cursor() as cursor:
        cursor.execute('SELECT kubernetes_token FROM netbox_hedgehog_hedgehogfabric WHERE id = %s', [pk])
        return cursor.fetchone()[0]
