"""
Objects whose values PostgreSQL refuses or NetBox cannot show are skipped and named, and every page still renders:
lone surrogates, timestamps outside the years a page can convert, and runaway nesting.
"""

import pytest

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.models import Agent, Switch, SyncRun
from netbox_hedgehog.sync import sync_fabric

from .mirror_fixtures import VIEW_ALL
from .sync_fixtures import make_fabric, standin

__all__ = ('make_fabric', 'standin')  # fixtures


def nested(depth):
    value = 'bottom'
    for _ in range(depth):
        value = {'deeper': value}
    return value


@pytest.fixture
def synced(standin, make_fabric):
    fabric = make_fabric(standin)
    assert sync_fabric(fabric.pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS
    return fabric


@pytest.mark.parametrize(('change', 'message'), [
    ({'spec': {'description': 'lone \ud800 surrogate'}}, 'not valid Unicode'),
    ({'labels': {'note': 'lone \udfff'}}, 'not valid Unicode'),
    ({'status': {'deep': nested(200)}}, 'more than 64 levels deep'),
])
def test_text_postgresql_refuses_skips_the_object_and_names_it(standin, synced, change, message):
    standin.patch('switches', 'ds3000-02', **change)
    standin.patch('switches', 'ds3000-01', spec={'description': 'still applied'})
    run = sync_fabric(synced.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert (error['kind'], error['name']) == ('Switch', 'ds3000-02') and message in error['message']
    assert Switch.objects.get(fabric=synced, name='ds3000-01').description == 'still applied'
    # The skipped switch keeps its previous mirror row.
    assert Switch.objects.filter(fabric=synced, name='ds3000-02').exclude(description__contains='lone').exists()


@pytest.mark.parametrize('heartbeat', ['9999-12-31T23:59:59Z', '0001-01-01T00:00:00+14:00', '1000-06-01T00:00:00Z'])
def test_a_timestamp_no_page_can_show_skips_the_object(standin, synced, heartbeat):
    agent = Agent.objects.filter(fabric=synced).order_by('name').first()
    standin.patch('agents', agent.name, status={'lastHeartbeat': heartbeat})
    run = sync_fabric(synced.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert (error['kind'], error['name']) == ('Agent', agent.name)
    assert 'status.lastHeartbeat is outside the years NetBox can show' in error['message']
    assert Agent.objects.get(pk=agent.pk).last_heartbeat == agent.last_heartbeat


def test_a_hostile_name_reaches_the_run_record_cleaned_and_every_page_renders(standin, synced, make_user, client_for):
    vpc = standin.get('vpcs', 'demo-vpc-1')
    standin.upsert({
        'apiVersion': vpc['apiVersion'], 'kind': 'VPC',
        'metadata': {'name': 'bad-\ud800-name', 'creationTimestamp': '9999-12-31T23:59:59Z'}, 'spec': {},
    })
    agent = Agent.objects.filter(fabric=synced).order_by('name').first()
    standin.patch('agents', agent.name, status={'lastHeartbeat': '9999-12-31T23:59:59Z'})
    run = sync_fabric(synced.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    stored = SyncRun.objects.get(pk=run.pk)
    assert sorted(error['name'] for error in stored.errors) == sorted(['bad-?-name', agent.name])
    viewer = client_for(make_user('viewer', *VIEW_ALL, 'netbox_hedgehog.view_syncrun'))
    for url in (synced.get_absolute_url(), stored.get_absolute_url(), '/plugins/hedgehog/sync-runs/',
                '/plugins/hedgehog/vpcs/', '/plugins/hedgehog/agents/', agent.get_absolute_url()):
        response = viewer.get(url)
        assert response.status_code == 200, url
