"""
Sync runs and mirrored objects are visible only to users who may view their fabric: pages, REST (nested fabric
included), GraphQL (each type's fabric included), global search, and the fabric's two POST actions.
"""


import pytest
from django.urls import reverse

from netbox_hedgehog.models import HedgehogFabric, Switch, SyncRun

from .conftest import graphql

SWITCH = 'ds3000-01'
# View on runs and switches, none on fabrics.
RUNS_AND_SWITCHES = ('netbox_hedgehog.view_syncrun', 'netbox_hedgehog.view_switch')
API = '/api/plugins/hedgehog'


@pytest.fixture
def switch(mirrored_fabric):
    return Switch.objects.get(fabric=mirrored_fabric, name=SWITCH)


@pytest.fixture
def run(mirrored_fabric):
    return SyncRun.objects.filter(fabric=mirrored_fabric).latest('started')


@pytest.fixture
def users(make_user, mirrored_fabric):
    """The same runs-and-switches permissions, without the fabric, with it, and with it under constraints."""
    return {
        'no-fabric': make_user('no-fabric', *RUNS_AND_SWITCHES),
        'fabric': make_user('fabric', *RUNS_AND_SWITCHES, 'netbox_hedgehog.view_hedgehogfabric'),
        'other-fabric': _constrained(make_user, 'other-fabric', {'name': 'some-other-fabric'}),
        'this-fabric': _constrained(make_user, 'this-fabric', {'name': mirrored_fabric.name}),
    }


def _constrained(make_user, username, constraints):
    from .conftest import grant

    user = make_user(username, *RUNS_AND_SWITCHES)
    grant(user, 'netbox_hedgehog.view_hedgehogfabric', constraints=constraints)
    return user


SEES = {'no-fabric': False, 'fabric': True, 'other-fabric': False, 'this-fabric': True}


@pytest.mark.parametrize('who', SEES)
def test_list_and_detail_pages(who, users, switch, run, client_for):
    client = client_for(users[who])
    switches = client.get(reverse('plugins:netbox_hedgehog:switch_list')).content.decode()
    runs = client.get(reverse('plugins:netbox_hedgehog:syncrun_list')).content.decode()
    assert (switch.get_absolute_url() in switches) is SEES[who]
    assert (run.get_absolute_url() in runs) is SEES[who]
    assert client.get(switch.get_absolute_url()).status_code == (200 if SEES[who] else 404)
    assert client.get(run.get_absolute_url()).status_code == (200 if SEES[who] else 404)


@pytest.mark.parametrize('who', SEES)
def test_rest(who, users, switch, run, api_client_for):
    client = api_client_for(users[who])
    switches = client.get(f'{API}/switches/').json()
    runs = client.get(f'{API}/sync-runs/').json()
    assert (SWITCH in {row['name'] for row in switches['results']}) is SEES[who]
    assert (run.pk in {row['id'] for row in runs['results']}) is SEES[who]
    detail = client.get(f'{API}/switches/{switch.pk}/')
    assert detail.status_code == (200 if SEES[who] else 404)
    run_detail = client.get(f'{API}/sync-runs/{run.pk}/')
    assert run_detail.status_code == (200 if SEES[who] else 404)
    if SEES[who]:
        assert detail.json()['fabric']['name'] == switch.fabric.name
        assert run_detail.json()['fabric']['name'] == switch.fabric.name


@pytest.mark.parametrize('who', SEES)
def test_graphql(who, users, switch, run, api_client_for):
    client = api_client_for(users[who])
    body = graphql(client, '{ hedgehog_switch_list { name fabric { name } } '
                           'hedgehog_sync_run_list { id fabric { name } } }')
    switches = body['data']['hedgehog_switch_list']
    runs = body['data']['hedgehog_sync_run_list']
    if SEES[who]:
        assert {'name': SWITCH, 'fabric': {'name': switch.fabric.name}} in switches
        assert {'id': str(run.pk), 'fabric': {'name': switch.fabric.name}} in runs
    else:
        assert switches == [] and runs == []
    single = graphql(client, f'{{ hedgehog_switch(id: {switch.pk}) {{ name fabric {{ name }} }} }}')
    assert (single.get('data') or {}).get('hedgehog_switch') == (
        {'name': SWITCH, 'fabric': {'name': switch.fabric.name}} if SEES[who] else None
    )


@pytest.mark.parametrize('who', SEES)
def test_global_search(who, users, switch, client_for):
    page = client_for(users[who]).get(f'/search/?q={SWITCH}').content.decode()
    assert (switch.get_absolute_url() in page) is SEES[who]


@pytest.mark.parametrize('action', ['sync', 'test_connection'])
def test_ui_actions_need_view_on_the_fabric(action, make_user, mirrored_fabric, client_for):
    url = reverse(f'plugins:netbox_hedgehog:hedgehogfabric_{action}', args=[mirrored_fabric.pk])
    blind = make_user('blind-syncer', 'netbox_hedgehog.sync_hedgehogfabric')
    assert client_for(blind).post(url).status_code == 404
    # The same permission with view does reach the action (a redirect back to the fabric's page).
    seeing = make_user('seeing-syncer', 'netbox_hedgehog.sync_hedgehogfabric', 'netbox_hedgehog.view_hedgehogfabric')
    assert client_for(seeing).post(url).status_code == 302


def test_fabric_restriction_follows_constraints_per_fabric(users, mirrored_fabric):
    """Two fabrics: a user whose view permission names one sees only that one's runs."""
    other = HedgehogFabric.objects.create(name='some-other-fabric', sync_enabled=False)
    other_run = SyncRun.objects.create(fabric=other, trigger='manual', outcome='success', started=other.created)
    visible = set(SyncRun.objects.restrict(users['other-fabric'], 'view').values_list('fabric__name', flat=True))
    assert visible == {'some-other-fabric'}
    visible = set(SyncRun.objects.restrict(users['this-fabric'], 'view').values_list('fabric__name', flat=True))
    assert visible == {mirrored_fabric.name}
    assert other_run.pk not in SyncRun.objects.restrict(users['this-fabric'], 'view').values_list('pk', flat=True)
