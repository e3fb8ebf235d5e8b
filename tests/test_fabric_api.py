import json

import pytest
from django.urls import reverse

from netbox_hedgehog.crypto import unseal
from netbox_hedgehog.models import HedgehogFabric

from .certs import ca_certificate_pem
from .conftest import graphql
from .test_fabric_model import KUBECONFIG

TOKEN = 'tok-7f3a-never-show-this'
LIST_URL = '/api/plugins/hedgehog/fabrics/'
ALL = (
    'netbox_hedgehog.view_hedgehogfabric',
    'netbox_hedgehog.add_hedgehogfabric',
    'netbox_hedgehog.change_hedgehogfabric',
    'netbox_hedgehog.delete_hedgehogfabric',
)


def detail_url(pk):
    return f'{LIST_URL}{pk}/'


@pytest.fixture
def admin_api(make_user, api_client_for):
    return api_client_for(make_user('operator', *ALL))


@pytest.fixture
def stored(db):
    return HedgehogFabric.objects.create(
        name='stored', kubernetes_server='https://10.0.0.9:6443', kubernetes_token=TOKEN, sync_interval=120
    )


def snapshot(instance):
    instance.refresh_from_db()
    return {f.attname: getattr(instance, f.attname) for f in HedgehogFabric._meta.concrete_fields}


@pytest.mark.django_db
class TestCrud:
    def test_routes_resolve(self):
        assert reverse('plugins-api:netbox_hedgehog-api:hedgehogfabric-list') == LIST_URL

    def test_create_read_update_delete(self, admin_api):
        response = admin_api.post(
            LIST_URL,
            {'name': 'fab-a', 'kubernetes_server': 'https://10.1.0.1:6443', 'kubernetes_token': TOKEN,
             'kubernetes_ca_cert': ca_certificate_pem(), 'sync_interval': 60},
            format='json',
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body['kubernetes_token_set'] is True
        assert body['kubeconfig_set'] is False
        assert body['sync_status']['value'] == 'never_synced'
        assert body['sync_interval'] == 60
        fabric = HedgehogFabric.objects.get(pk=body['id'])
        assert unseal(fabric.kubernetes_token) == TOKEN

        response = admin_api.get(detail_url(fabric.pk))
        assert response.status_code == 200
        assert response.json()['name'] == 'fab-a'

        response = admin_api.patch(detail_url(fabric.pk), {'sync_interval': 600}, format='json')
        assert response.status_code == 200, response.content
        fabric.refresh_from_db()
        assert fabric.sync_interval == 600
        assert unseal(fabric.kubernetes_token) == TOKEN, 'omitting the token on update keeps it'

        response = admin_api.delete(detail_url(fabric.pk))
        assert response.status_code == 204
        assert not HedgehogFabric.objects.filter(pk=fabric.pk).exists()

    def test_empty_token_clears_it_explicitly(self, admin_api, stored):
        response = admin_api.patch(detail_url(stored.pk), {'kubernetes_token': ''}, format='json')
        assert response.status_code == 200
        assert response.json()['kubernetes_token_set'] is False
        stored.refresh_from_db()
        assert stored.kubernetes_token == ''

    def test_kubeconfig_fabric(self, admin_api):
        response = admin_api.post(LIST_URL, {'name': 'via-kubeconfig', 'kubeconfig': KUBECONFIG}, format='json')
        assert response.status_code == 201, response.content
        assert response.json()['kubeconfig_set'] is True
        assert 'kubeconfig-secret-token' not in response.content.decode()

    def test_sync_state_is_read_only(self, admin_api, stored):
        response = admin_api.patch(
            detail_url(stored.pk),
            {'sync_status': 'in_sync', 'last_sync': '2020-01-01T00:00:00Z', 'sync_error': 'x'},
            format='json',
        )
        assert response.status_code == 200
        stored.refresh_from_db()
        assert stored.sync_status == 'never_synced'
        assert stored.last_sync is None
        assert stored.sync_error == ''

    def test_filters(self, admin_api, stored):
        HedgehogFabric.objects.create(name='other', sync_enabled=False)
        names = [r['name'] for r in admin_api.get(f'{LIST_URL}?sync_enabled=false').json()['results']]
        assert names == ['other']
        names = [r['name'] for r in admin_api.get(f'{LIST_URL}?sync_status=never_synced').json()['results']]
        assert names == ['other', 'stored']


@pytest.mark.django_db
class TestSecretsNeverReturned:
    def test_token_absent_from_every_response(self, admin_api, stored):
        HedgehogFabric.objects.create(name='kc', kubeconfig=KUBECONFIG)
        bodies = [
            admin_api.get(LIST_URL),
            admin_api.get(f'{LIST_URL}?brief=true'),
            admin_api.get(detail_url(stored.pk)),
            admin_api.patch(detail_url(stored.pk), {'description': 'x'}, format='json'),
            admin_api.put(
                detail_url(stored.pk),
                {'name': 'stored', 'kubernetes_server': 'https://10.0.0.9:6443', 'kubernetes_token': TOKEN},
                format='json',
            ),
            admin_api.post(LIST_URL, {'name': 'new', 'kubernetes_token': TOKEN}, format='json'),
            admin_api.post(LIST_URL, {'name': 'bad', 'kubernetes_token': TOKEN, 'sync_interval': 0}, format='json'),
            admin_api.options(LIST_URL),
        ]
        for response in bodies:
            assert response.status_code < 500
            text = response.content.decode()
            assert TOKEN not in text, response.request['REQUEST_METHOD']
            assert 'kubeconfig-secret-token' not in text


@pytest.mark.django_db
class TestBadInput:
    """Each bad value gets a 400 naming the field, and nothing stored changes."""

    @pytest.mark.parametrize(
        ('payload', 'field'),
        [
            ({'sync_interval': 0}, 'sync_interval'),
            ({'sync_interval': -1}, 'sync_interval'),
            ({'sync_interval': 604801}, 'sync_interval'),
            ({'sync_interval': 'abc'}, 'sync_interval'),
            ({'sync_interval': None}, 'sync_interval'),
            ({'kubernetes_server': 'not a url'}, 'kubernetes_server'),
            ({'kubernetes_server': 'ftp://x'}, 'kubernetes_server'),
            ({'kubernetes_ca_cert': 'garbage'}, 'kubernetes_ca_cert'),
            ({'kubernetes_ca_cert': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'},
             'kubernetes_ca_cert'),
            ({'kubernetes_server': '', 'kubeconfig': 'clusters: [unclosed'}, 'kubeconfig'),
            ({'kubernetes_server': '', 'kubeconfig': 'clusters: []\nusers: []'}, 'kubeconfig'),
            ({'kubeconfig': KUBECONFIG}, 'kubeconfig'),
            ({'kubernetes_namespace': 'UPPER'}, 'kubernetes_namespace'),
            ({'name': ''}, 'name'),
            ({'name': 'dup'}, 'name'),
            ({'sync_enabled': 'maybe'}, 'sync_enabled'),
        ],
    )
    def test_update_rejected_and_nothing_changes(self, admin_api, stored, payload, field):
        HedgehogFabric.objects.create(name='dup')
        before = snapshot(stored)
        response = admin_api.patch(detail_url(stored.pk), payload, format='json')
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()
        assert snapshot(stored) == before

    @pytest.mark.parametrize('interval', [0, -1, 604801, 'abc'])
    def test_create_rejected(self, admin_api, interval):
        response = admin_api.post(LIST_URL, {'name': 'x', 'sync_interval': interval}, format='json')
        assert response.status_code == 400
        assert 'sync_interval' in response.json()
        assert not HedgehogFabric.objects.exists()

    def test_duplicate_name_on_create(self, admin_api, stored):
        response = admin_api.post(LIST_URL, {'name': 'stored'}, format='json')
        assert response.status_code == 400
        assert 'name' in response.json()

    def test_malformed_json_body(self, admin_api):
        response = admin_api.generic('POST', LIST_URL, '{"name": ', content_type='application/json')
        assert response.status_code == 400
        assert not HedgehogFabric.objects.exists()


@pytest.mark.django_db
class TestPermissions:
    def test_no_permission(self, make_user, api_client_for, stored):
        client = api_client_for(make_user('nobody'))
        assert client.get(LIST_URL).status_code == 403
        assert client.get(detail_url(stored.pk)).status_code == 403
        assert client.post(LIST_URL, {'name': 'x'}, format='json').status_code == 403

    def test_view_only(self, make_user, api_client_for, stored):
        client = api_client_for(make_user('viewer', 'netbox_hedgehog.view_hedgehogfabric'))
        assert client.get(detail_url(stored.pk)).status_code == 200
        assert client.patch(detail_url(stored.pk), {'sync_interval': 60}, format='json').status_code == 403
        assert client.delete(detail_url(stored.pk)).status_code == 403
        stored.refresh_from_db()
        assert stored.sync_interval == 120

    def test_object_constraints_hide_other_fabrics(self, make_user, api_client_for, stored):
        HedgehogFabric.objects.create(name='hidden')
        client = api_client_for(
            make_user('scoped', 'netbox_hedgehog.view_hedgehogfabric', constraints={'name': 'stored'})
        )
        assert [r['name'] for r in client.get(LIST_URL).json()['results']] == ['stored']
        hidden = HedgehogFabric.objects.get(name='hidden')
        assert client.get(detail_url(hidden.pk)).status_code == 404


@pytest.mark.django_db
class TestGraphQL:
    def test_fabric_fields_without_secrets(self, make_user, api_client_for, stored):
        client = api_client_for(make_user('gql', 'netbox_hedgehog.view_hedgehogfabric'))
        body = graphql(
            client,
            '{ hedgehog_fabric_list { name sync_interval sync_status kubernetes_token_set kubeconfig_set } }',
        )
        assert body['data']['hedgehog_fabric_list'] == [
            {'name': 'stored', 'sync_interval': 120, 'sync_status': 'never_synced', 'kubernetes_token_set': True,
             'kubeconfig_set': False}
        ]

    def test_token_is_not_queryable(self, make_user, api_client_for, stored):
        client = api_client_for(make_user('gql', 'netbox_hedgehog.view_hedgehogfabric'))
        body = graphql(client, '{ hedgehog_fabric_list { name kubernetes_token } }')
        assert 'errors' in body
        assert TOKEN not in json.dumps(body)


@pytest.mark.django_db
class TestChangeLogCensorsSecrets:
    """The change log, and everything built on NetBox's object serialization, never holds a secret."""

    def test_create_and_rotate_token(self, make_user, api_client_for):
        client = api_client_for(make_user('auditor', *ALL, 'core.view_objectchange'))
        response = client.post(LIST_URL, {'name': 'audited', 'kubernetes_token': TOKEN}, format='json')
        pk = response.json()['id']
        client.patch(detail_url(pk), {'kubernetes_token': 'rotated-secret-value'}, format='json')
        client.patch(detail_url(pk), {'kubeconfig': '', 'kubernetes_server': '', 'description': 'x'}, format='json')

        changes = client.get('/api/core/object-changes/?changed_object_type=netbox_hedgehog.hedgehogfabric').json()
        text = json.dumps(changes)
        assert changes['count'] == 3
        assert TOKEN not in text
        assert 'rotated-secret-value' not in text
        tokens = [c['postchange_data']['kubernetes_token'] for c in reversed(changes['results'])]
        assert tokens == ['********', '***CHANGED***', '********']
