"""
Two fabrics mirrored side by side: whatever one fabric's sync or deletion does, the other's mirror stays exactly
as it was. Every query of the engine filters on the fabric; dropping one such filter fails here.
"""

import pytest
from django.db import connection

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import VPC, HedgehogFabric, Switch
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import TOKEN, expected_counts, fabric_objects, mirror_counts


def fabric_row_versions(fabric):
    """
    {table: {id: ctid}} for the fabric's rows in every mirror table and in the many-to-many tables leaving them;
    any insert, update or delete of one of them changes it.
    """
    versions = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for info in KINDS:
            table = info.model._meta.db_table
            cursor.execute(f'SELECT id, ctid::text FROM {quote(table)} WHERE fabric_id = %s', [fabric.pk])
            versions[table] = dict(cursor.fetchall())
            for m2m in info.model._meta.many_to_many:
                through = m2m.remote_field.through._meta
                if not through.auto_created:
                    continue
                source = quote(m2m.m2m_column_name())
                cursor.execute(
                    f'SELECT t.id, t.ctid::text FROM {quote(through.db_table)} AS t '
                    f'JOIN {quote(table)} AS s ON s.id = t.{source} WHERE s.fabric_id = %s',
                    [fabric.pk],
                )
                versions[through.db_table] = dict(cursor.fetchall())
    return versions


@pytest.fixture
def other_standin():
    """A second cluster serving the same objects (same names, other uids), as a second fabric of one design."""
    server = StandinServer(objects=fabric_objects(), token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def two_fabrics(standin, other_standin, make_fabric):
    first = make_fabric(standin, name='fabric-a')
    second = make_fabric(other_standin, name='fabric-b')
    for fabric in (first, second):
        run = sync_fabric(fabric.pk, 'manual')
        assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert mirror_counts(first) == mirror_counts(second) == expected_counts()
    return first, second


def test_one_fabric_sync_changes_and_deletes_only_its_own_mirror(standin, two_fabrics):
    first, second = two_fabrics
    untouched = fabric_row_versions(second)
    standin.delete('vpcs', 'demo-vpc-3')
    standin.patch('switches', 'ds3000-01', spec={'description': 'changed in fabric a only'})
    run = sync_fabric(first.pk, 'manual')

    assert run.changes == {'Switch': {'updated': ['ds3000-01']}, 'VPC': {'deleted': ['demo-vpc-3']}}
    assert not VPC.objects.filter(fabric=first, name='demo-vpc-3').exists()
    assert VPC.objects.filter(fabric=second, name='demo-vpc-3').exists()
    assert Switch.objects.get(fabric=second, name='ds3000-01').description != 'changed in fabric a only'
    assert fabric_row_versions(second) == untouched


def test_a_cluster_emptied_of_every_object_empties_only_its_fabric(standin, two_fabrics):
    first, second = two_fabrics
    untouched = fabric_row_versions(second)
    for info in KINDS:
        for obj in standin.objects(info.plural):
            standin.delete(info.plural, obj['metadata']['name'], obj['metadata'].get('namespace'))
    run = sync_fabric(first.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert not any(mirror_counts(first).values())
    assert fabric_row_versions(second) == untouched
    assert mirror_counts(second) == expected_counts()


def test_deleting_one_fabric_leaves_the_other_mirror_intact(two_fabrics):
    first, second = two_fabrics
    untouched = fabric_row_versions(second)
    first.delete()

    assert not HedgehogFabric.objects.filter(pk=first.pk).exists()
    assert not any(info.model.objects.filter(fabric_id=first.pk).exists() for info in KINDS)
    assert fabric_row_versions(second) == untouched
    assert mirror_counts(second) == expected_counts()
    run = sync_fabric(second.pk, 'manual')
    assert run.outcome == SyncOutcomeChoices.SUCCESS and run.changes == {}, run.errors
