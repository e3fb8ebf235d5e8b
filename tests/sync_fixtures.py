"""
Fixtures for the sync tests: a Kubernetes API stand-in serving the shared Hedgehog samples plus one agent per
switch, and fabrics pointing at it.

Each agent carries a users' password hash and registry credentials, as real agents do, so that tests can prove
the mirror never stores them.
"""

import copy
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import connection
from django.test import override_settings

from k8s_standin.server import StandinServer
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.sync import sync_fabric

SAMPLES = Path(__file__).resolve().parent.parent / 'k8s_standin' / 'fixtures' / 'samples'
TOKEN = 'sync-test-token-3f1c9a'
AGENT_PASSWORD_HASH = '$5$hedgehog$Zq2cS0LbH5Tg4rVbQ3yq1HcGfXhZ2m0N0dJq1Y8pT9B'
REGISTRY_PASSWORD = 'registry-secret-7e5d2b'
REGISTRY_USERNAME = 'registry-user-0a4f'


def sample_objects():
    objects = []
    for path in sorted(SAMPLES.glob('*.yaml')):
        objects.extend(document for document in yaml.safe_load_all(path.read_text()) if document)
    return objects


def agent_object(switch_name, *, generation=3, applied_generation=3):
    """An agent as the fabric controller writes it: health in status, secrets in spec.users and spec.version."""
    return {
        'apiVersion': 'agent.githedgehog.com/v1beta1',
        'kind': 'Agent',
        'metadata': {'name': switch_name, 'namespace': 'default', 'generation': generation},
        'spec': {
            'role': 'server-leaf',
            'description': f'agent of {switch_name}',
            'users': [{'name': 'admin', 'password': AGENT_PASSWORD_HASH, 'role': 'admin', 'sshKeys': []}],
            'version': {
                'default': 'v0.96.2',
                'repo': 'registry.local/githedgehog/agent',
                'ca': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
                'username': REGISTRY_USERNAME,
                'password': REGISTRY_PASSWORD,
            },
            'config': {'controlVIP': '172.30.0.1/32'},
        },
        'status': {
            'lastHeartbeat': '2026-11-28T17:00:00Z',
            'lastAppliedGen': applied_generation,
            'lastAppliedTime': '2026-11-28T16:59:00Z',
            'version': 'v0.96.2',
            'conditions': [
                {'type': 'Applied', 'status': 'True', 'reason': 'ApplySucceeded', 'message': 'Config applied',
                 'lastTransitionTime': '2026-11-28T16:59:00Z'},
            ],
            'state': {
                'nos': {'serialNumber': f'SN-{switch_name}', 'softwareVersion': '4.4.2-Enterprise_Base'},
                'interfaces': {
                    'E1/1': {'oper': 'up', 'admin': 'up'},
                    'E1/2': {'oper': 'down', 'admin': 'up'},
                    'M1': {'oper': 'up', 'admin': 'up'},
                },
                'bgpNeighbors': {
                    'default': {
                        '172.30.128.0': {'state': 'established', 'peerAS': 65100},
                        '172.30.128.2': {'state': 'active', 'peerAS': 65100},
                    },
                },
            },
        },
    }


def fabric_objects():
    """The samples plus one agent per switch: the fabric every sync test starts from."""
    objects = sample_objects()
    switches = [obj['metadata']['name'] for obj in objects if obj['kind'] == 'Switch']
    return objects + [agent_object(name) for name in switches]


def expected_counts():
    """Objects per mirrored kind that the stand-in serves (one per kind and name, as the API keys them)."""
    kinds = {info.kind for info in KINDS}
    unique = {(obj['kind'], obj['metadata']['name']) for obj in fabric_objects() if obj['kind'] in kinds}
    counts = Counter(kind for kind, _ in unique)
    return {info.kind: counts.get(info.kind, 0) for info in KINDS}


def plugin_settings(**overrides):
    """override_settings() for plugin configuration keys, keeping every other key."""
    plugins_config = copy.deepcopy(settings.PLUGINS_CONFIG)
    plugins_config['netbox_hedgehog'].update(overrides)
    return override_settings(PLUGINS_CONFIG=plugins_config)


def mirror_row_versions():
    """
    {table: {id: ctid}} for every mirror table and its many-to-many tables. Any insert, update or delete changes
    it, even inside one transaction (where xmin would not).
    """
    tables = set()
    for info in KINDS:
        tables.add(info.model._meta.db_table)
        for m2m in info.model._meta.many_to_many:
            if m2m.remote_field.through._meta.auto_created:
                tables.add(m2m.remote_field.through._meta.db_table)
    versions = {}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f'SELECT id, ctid::text FROM {connection.ops.quote_name(table)}')
            versions[table] = dict(cursor.fetchall())
    return versions


def mirror_tables_text():
    """Every mirrored row of every kind as text, to search for things that must never be stored."""
    texts = []
    with connection.cursor() as cursor:
        for info in KINDS:
            table = connection.ops.quote_name(info.model._meta.db_table)
            cursor.execute(f'SELECT t::text FROM {table} AS t')
            texts.extend(row[0] for row in cursor.fetchall())
    return texts


@pytest.fixture
def standin():
    server = StandinServer(objects=fabric_objects(), token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def tls_standin():
    server = StandinServer(objects=fabric_objects(), token=TOKEN, tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def make_fabric(db):
    def factory(server=None, name='fabric-1', **fields):
        if server is not None:
            fields.setdefault('kubernetes_server', server.url)
            fields.setdefault('kubernetes_token', TOKEN)
        return HedgehogFabric.objects.create(name=name, sync_enabled=False, **fields)

    return factory


@pytest.fixture
def synced_fabric(standin, make_fabric):
    """A fabric mirrored once from the stand-in, successfully."""
    fabric = make_fabric(standin)
    run = sync_fabric(fabric.pk, 'manual')
    assert run.outcome == 'success', run.errors
    return fabric


def mirror_counts(fabric):
    """{kind: rows} of the fabric's mirror."""
    return {info.kind: info.model.objects.filter(fabric=fabric).count() for info in KINDS}
