"""What a resync writes: only the columns that changed, the search cache only for searched fields, no reference
resolution when nothing changed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from extras.models import CachedValue

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.models import Agent, Switch
from netbox_hedgehog.sync import sync_fabric


def cache_versions():
    with connection.cursor() as cursor:
        cursor.execute('SELECT id::text, ctid::text FROM extras_cachedvalue')
        return dict(cursor.fetchall())


def writes(queries, table):
    return [q['sql'] for q in queries if q['sql'].startswith(('UPDATE', 'INSERT', 'DELETE')) and table in q['sql']]


def test_a_heartbeat_rewrites_only_the_agent_status_columns_and_no_search_entry(standin, synced_fabric):
    agent = Agent.objects.filter(fabric=synced_fabric).order_by('name').first()
    before = cache_versions()
    standin.patch('agents', agent.name, status={'lastHeartbeat': '2026-12-01T09:00:00Z'})
    with CaptureQueriesContext(connection) as queries:
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert run.counts['Agent']['updated'] == 1
    [update] = writes(queries, Agent._meta.db_table)
    written = update.split(' WHERE ')[0]
    for column in ('"resource_version"', '"status"', '"last_heartbeat"', '"last_updated"'):
        assert column in written
    for column in ('"spec"', '"labels"', '"serial_number"', '"agent_version"'):
        assert column not in written
    assert Agent.objects.get(pk=agent.pk).last_heartbeat.isoformat() == '2026-12-01T09:00:00+00:00'
    assert cache_versions() == before


def test_a_changed_searched_field_is_recached(standin, synced_fabric):
    standin.patch('switches', 'ds3000-01', spec={'description': 'freshly described leaf'})
    assert sync_fabric(synced_fabric.pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS

    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    cached = CachedValue.objects.filter(object_id=switch.pk, field='description').values_list('value', flat=True)
    assert list(cached) == ['freshly described leaf']


def test_a_resync_without_changes_resolves_no_reference(standin, synced_fabric):
    with CaptureQueriesContext(connection) as queries:
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS
    assert not any('resolved.target_id' in q['sql'] or 'wanted.source_id' in q['sql'] for q in queries)
