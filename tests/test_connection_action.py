"""Test connection from the fabric page (HTMX and plain POST) and from the REST API, against the API stand-in."""

import pytest
from rest_framework.test import APIClient
from users.constants import TOKEN_PREFIX
from users.models import Token

from netbox_hedgehog.kinds import KINDS

from .conftest import grant
from .sync_fixtures import TOKEN

VIEW = ('netbox_hedgehog.view_hedgehogfabric',)
HTMX = {'HTTP_HX_REQUEST': 'true'}


def page_url(fabric):
    return f'/plugins/hedgehog/fabrics/{fabric.pk}/test-connection/'


def api_url(fabric):
    return f'/api/plugins/hedgehog/fabrics/{fabric.pk}/test-connection/'


@pytest.fixture
def syncer(make_user):
    return make_user('syncer', *VIEW, 'netbox_hedgehog.sync_hedgehogfabric')


@pytest.fixture
def changer(make_user):
    return make_user('changer', *VIEW, 'netbox_hedgehog.change_hedgehogfabric')


@pytest.fixture
def viewer(make_user):
    return make_user('viewer', *VIEW)


def test_page_shows_the_button_only_to_who_may_test(standin, make_fabric, syncer, viewer, client_for):
    fabric = make_fabric(standin)
    assert 'id="test-connection-button"' in client_for(syncer).get(fabric.get_absolute_url()).content.decode()
    page = client_for(viewer).get(fabric.get_absolute_url()).content.decode()
    assert 'id="test-connection-button"' not in page
    assert 'id="connection-test-result"' in page


@pytest.mark.parametrize('user', ['syncer', 'changer'])
def test_htmx_report_shows_version_and_every_kind(user, request, standin, make_fabric, client_for):
    fabric = make_fabric(standin)
    response = client_for(request.getfixturevalue(user)).post(page_url(fabric), **HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'Connected to Kubernetes v1.' in page
    assert 'id="server-version">v1.' in page
    for info in KINDS:
        assert f'data-kind="{info.kind}"' in page
    assert 'text-danger' not in page  # every kind installed and listable
    assert TOKEN not in page


def test_htmx_report_names_a_forbidden_kind(standin, make_fabric, syncer, client_for):
    standin.set_fault('vpcs', '403')
    fabric = make_fabric(standin)
    page = client_for(syncer).post(page_url(fabric), **HTMX).content.decode()

    assert 'id="connection-error"' in page
    assert '403 Forbidden' in page and 'vpcs.vpc.githedgehog.com' in page


def test_htmx_report_of_a_rejected_token(standin, make_fabric, syncer, client_for):
    fabric = make_fabric(standin, kubernetes_token=TOKEN + '-revoked')
    page = client_for(syncer).post(page_url(fabric), **HTMX).content.decode()

    assert '401 Unauthorized' in page
    assert TOKEN not in page


def test_htmx_report_of_an_unreachable_server(make_fabric, syncer, client_for):
    fabric = make_fabric(kubernetes_server='http://127.0.0.1:9', kubernetes_token=TOKEN)
    page = client_for(syncer).post(page_url(fabric), **HTMX).content.decode()

    assert 'Connection refused by 127.0.0.1:9' in page


def test_plain_post_reports_in_a_message(standin, make_fabric, syncer, client_for):
    fabric = make_fabric(standin)
    response = client_for(syncer).post(page_url(fabric), follow=True)

    assert response.redirect_chain[-1][0] == fabric.get_absolute_url()
    assert 'Connected to Kubernetes v1.' in response.content.decode()


def test_view_only_user_is_refused_and_nothing_is_contacted(standin, make_fabric, viewer, api_client_for, client_for):
    fabric = make_fabric(standin)
    # A one-shot fault that any request to the stand-in would use up: still armed afterwards means no request.
    standin.set_fault(None, '500', times=1)
    assert client_for(viewer).post(page_url(fabric), **HTMX).status_code == 403
    assert client_for(viewer).post(page_url(fabric)).status_code == 403
    assert api_client_for(viewer).post(api_url(fabric)).status_code == 403
    assert [fault['times'] for fault in standin.faults()] == [1]


def test_object_permission_is_checked_against_the_fabric(standin, make_fabric, make_user, client_for):
    allowed = make_fabric(standin, name='allowed')
    other = make_fabric(standin, name='other')
    user = make_user('limited', *VIEW)
    grant(user, 'netbox_hedgehog.sync_hedgehogfabric', constraints={'name': 'allowed'})
    client = client_for(user)
    assert client.post(page_url(allowed), **HTMX).status_code == 200
    assert client.post(page_url(other), **HTMX).status_code == 403


def test_unknown_fabric_is_404(syncer, db, client_for):
    assert client_for(syncer).post('/plugins/hedgehog/fabrics/999999/test-connection/', **HTMX).status_code == 404


def test_api_returns_the_report(standin, make_fabric, syncer, api_client_for):
    fabric = make_fabric(standin)
    response = api_client_for(syncer).post(api_url(fabric))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body['ok'] is True and body['error'] == ''
    assert body['server'] == standin.url and body['server_version'].startswith('v1.')
    assert [kind['kind'] for kind in body['kinds']] == [info.kind for info in KINDS]
    assert all(kind['installed'] and kind['can_list'] for kind in body['kinds'])
    assert set(body['groups']) == {info.group for info in KINDS}
    assert TOKEN not in response.content.decode()


def test_api_reports_failures_with_their_messages(standin, make_fabric, changer, api_client_for):
    standin.set_fault('vpcs', '403')
    forbidden = api_client_for(changer).post(api_url(make_fabric(standin))).json()
    vpc = next(kind for kind in forbidden['kinds'] if kind['kind'] == 'VPC')
    assert forbidden['ok'] is False and not vpc['can_list'] and '403 Forbidden' in vpc['message']

    revoked = make_fabric(standin, name='revoked', kubernetes_token=TOKEN + '-revoked')
    assert '401 Unauthorized' in api_client_for(changer).post(api_url(revoked)).json()['error']

    unreachable = make_fabric(name='unreachable', kubernetes_server='http://127.0.0.1:9', kubernetes_token=TOKEN)
    body = api_client_for(changer).post(api_url(unreachable)).json()
    assert body['ok'] is False and 'Connection refused by 127.0.0.1:9' in body['error']


def test_api_checks_the_object_permission_and_needs_a_write_token(standin, make_fabric, make_user, api_client_for):
    allowed = make_fabric(standin, name='allowed')
    other = make_fabric(standin, name='other')
    user = make_user('limited', *VIEW)
    grant(user, 'netbox_hedgehog.change_hedgehogfabric', constraints={'name': 'allowed'})
    client = api_client_for(user)
    assert client.post(api_url(allowed)).status_code == 200
    assert client.post(api_url(other)).status_code == 403

    read_only = Token.objects.create(user=user, write_enabled=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f'Bearer {TOKEN_PREFIX}{read_only.key}.{read_only.token}')
    assert client.post(api_url(allowed)).status_code == 403


def test_api_unknown_fabric_is_404(syncer, api_client_for):
    assert api_client_for(syncer).post('/api/plugins/hedgehog/fabrics/999999/test-connection/').status_code == 404
