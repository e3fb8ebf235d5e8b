"""REST: the sync action, run records and the scheduler status, with NetBox object permissions."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from users.models import Token

from netbox_hedgehog.models import HedgehogFabric, SchedulerHeartbeat, SyncRun

from .conftest import FABRIC_TOKEN, VIEW_SYNC, grant

FABRICS = '/api/plugins/hedgehog/fabrics/'
RUNS = '/api/plugins/hedgehog/sync-runs/'
SCHEDULER = '/api/plugins/hedgehog/scheduler/'


@pytest.fixture
def runs(fabric):
    other = HedgehogFabric.objects.create(name='other-fabric')
    now = timezone.now()
    return [
        SyncRun.objects.create(fabric=fabric, trigger='scheduled', outcome='success', started=now,
                               counts={'Switch': {'created': 2}}),
        SyncRun.objects.create(fabric=fabric, trigger='manual', outcome='failed', started=now - timedelta(minutes=1),
                               errors=[{'kind': '', 'name': '', 'message': 'connection refused'}]),
        SyncRun.objects.create(fabric=other, trigger='manual', outcome='success', started=now),
    ]


@pytest.mark.django_db
class TestSyncAction:
    @pytest.mark.parametrize('permission', ['sync_hedgehogfabric', 'change_hedgehogfabric'])
    def test_queued_with_sync_or_change(self, make_user, api_client_for, fabric, leader, permission, sync_notices):
        client = api_client_for(make_user('operator', *VIEW_SYNC, f'netbox_hedgehog.{permission}'))
        response = client.post(f'{FABRICS}{fabric.pk}/sync/')
        assert response.status_code == 202, response.content
        body = response.json()
        assert body['scheduler_running'] is True
        assert 'queued; the scheduler will start it within a few seconds' in body['detail']
        assert body['fabric']['name'] == 'live-fabric'
        assert body['notice']['action'] == 'sync_now'
        assert sync_notices(fabric).count() == 1
        assert FABRIC_TOKEN not in response.content.decode()

    def test_queued_without_scheduler_says_so(self, make_user, api_client_for, fabric, sync_notices):
        client = api_client_for(make_user('operator', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        body = client.post(f'{FABRICS}{fabric.pk}/sync/').json()
        assert body['scheduler_running'] is False
        assert 'netbox hedgehog_scheduler' in body['detail']
        assert sync_notices(fabric).count() == 1

    def test_view_only_gets_403(self, make_user, api_client_for, fabric, sync_notices):
        client = api_client_for(make_user('viewer', *VIEW_SYNC))
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()

    def test_add_permission_is_not_enough(self, make_user, api_client_for, fabric, sync_notices):
        client = api_client_for(make_user('adder', *VIEW_SYNC, 'netbox_hedgehog.add_hedgehogfabric'))
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()

    def test_constraint_covers_other_fabric_only(self, make_user, api_client_for, fabric, sync_notices):
        other = HedgehogFabric.objects.create(name='other', kubernetes_server='https://10.0.0.6:6443')
        user = make_user('scoped', *VIEW_SYNC)
        grant(user, 'netbox_hedgehog.sync_hedgehogfabric', constraints={'name': 'other'})
        client = api_client_for(user)
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert client.post(f'{FABRICS}{other.pk}/sync/').status_code == 202
        assert not sync_notices(fabric).exists()

    def test_read_only_token_is_refused(self, make_user, api_client_for, fabric, sync_notices):
        client = api_client_for(make_user('operator', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        Token.objects.update(write_enabled=False)
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()

    def test_unknown_fabric_is_404(self, make_user, api_client_for, db):
        client = api_client_for(make_user('operator', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        assert client.post(f'{FABRICS}999999/sync/').status_code == 404

    def test_fabric_without_connection_is_400(self, make_user, api_client_for, db, sync_notices):
        bare = HedgehogFabric.objects.create(name='bare')
        client = api_client_for(make_user('operator', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        response = client.post(f'{FABRICS}{bare.pk}/sync/')
        assert response.status_code == 400
        assert 'no Kubernetes connection' in response.json()['detail']
        assert not sync_notices(bare).exists()

    def test_get_is_not_allowed(self, make_user, api_client_for, fabric):
        client = api_client_for(make_user('operator', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        assert client.get(f'{FABRICS}{fabric.pk}/sync/').status_code == 405

    def test_anonymous(self, fabric, sync_notices):
        from rest_framework.test import APIClient

        assert APIClient().post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()


@pytest.mark.django_db
class TestSyncRuns:
    def test_list_filtered_by_fabric(self, make_user, api_client_for, fabric, runs):
        client = api_client_for(make_user('viewer', *VIEW_SYNC))
        body = client.get(f'{RUNS}?fabric_id={fabric.pk}').json()
        assert body['count'] == 2
        first = body['results'][0]
        assert first['fabric']['name'] == 'live-fabric'
        assert first['outcome']['value'] == 'success'
        assert first['trigger']['value'] == 'scheduled'
        assert first['counts'] == {'Switch': {'created': 2}}
        assert FABRIC_TOKEN not in json.dumps(body)

    @pytest.mark.parametrize(('query', 'count'), [('outcome=failed', 1), ('trigger=scheduled', 1),
                                                  ('fabric=other-fabric', 1), ('q=refused', 1), ('', 3)])
    def test_filters(self, make_user, api_client_for, runs, query, count):
        client = api_client_for(make_user('viewer', *VIEW_SYNC))
        assert client.get(f'{RUNS}?{query}').json()['count'] == count

    def test_retrieve(self, make_user, api_client_for, runs):
        client = api_client_for(make_user('viewer', *VIEW_SYNC))
        body = client.get(f'{RUNS}{runs[1].pk}/').json()
        assert body['errors'] == [{'kind': '', 'name': '', 'message': 'connection refused'}]

    def test_read_only(self, make_user, api_client_for, runs):
        client = api_client_for(make_user('all', *VIEW_SYNC, 'netbox_hedgehog.add_syncrun',
                                          'netbox_hedgehog.change_syncrun', 'netbox_hedgehog.delete_syncrun'))
        assert client.post(RUNS, {'fabric': runs[0].fabric_id}, format='json').status_code == 405
        assert client.patch(f'{RUNS}{runs[0].pk}/', {'outcome': 'failed'}, format='json').status_code == 405
        assert client.delete(f'{RUNS}{runs[0].pk}/').status_code == 405
        assert SyncRun.objects.count() == 3

    def test_permissions(self, make_user, api_client_for, runs):
        assert api_client_for(make_user('nobody')).get(RUNS).status_code == 403
        user = make_user('scoped', 'netbox_hedgehog.view_syncrun', constraints={'fabric__name': 'other-fabric'})
        scoped = api_client_for(user)
        # Runs are visible only with view on their fabric too (tests/test_fabric_scope.py covers every path).
        assert scoped.get(RUNS).json()['count'] == 0
        grant(user, 'netbox_hedgehog.view_hedgehogfabric')
        assert scoped.get(RUNS).json()['count'] == 1
        assert scoped.get(f'{RUNS}{runs[0].pk}/').status_code == 404


@pytest.mark.django_db
class TestScheduler:
    def test_with_leader(self, make_user, api_client_for, leader):
        SchedulerHeartbeat.objects.create(
            instance_id='standby-1', hostname='sched-host-2', pid=77, role='standby', started=timezone.now(),
            last_beat=timezone.now(),
        )
        client = api_client_for(make_user('viewer', *VIEW_SYNC))
        SchedulerHeartbeat.objects.filter(pk=leader.pk).update(last_beat=timezone.now() - timedelta(seconds=5))
        body = client.get(SCHEDULER).json()
        assert body['running'] is True
        assert body['leader']['hostname'] == 'sched-host'
        assert body['leader']['pid'] == 4242
        assert body['heartbeat_age'] >= 5
        assert [s['hostname'] for s in body['standbys']] == ['sched-host-2']
        assert body['job_count'] == 0
        assert body['stopped_since'] is None

    def test_without_scheduler(self, make_user, api_client_for, leader):
        SchedulerHeartbeat.objects.update(last_beat=timezone.now() - timedelta(minutes=5))
        body = api_client_for(make_user('viewer', *VIEW_SYNC)).get(SCHEDULER).json()
        assert body['running'] is False
        assert body['healthy'] is False
        assert body['leader'] is None
        assert body['stopped_since'] is not None
        assert 'has not beaten' in body['problem']

    def test_needs_permission(self, make_user, api_client_for, db):
        client = api_client_for(make_user('fabric-only', 'netbox_hedgehog.view_hedgehogfabric'))
        assert client.get(SCHEDULER).status_code == 403
