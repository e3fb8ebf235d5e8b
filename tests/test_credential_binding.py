"""
A fabric's credentials go only to the endpoint they were entered for. Changing the server URL, the CA, Skip TLS
verification (or the cluster, which lives in the kubeconfig) without entering the credentials again is refused on
every write path, with a field error and nothing stored. A loopback server records every Authorization header it
receives, to show that the stored token never reaches it.
"""

import json

import pytest
import yaml
from django.test import Client

from netbox_hedgehog.crypto import unseal
from netbox_hedgehog.models import HedgehogFabric

from .certs import ca_certificate_pem
from .recording_server import RecordingServer
from .sync_fixtures import TOKEN, make_fabric, standin

__all__ = ('make_fabric', 'standin')  # fixtures

NEW_TOKEN = 'entered-for-the-new-server-5b1d'
TOKEN_ERROR = 're-enter the token to send it to a new server'
KUBECONFIG_ERROR = 're-enter the kubeconfig to send its credentials to a new server'
API = '/api/plugins/hedgehog/fabrics/'
UI = '/plugins/hedgehog/fabrics/'
EDITOR = (
    'netbox_hedgehog.view_hedgehogfabric',
    'netbox_hedgehog.add_hedgehogfabric',
    'netbox_hedgehog.change_hedgehogfabric',
    'netbox_hedgehog.sync_hedgehogfabric',
)


@pytest.fixture
def elsewhere():
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def fabric(standin, make_fabric):
    return make_fabric(standin, name='bound-fabric')


@pytest.fixture
def editor(make_user):
    return make_user('editor', *EDITOR)


@pytest.fixture
def ui(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def api(editor, api_client_for):
    return api_client_for(editor)


def stored(fabric):
    """(server, CA, skip TLS verification, token) as stored."""
    fabric = HedgehogFabric.objects.get(pk=fabric.pk)
    return (fabric.kubernetes_server, fabric.kubernetes_ca_cert, fabric.kubernetes_skip_tls_verify,
            unseal(fabric.kubernetes_token))


def run_connection_test(api, fabric):
    response = api.post(f'{API}{fabric.pk}/test-connection/')
    assert response.status_code == 200, response.content
    return response.json()


def edit_form(fabric, **overrides):
    data = {
        'name': fabric.name,
        'kubernetes_server': fabric.kubernetes_server,
        'kubernetes_token': '',
        'kubernetes_ca_cert': fabric.kubernetes_ca_cert,
        'kubernetes_namespace': fabric.kubernetes_namespace,
        'sync_interval': str(fabric.sync_interval),
        'inventory_orphans': fabric.inventory_orphans,
    }
    if fabric.kubernetes_skip_tls_verify:
        data['kubernetes_skip_tls_verify'] = 'on'
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


ENDPOINT_CHANGES = {
    'server': lambda elsewhere: {'kubernetes_server': elsewhere.url},
    'ca': lambda elsewhere: {'kubernetes_ca_cert': ca_certificate_pem()},
    'skip_tls_verify': lambda elsewhere: {'kubernetes_skip_tls_verify': True},
}


#
# Edit form
#


@pytest.mark.parametrize('change', ENDPOINT_CHANGES)
def test_edit_form_refuses_a_new_endpoint_without_the_token(change, ui, api, fabric, elsewhere):
    before = stored(fabric)
    changes = ENDPOINT_CHANGES[change](elsewhere)
    if 'kubernetes_skip_tls_verify' in changes:
        changes['kubernetes_skip_tls_verify'] = 'on'
    response = ui.post(f'{UI}{fabric.pk}/edit/', edit_form(fabric, **changes))
    assert response.status_code == 200
    assert TOKEN_ERROR in response.content.decode()
    assert stored(fabric) == before
    run_connection_test(api, fabric)
    assert elsewhere.authorizations == []


def test_edit_form_with_the_token_entered_again_moves_the_fabric(ui, api, fabric, elsewhere):
    response = ui.post(f'{UI}{fabric.pk}/edit/',
                       edit_form(fabric, kubernetes_server=elsewhere.url, kubernetes_token=NEW_TOKEN))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(fabric)[0] == elsewhere.url
    run_connection_test(api, fabric)
    # Only the token entered for the new server ever reached it.
    assert elsewhere.authorizations and set(elsewhere.authorizations) == {f'Bearer {NEW_TOKEN}'}


def test_edit_form_without_an_endpoint_change_keeps_the_token(ui, fabric):
    response = ui.post(f'{UI}{fabric.pk}/edit/', edit_form(fabric, sync_interval='45'))
    assert response.status_code == 302
    assert stored(fabric)[3] == TOKEN
    assert HedgehogFabric.objects.get(pk=fabric.pk).sync_interval == 45


def test_a_ca_pasted_again_with_other_line_endings_is_no_change(ui, make_fabric, standin):
    ca = ca_certificate_pem()
    fabric = make_fabric(standin, name='ca-fabric', kubernetes_ca_cert=ca)
    response = ui.post(f'{UI}{fabric.pk}/edit/', edit_form(fabric, kubernetes_ca_cert=ca.replace('\n', '\r\n')))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(fabric)[3] == TOKEN


#
# Bulk edit and import
#


def test_bulk_edit_refuses_skip_tls_verification_without_the_token(ui, fabric):
    before = stored(fabric)
    response = ui.post(f'{UI}edit/', {
        'pk': [fabric.pk], '_apply': '1', 'kubernetes_skip_tls_verify': 'true',
    }, follow=True)
    assert TOKEN_ERROR in response.content.decode()
    assert stored(fabric) == before


@pytest.mark.parametrize('data_format', ['csv', 'yaml'])
def test_import_refuses_a_new_server_without_the_token(data_format, ui, api, fabric, elsewhere):
    before = stored(fabric)
    if data_format == 'csv':
        data = f'id,kubernetes_server\n{fabric.pk},{elsewhere.url}\n'
    else:
        data = yaml.safe_dump([{'id': fabric.pk, 'kubernetes_server': elsewhere.url}])
    response = ui.post(f'{UI}import/', {'data': data, 'format': data_format, 'csv_delimiter': ','})
    assert response.status_code == 200
    assert TOKEN_ERROR in response.content.decode()
    assert stored(fabric) == before
    run_connection_test(api, fabric)
    assert elsewhere.authorizations == []


def test_import_with_the_token_moves_the_fabric(ui, fabric, elsewhere):
    data = f'id,kubernetes_server,kubernetes_token\n{fabric.pk},{elsewhere.url},{NEW_TOKEN}\n'
    response = ui.post(f'{UI}import/', {'data': data, 'format': 'csv', 'csv_delimiter': ','})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(fabric)[0::3] == (elsewhere.url, NEW_TOKEN)


#
# REST
#


@pytest.mark.parametrize('change', ENDPOINT_CHANGES)
def test_rest_patch_refuses_a_new_endpoint_without_the_token(change, api, fabric, elsewhere):
    before = stored(fabric)
    response = api.patch(f'{API}{fabric.pk}/', ENDPOINT_CHANGES[change](elsewhere), format='json')
    assert response.status_code == 400, response.content
    assert TOKEN_ERROR in ' '.join(response.json()['kubernetes_token'])
    assert stored(fabric) == before
    run_connection_test(api, fabric)
    assert elsewhere.authorizations == []


def test_rest_put_refuses_a_new_server_without_the_token(api, fabric, elsewhere):
    before = stored(fabric)
    response = api.put(f'{API}{fabric.pk}/', {'name': fabric.name, 'kubernetes_server': elsewhere.url},
                       format='json')
    assert response.status_code == 400, response.content
    assert TOKEN_ERROR in ' '.join(response.json()['kubernetes_token'])
    assert stored(fabric) == before


def test_rest_bulk_update_refuses_a_new_server_without_the_token(api, fabric, elsewhere):
    before = stored(fabric)
    response = api.patch(API, [{'id': fabric.pk, 'kubernetes_server': elsewhere.url}], format='json')
    assert response.status_code == 400, response.content
    assert TOKEN_ERROR in json.dumps(response.json())
    assert stored(fabric) == before


def test_rest_patch_with_the_token_moves_the_fabric(api, fabric, elsewhere):
    response = api.patch(f'{API}{fabric.pk}/', {'kubernetes_server': elsewhere.url, 'kubernetes_token': NEW_TOKEN},
                         format='json')
    assert response.status_code == 200, response.content
    run_connection_test(api, fabric)
    assert elsewhere.authorizations and set(elsewhere.authorizations) == {f'Bearer {NEW_TOKEN}'}


def test_rest_patch_clearing_the_token_may_change_the_server(api, fabric, elsewhere):
    response = api.patch(f'{API}{fabric.pk}/', {'kubernetes_server': elsewhere.url, 'kubernetes_token': ''},
                         format='json')
    assert response.status_code == 200, response.content
    run_connection_test(api, fabric)
    assert elsewhere.authorizations and set(elsewhere.authorizations) == {None}


def test_a_kubeconfig_fabric_refuses_skip_tls_verification_without_the_kubeconfig(api, make_fabric, standin):
    fabric = make_fabric(name='kubeconfig-fabric', kubeconfig=yaml.safe_dump(standin.kubeconfig()))
    response = api.patch(f'{API}{fabric.pk}/', {'kubernetes_skip_tls_verify': True}, format='json')
    assert response.status_code == 400, response.content
    assert KUBECONFIG_ERROR in ' '.join(response.json()['kubeconfig'])
    assert HedgehogFabric.objects.get(pk=fabric.pk).kubernetes_skip_tls_verify is False
