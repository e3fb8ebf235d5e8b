"""
What a fabric may be saved with and connect to: server URLs, tokens and kubeconfigs are validated at save (a field
error, never a 500, nothing stored), with the same rules a connection applies, and the server's addresses are
checked against allowed_server_networks both at save and at connect time.
"""

import base64

import pytest
import yaml

from netbox_hedgehog.kube.client import FabricAPIError, fabric_api
from netbox_hedgehog.models import HedgehogFabric

from .recording_server import RecordingServer
from .sync_fixtures import TOKEN, make_fabric, plugin_settings

__all__ = ('make_fabric',)  # fixtures

API = '/api/plugins/hedgehog/fabrics/'


@pytest.fixture
def api(admin_user, api_client_for):
    return api_client_for(admin_user)


@pytest.fixture
def recorder():
    server = RecordingServer().start()
    yield server
    server.stop()


def create(api, **fields):
    return api.post(API, {'name': 'checked', **fields}, format='json')


def refused(response, field, text=''):
    assert response.status_code == 400, response.content
    messages = ' '.join(response.json()[field])
    assert text in messages, messages
    assert not HedgehogFabric.objects.filter(name='checked').exists()
    return messages


#
# Server URL
#


@pytest.mark.django_db
@pytest.mark.parametrize(('url', 'text'), [
    ('https://admin:pw@10.0.0.1:6443', 'user information'),
    ('https://10.0.0.1:6443/?x=1', 'query'),
    ('https://10.0.0.1:6443#', 'fragment'),
    ('https://10.0.0.1:6443/apis#/evil', 'fragment'),
    ('ftp://10.0.0.1', 'https://host'),
    ('10.0.0.1:6443', 'https://host'),
    ('https://10.0.0.1:99999', ''),
])
def test_server_urls_refused(api, url, text):
    refused(create(api, kubernetes_server=url, kubernetes_token=TOKEN), 'kubernetes_server', text)


@pytest.mark.django_db
@pytest.mark.parametrize('url', ['https://10.0.0.1:6443', 'https://10.0.0.1', 'https://10.0.0.1:6443/k8s/clusters/c1',
                                 'https://127.0.0.1:6443', 'https://[2001:db8::1]:6443'])
def test_server_urls_accepted(api, url):
    response = create(api, kubernetes_server=url, kubernetes_token=TOKEN)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_plain_http_only_with_allow_plain_http(api):
    with plugin_settings(allow_plain_http=False):
        refused(create(api, kubernetes_server='http://10.0.0.1:6443', kubernetes_token=TOKEN), 'kubernetes_server',
                'https://')
    with plugin_settings(allow_plain_http=True):
        assert create(api, kubernetes_server='http://10.0.0.1:6443').status_code == 201


#
# Networks
#


@pytest.mark.django_db
@pytest.mark.parametrize('url', ['https://169.254.169.254', 'https://[fe80::1]:6443', 'https://[::ffff:169.254.169.254]'])
def test_link_local_is_refused_unless_listed(api, url):
    refused(create(api, kubernetes_server=url), 'kubernetes_server', 'link-local')
    with plugin_settings(allowed_server_networks=['169.254.0.0/16', 'fe80::/10']):
        assert create(api, kubernetes_server=url).status_code == 201


@pytest.mark.django_db
def test_allowed_server_networks_at_save(api):
    with plugin_settings(allowed_server_networks=['10.0.0.0/8']):
        refused(create(api, kubernetes_server='https://192.168.1.1:6443'), 'kubernetes_server',
                'outside allowed_server_networks')
        # A name is checked by what it resolves to.
        refused(create(api, kubernetes_server='https://localhost:6443'), 'kubernetes_server',
                'outside allowed_server_networks')
        # A name that does not resolve yet is let through at save; the connection checks it again.
        assert create(api, kubernetes_server='https://not-yet.invalid:6443').status_code == 201


@pytest.mark.django_db
def test_allowed_server_networks_at_connect_time(api, make_fabric, recorder):
    # Saved while loopback was allowed (or before the setting was narrowed), then the policy changed.
    fabric = make_fabric(recorder, name='narrowed')
    with plugin_settings(allowed_server_networks=['10.0.0.0/8']):
        response = api.post(f'{API}{fabric.pk}/test-connection/')
    assert response.status_code == 200
    assert 'outside allowed_server_networks' in response.json()['error']
    assert recorder.authorizations == []
    response = api.post(f'{API}{fabric.pk}/test-connection/')
    assert recorder.authorizations and set(recorder.authorizations) == {f'Bearer {TOKEN}'}


@pytest.mark.django_db
def test_a_name_is_resolved_and_checked_at_connect_time(api, make_fabric, recorder):
    port = recorder.url.rsplit(':', 1)[1]
    fabric = make_fabric(name='by-name', kubernetes_server=f'http://localhost:{port}', kubernetes_token=TOKEN)
    with plugin_settings(allowed_server_networks=['10.0.0.0/8']):
        response = api.post(f'{API}{fabric.pk}/test-connection/')
    assert 'outside allowed_server_networks' in response.json()['error']
    assert recorder.authorizations == []


@pytest.mark.django_db
def test_every_new_connection_checks_the_address_it_reached(make_fabric, recorder):
    """
    The name was checked when the connection was built, but urllib3 resolves it again for every new socket, and
    it may then answer another address (DNS rebinding): the address actually reached is checked before any byte
    is sent. Here the answer changes by the policy narrowing in between, which takes the same path.
    """
    port = recorder.url.rsplit(':', 1)[1]
    fabric = make_fabric(name='rebound', kubernetes_server=f'http://localhost:{port}', kubernetes_token=TOKEN)
    with fabric_api(fabric) as api:
        with plugin_settings(allowed_server_networks=['10.0.0.0/8']):
            with pytest.raises(FabricAPIError, match='outside allowed_server_networks'):
                api.version()
        assert recorder.authorizations == []
        api.version()
    assert recorder.authorizations == [f'Bearer {TOKEN}']


#
# Token
#


@pytest.mark.django_db
@pytest.mark.parametrize(('token', 'message'), [
    ('two words', 'printable ASCII'),
    ('line\nbreak', 'printable ASCII'),
    ('tab\tinside', 'printable ASCII'),
    ('caf\u00e9-token', 'printable ASCII'),
    ('x' * 20000, 'printable ASCII'),
    ('nul\x00byte', 'Null characters'),  # refused by the REST framework before the model sees it
])
def test_tokens_refused(api, token, message):
    refused(create(api, kubernetes_server='https://10.0.0.1:6443', kubernetes_token=token), 'kubernetes_token',
            message)


#
# Kubeconfig
#


def kubeconfig(cluster=None, user=None, **top):
    document = {
        'clusters': [{'name': 'c', 'cluster': {'server': 'https://10.0.0.1:6443', **(cluster or {})}}],
        'users': [{'name': 'u', 'user': {'token': TOKEN, **(user or {})}}],
        'contexts': [{'name': 'x', 'context': {'cluster': 'c', 'user': 'u'}}],
        **top,
    }
    return yaml.safe_dump(document)


PEM = base64.b64encode(b'-----BEGIN CERTIFICATE-----\n').decode()


@pytest.mark.django_db
@pytest.mark.parametrize(('text', 'message'), [
    (kubeconfig(user={'exec': {'command': '/bin/sh', 'args': ['-c', 'id']}}), 'exec'),
    (kubeconfig(user={'auth-provider': {'name': 'oidc'}}), 'auth-provider'),
    (kubeconfig(user={'tokenFile': '/etc/netbox/config/configuration.py'}), 'tokenFile'),
    (kubeconfig(cluster={'certificate-authority': '/etc/ssl/private/key.pem'}), 'certificate-authority'),
    (kubeconfig(user={'client-certificate': '/etc/passwd', 'client-key': '/etc/shadow'}), 'client-certificate'),
    (kubeconfig(user={'client-key': '/etc/shadow'}), 'client-key'),
    (kubeconfig(cluster={'insecure-skip-tls-verify': 'false'}), 'true or false'),
    (kubeconfig(cluster={'insecure-skip-tls-verify': 1}), 'true or false'),
    (kubeconfig(cluster={'server': 'https://u:p@10.0.0.1'}), 'user information'),
    (kubeconfig(cluster={'server': 'https://169.254.169.254'}), 'link-local'),
    (kubeconfig(user={'token': 'two words'}), 'printable ASCII'),
    (kubeconfig(user={'client-key-data': PEM}), 'both'),
    (kubeconfig(cluster={'certificate-authority-data': 'not base64!'}), 'base64'),
    (kubeconfig(preferences=['not', 'a', 'mapping']), 'mapping'),
    (yaml.safe_dump({'clusters': [{'name': 'c', 'cluster': 'a string'}], 'users': [{'name': 'u', 'user': {}}],
                     'contexts': [{'name': 'x', 'context': {'cluster': 'c', 'user': 'u'}}]}), 'mapping'),
    (yaml.safe_dump({'clusters': [{'name': 'c', 'cluster': {'server': 'https://10.0.0.1'}}],
                     'users': [{'name': 'u', 'user': ['a', 'list']}],
                     'contexts': [{'name': 'x', 'context': {'cluster': 'c', 'user': 'u'}}]}), 'mapping'),
    (yaml.safe_dump({'clusters': [{'name': 'c', 'cluster': {'server': 'https://10.0.0.1'}}],
                     'users': [{'name': 'u', 'user': {}}], 'contexts': [{'name': 'x', 'context': 'c/u'}]}),
     'mapping'),
    ('[' * 5000, ''),
])
def test_kubeconfigs_refused(api, text, message):
    refused(create(api, kubeconfig=text), 'kubeconfig', message)


@pytest.mark.django_db
def test_a_kubeconfig_with_a_real_boolean_is_accepted(api):
    response = create(api, kubeconfig=kubeconfig(cluster={'insecure-skip-tls-verify': False}))
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_the_edit_form_shows_kubeconfig_errors_on_the_field(make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user('editor', 'netbox_hedgehog.add_hedgehogfabric'))
    response = client.post('/plugins/hedgehog/fabrics/add/', {
        'name': 'checked', 'kubeconfig': kubeconfig(user={'exec': {'command': 'id'}}),
        'kubernetes_namespace': 'default', 'sync_interval': '60',
    })
    assert response.status_code == 200
    assert 'authenticates with exec' in response.content.decode()
    assert not HedgehogFabric.objects.filter(name='checked').exists()
