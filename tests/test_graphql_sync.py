import json

import pytest
from django.utils import timezone

from netbox_hedgehog.models import HedgehogFabric, SyncRun

from .conftest import graphql

TOKEN = 'tok-gql-20aa-never-show-this'


def query(client, text):
    body = graphql(client, text)
    assert TOKEN not in json.dumps(body)
    return body


@pytest.fixture
def run(db):
    fabric = HedgehogFabric.objects.create(name='gql-fabric', kubernetes_token=TOKEN)
    return SyncRun.objects.create(fabric=fabric, trigger='manual', outcome='success', started=timezone.now(),
                                  duration=1.5, counts={'Switch': {'created': 1}})


@pytest.mark.django_db
class TestSyncRunGraphQL:
    def test_list_and_single(self, make_user, api_client_for, run):
        client = api_client_for(make_user('gql', 'netbox_hedgehog.view_syncrun', 'netbox_hedgehog.view_hedgehogfabric'))
        body = query(client, '{ hedgehog_sync_run_list { id trigger outcome duration counts fabric { name } } }')
        assert body['data']['hedgehog_sync_run_list'] == [
            {'id': str(run.pk), 'trigger': 'manual', 'outcome': 'success', 'duration': 1.5,
             'counts': {'Switch': {'created': 1}}, 'fabric': {'name': 'gql-fabric'}}
        ]
        body = query(client, f'{{ hedgehog_sync_run(id: {run.pk}) {{ outcome errors not_installed }} }}')
        assert body['data']['hedgehog_sync_run'] == {'outcome': 'success', 'errors': [], 'not_installed': []}

    def test_filter_by_outcome(self, make_user, api_client_for, run):
        failed = SyncRun.objects.create(fabric=run.fabric, trigger='scheduled', outcome='failed',
                                        started=timezone.now(), errors=[{'kind': '', 'name': '', 'message': 'gone'}])
        client = api_client_for(make_user('gql', 'netbox_hedgehog.view_syncrun', 'netbox_hedgehog.view_hedgehogfabric'))
        body = query(client, '{ hedgehog_sync_run_list(filters: {outcome: {exact: "failed"}}) { id } }')
        assert body['data']['hedgehog_sync_run_list'] == [{'id': str(failed.pk)}]
        body = query(client, '{ hedgehog_sync_run_list(filters: {outcome: {exact: "success"}}) { id } }')
        assert body['data']['hedgehog_sync_run_list'] == [{'id': str(run.pk)}]
        body = query(client, '{ hedgehog_sync_run_list(filters: {outcome: {exact: "partial"}}) { id } }')
        assert body['data']['hedgehog_sync_run_list'] == []

    def test_runs_of_a_fabric(self, make_user, api_client_for, run):
        client = api_client_for(make_user('gql', 'netbox_hedgehog.view_syncrun', 'netbox_hedgehog.view_hedgehogfabric'))
        body = query(client, '{ hedgehog_fabric_list { name sync_runs { outcome } } }')
        assert body['data']['hedgehog_fabric_list'] == [{'name': 'gql-fabric', 'sync_runs': [{'outcome': 'success'}]}]

    def test_permission_is_enforced(self, make_user, api_client_for, run):
        client = api_client_for(make_user('fabric-only', 'netbox_hedgehog.view_hedgehogfabric'))
        body = query(client, '{ hedgehog_sync_run_list { id } }')
        assert body['data']['hedgehog_sync_run_list'] == []
        body = query(client, '{ hedgehog_fabric_list { name sync_runs { outcome } } }')
        assert body['data']['hedgehog_fabric_list'] == [{'name': 'gql-fabric', 'sync_runs': []}]
