"""The Kubernetes API stand-in, exercised through the real `kubernetes` Python client.

Plain pytest tests: no Django, no database. Each test gets its own server on a free port.
"""

import collections
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import urllib3
from kubernetes.client import ApiClient, ApisApi, Configuration, CoreApi, CustomObjectsApi, VersionApi
from kubernetes.client.exceptions import (
    ApiException,
    ForbiddenException,
    NotFoundException,
    ServiceException,
    UnauthorizedException,
)

from k8s_standin import FAULT_NAMES, StandinServer, default_crd_paths, load_manifests, sample_paths
from k8s_standin.agents import FIXTURE, FIXTURE_SOURCE
from k8s_standin.synthetic import FabricSize, generate, parse_size

REPO = Path(__file__).resolve().parent.parent
TOKEN = 'standin-test-token'
CRDS = load_manifests(default_crd_paths())
SAMPLES = load_manifests(sample_paths())
WIRING, VPC, AGENT, GATEWAY = (f'{name}.githedgehog.com' for name in ('wiring', 'vpc', 'agent', 'gateway'))
V1BETA1 = 'v1beta1'
DEADLINE = 30  # seconds; generous, for a busy machine


def plural_of(kind: str) -> str:
    crd = next(crd for crd in CRDS if crd['spec']['names']['kind'] == kind)
    return crd['spec']['names']['plural']


SAMPLE_COUNTS = collections.Counter((obj['apiVersion'], obj['kind']) for obj in SAMPLES)


@pytest.fixture
def server():
    standin = StandinServer(crds=CRDS, objects=SAMPLES, token=TOKEN).start()
    yield standin
    standin.stop()


def make_client(standin: StandinServer, token: str | None = TOKEN, *, ca: bool = True, retries=None) -> ApiClient:
    configuration = Configuration(host=standin.url)
    if token is not None:
        configuration.api_key = {'authorization': f'Bearer {token}'}
    if standin.ca_pem and ca:
        configuration.ca_cert_data = standin.ca_pem
    configuration.retries = retries
    return ApiClient(configuration)


@pytest.fixture
def client(server):
    with make_client(server) as api_client:
        yield api_client


def status_of(error: ApiException) -> dict:
    return json.loads(error.body)


def list_vpcs(api_client, **kwargs):
    return CustomObjectsApi(api_client).list_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', **kwargs)


# Discovery


def test_version(client):
    version = VersionApi(client).get_code()
    assert version.major == '1'
    assert version.git_version.startswith('v1.')
    assert version.platform == 'linux/amd64'


def test_core_api_versions(client):
    assert CoreApi(client).get_api_versions().versions == ['v1']


def test_discovery_lists_the_installed_groups_with_preferred_versions(client):
    groups = {group.name: group for group in ApisApi(client).get_api_versions().groups}
    assert set(groups) == {WIRING, VPC, AGENT, GATEWAY}
    assert groups[VPC].preferred_version.group_version == f'{VPC}/{V1BETA1}'
    assert groups[GATEWAY].preferred_version.version == 'v1alpha1'
    assert [version.version for version in groups[WIRING].versions] == [V1BETA1]


def test_api_resources_describe_each_kind(client):
    resources = CustomObjectsApi(client).get_api_resources(VPC, V1BETA1)
    assert resources.group_version == f'{VPC}/{V1BETA1}'
    by_name = {resource.name: resource for resource in resources.resources}
    assert {'vpcs', 'vpcattachments', 'vpcpeerings', 'ipv4namespaces', 'externals'} <= set(by_name)
    attachments = by_name['vpcattachments']
    assert (attachments.kind, attachments.singular_name, attachments.namespaced) == (
        'VPCAttachment',
        'vpcattachment',
        True,
    )
    assert attachments.verbs == ['get', 'list', 'watch']
    assert attachments.short_names == ['vpcattach']
    assert attachments.categories == ['hedgehog', 'fabric']
    switches = {r.name: r for r in CustomObjectsApi(client).get_api_resources(WIRING, V1BETA1).resources}['switches']
    assert switches.short_names == ['sw']


def test_unknown_group_version_is_not_found(client):
    with pytest.raises(NotFoundException) as caught:
        CustomObjectsApi(client).get_api_resources('dhcp.githedgehog.com', V1BETA1)
    assert status_of(caught.value)['reason'] == 'NotFound'


# Lists and gets


@pytest.mark.parametrize(('api_version', 'kind'), sorted(SAMPLE_COUNTS))
def test_list_counts_equal_the_yaml(client, api_version, kind):
    group, version = api_version.split('/')
    listing = CustomObjectsApi(client).list_namespaced_custom_object(group, version, 'default', plural_of(kind))
    assert listing['apiVersion'] == api_version
    assert listing['kind'] == f'{kind}List'
    assert len(listing['items']) == SAMPLE_COUNTS[(api_version, kind)]
    names = [item['metadata']['name'] for item in listing['items']]
    assert names == sorted(names)
    assert 'continue' not in listing['metadata']
    for item in listing['items']:
        assert (item['apiVersion'], item['kind']) == (api_version, kind)
        metadata = item['metadata']
        assert metadata['namespace'] == 'default'
        assert len(metadata['uid']) == 36
        assert int(metadata['resourceVersion']) <= int(listing['metadata']['resourceVersion'])
        assert metadata['generation'] >= 1
        datetime.strptime(metadata['creationTimestamp'], '%Y-%m-%dT%H:%M:%SZ')


def test_list_across_namespaces_equals_the_namespaced_list(client):
    api = CustomObjectsApi(client)
    everywhere = api.list_cluster_custom_object(WIRING, V1BETA1, 'connections')
    namespaced = api.list_namespaced_custom_object(WIRING, V1BETA1, 'default', 'connections')
    assert everywhere['items'] == namespaced['items']
    assert api.list_namespaced_custom_object(WIRING, V1BETA1, 'other', 'connections')['items'] == []


def test_resource_versions_are_unique_and_increasing_in_load_order(server):
    versions = [
        int(obj['metadata']['resourceVersion'])
        for kind in ('vpcs', 'connections', 'switches')
        for obj in server.objects(kind)
    ]
    assert len(set(versions)) == len(versions)


def test_get_one_object_and_a_missing_one(client):
    api = CustomObjectsApi(client)
    vpc = api.get_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', 'demo-vpc-3')
    assert vpc['spec']['subnets']['subnet-2']['isolated'] is True
    with pytest.raises(NotFoundException) as caught:
        api.get_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', 'no-such-vpc')
    assert status_of(caught.value) == {
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
        'message': 'vpcs.vpc.githedgehog.com "no-such-vpc" not found', 'reason': 'NotFound',
        'details': {'name': 'no-such-vpc', 'group': VPC, 'kind': 'vpcs'}, 'code': 404,
    }  # fmt: skip


def test_label_selector(client):
    api = CustomObjectsApi(client)
    agents = api.list_namespaced_custom_object(AGENT, V1BETA1, 'default', 'agents')['items']
    ds3000 = api.list_namespaced_custom_object(
        AGENT, V1BETA1, 'default', 'agents', label_selector='fabric.githedgehog.com/profile=celestica-ds3000'
    )
    expected = [a for a in agents if a['metadata']['labels']['fabric.githedgehog.com/profile'] == 'celestica-ds3000']
    assert ds3000['items'] == expected and 0 < len(expected) < len(agents)
    others = api.list_namespaced_custom_object(
        AGENT,
        V1BETA1,
        'default',
        'agents',
        label_selector='fabric.githedgehog.com/profile!=celestica-ds3000,fabric.githedgehog.com/profile',
    )
    assert len(others['items']) == len(agents) - len(expected)
    with pytest.raises(ApiException) as caught:
        api.list_namespaced_custom_object(AGENT, V1BETA1, 'default', 'agents', label_selector='a in (b,c)')
    assert caught.value.status == 400


# Pagination


def test_pagination_walks_every_page_like_the_api_server(client):
    api = CustomObjectsApi(client)
    everything = api.list_namespaced_custom_object(WIRING, V1BETA1, 'default', 'connections')['items']
    pages, token = [], None
    while True:
        page = api.list_namespaced_custom_object(WIRING, V1BETA1, 'default', 'connections', limit=5, _continue=token)
        pages.append(page)
        token = page['metadata'].get('continue')
        if not token:
            break
    assert [len(page['items']) for page in pages] == [5, 5, 5, 5, 5, 1]
    assert [item for page in pages for item in page['items']] == everything
    assert [page['metadata'].get('remainingItemCount') for page in pages] == [21, 16, 11, 6, 1, None]
    assert len({page['metadata']['resourceVersion'] for page in pages}) == 1


def test_pagination_across_namespaces(client):
    api = CustomObjectsApi(client)
    first = api.list_cluster_custom_object(WIRING, V1BETA1, 'servers', limit=3)
    token = first['metadata']['continue']
    rest = api.list_cluster_custom_object(WIRING, V1BETA1, 'servers', limit=100, _continue=token)
    assert len(first['items']) + len(rest['items']) == SAMPLE_COUNTS[(f'{WIRING}/{V1BETA1}', 'Server')]
    assert 'continue' not in rest['metadata']


def test_continued_lists_serve_the_snapshot_they_started_on(server, client):
    first = list_vpcs(client, limit=2)
    server.delete('vpcs', 'demo-vpc-3')
    server.upsert({'apiVersion': f'{VPC}/{V1BETA1}', 'kind': 'VPC', 'metadata': {'name': 'zz-new'}, 'spec': {}})
    second = list_vpcs(client, limit=2, _continue=first['metadata']['continue'])
    assert [vpc['metadata']['name'] for vpc in second['items']] == ['demo-vpc-3']
    assert second['metadata']['resourceVersion'] == first['metadata']['resourceVersion']
    fresh = list_vpcs(client)
    assert [vpc['metadata']['name'] for vpc in fresh['items']] == ['demo-vpc-1', 'demo-vpc-2', 'zz-new']
    assert int(fresh['metadata']['resourceVersion']) > int(first['metadata']['resourceVersion'])


def test_an_expired_continue_token_is_410_gone_with_a_token_to_go_on(server, client):
    first = list_vpcs(client, limit=1)
    server.compact()
    with pytest.raises(ApiException) as caught:
        list_vpcs(client, limit=1, _continue=first['metadata']['continue'])
    status = status_of(caught.value)
    assert (caught.value.status, status['reason'], status['code']) == (410, 'Expired', 410)
    assert status['message'].startswith('The provided continue parameter is too old')
    resumed = list_vpcs(client, _continue=status['metadata']['continue'])
    assert [vpc['metadata']['name'] for vpc in resumed['items']] == ['demo-vpc-2', 'demo-vpc-3']


@pytest.mark.parametrize('token', ['not base64!', 'eyJmb28iOjF9', 'aGVsbG8'])
def test_a_malformed_continue_token_is_400_bad_request(client, token):
    with pytest.raises(ApiException) as caught:
        list_vpcs(client, limit=1, _continue=token)
    status = status_of(caught.value)
    assert (caught.value.status, status['reason']) == (400, 'BadRequest')
    assert status['message'].startswith('invalid continue token: continue key is not valid')


# Authentication and TLS


@pytest.mark.parametrize('token', [None, 'wrong-token'])
def test_requests_without_the_right_token_are_401(server, token):
    with make_client(server, token) as api_client:
        with pytest.raises(UnauthorizedException) as caught:
            list_vpcs(api_client)
        assert status_of(caught.value) == {
            'kind': 'Status',
            'apiVersion': 'v1',
            'metadata': {},
            'status': 'Failure',
            'message': 'Unauthorized',
            'reason': 'Unauthorized',
            'code': 401,
        }
        with pytest.raises(UnauthorizedException):
            VersionApi(api_client).get_code()


def test_tls_verifies_with_the_ca_and_fails_without_it(tmp_path):
    ca_file = tmp_path / 'ca.pem'
    standin = StandinServer(crds=CRDS, objects=SAMPLES, token=TOKEN, tls=True, ca_out=ca_file).start()
    try:
        assert standin.url.startswith('https://127.0.0.1:')
        assert ca_file.read_text() == standin.ca_pem
        with make_client(standin) as api_client:
            assert len(list_vpcs(api_client)['items']) == 3
        configuration = Configuration(host=standin.url.replace('127.0.0.1', 'localhost'))
        configuration.api_key = {'authorization': f'Bearer {TOKEN}'}
        configuration.ssl_ca_cert = str(ca_file)
        with ApiClient(configuration) as api_client:
            assert VersionApi(api_client).get_code().major == '1'
        with make_client(standin, ca=False, retries=0) as api_client:
            with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
                list_vpcs(api_client)
            assert isinstance(caught.value.reason, urllib3.exceptions.SSLError)
    finally:
        standin.stop()


# Faults


def test_fault_names():
    assert FAULT_NAMES == (
        '401', '403', '404', '500', 'slow', 'drop', 'malformed', '410', 'repeat-continue', 'overlap'
    )


def list_connections(client, limit, token=None):
    return CustomObjectsApi(client).list_namespaced_custom_object(
        WIRING, V1BETA1, 'default', 'connections', limit=limit, _continue=token
    )


def test_fault_410_expires_only_continued_lists(server, client):
    server.set_fault('connections', '410', times=1)
    first = list_connections(client, 5)  # a first page passes and does not spend the fault
    assert len(first['items']) == 5 and server.faults()
    with pytest.raises(ApiException) as caught:
        list_connections(client, 5, first['metadata']['continue'])
    assert (caught.value.status, status_of(caught.value)['reason']) == (410, 'Expired')
    assert server.faults() == []
    assert len(list_connections(client, 5, first['metadata']['continue'])['items']) == 5


def test_fault_repeat_continue_hands_back_the_same_token(server, client):
    server.set_fault('connections', 'repeat-continue')
    first = list_connections(client, 5)
    token = first['metadata']['continue']
    second = list_connections(client, 5, token)
    assert second['metadata']['continue'] == token
    assert [item['metadata']['name'] for item in second['items']] != [
        item['metadata']['name'] for item in first['items']
    ]


def test_fault_overlap_lists_the_previous_last_object_again(server, client):
    server.set_fault('connections', 'overlap')
    first = list_connections(client, 5)
    second = list_connections(client, 5, first['metadata']['continue'])
    assert second['items'][0] == first['items'][-1]
    assert len(second['items']) == 5


def test_fault_401(server, client):
    server.set_fault('vpcs', '401')
    with pytest.raises(UnauthorizedException):
        list_vpcs(client)
    assert CustomObjectsApi(client).list_namespaced_custom_object(WIRING, V1BETA1, 'default', 'switches')['items']


def test_fault_403_has_the_rbac_message(server, client):
    server.set_fault('VPC', '403')
    with pytest.raises(ForbiddenException) as caught:
        list_vpcs(client)
    assert status_of(caught.value) == {
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
        'message': 'vpcs.vpc.githedgehog.com is forbidden: User "system:serviceaccount:default:netbox" cannot list '
                   'resource "vpcs" in API group "vpc.githedgehog.com" in the namespace "default"',
        'reason': 'Forbidden', 'details': {'group': VPC, 'kind': 'vpcs'}, 'code': 403,
    }  # fmt: skip
    with pytest.raises(ForbiddenException) as caught:
        CustomObjectsApi(client).list_cluster_custom_object(VPC, V1BETA1, 'vpcs')
    assert status_of(caught.value)['message'].endswith('in API group "vpc.githedgehog.com" at the cluster scope')
    with pytest.raises(ForbiddenException) as caught:
        CustomObjectsApi(client).get_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', 'demo-vpc-1')
    assert status_of(caught.value)['message'].startswith('vpcs.vpc.githedgehog.com "demo-vpc-1" is forbidden: User')


def test_fault_404_behaves_as_not_installed(server, client):
    server.set_fault('vpcs', '404')
    with pytest.raises(NotFoundException) as caught:
        list_vpcs(client)
    assert status_of(caught.value)['message'] == 'the server could not find the requested resource'
    names = {resource.name for resource in CustomObjectsApi(client).get_api_resources(VPC, V1BETA1).resources}
    assert 'vpcs' not in names and 'vpcattachments' in names
    server.clear_faults()
    assert len(list_vpcs(client)['items']) == 3


def test_fault_500(server, client):
    server.set_fault('vpcs', '500')
    with pytest.raises(ServiceException) as caught:
        list_vpcs(client)
    status = status_of(caught.value)
    assert (status['code'], status['reason']) == (500, 'InternalError')
    assert status['message'].startswith('Internal error occurred: ')


def test_fault_slow_trips_the_client_read_timeout(server):
    server.set_fault('vpcs', 'slow', delay=10)
    with make_client(server, retries=0) as api_client:
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
            list_vpcs(api_client, _request_timeout=(5, 0.5))
        assert isinstance(caught.value.reason, urllib3.exceptions.ReadTimeoutError)
        assert time.monotonic() - started < 9
        server.set_fault('vpcs', 'slow', delay=0.3)
        started = time.monotonic()
        assert len(list_vpcs(api_client, _request_timeout=(5, DEADLINE))['items']) == 3
        assert time.monotonic() - started >= 0.3


def test_fault_drop_closes_the_connection(server):
    server.set_fault('vpcs', 'drop')
    with make_client(server, retries=0) as api_client:
        with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
            list_vpcs(api_client)
        assert isinstance(caught.value.reason, urllib3.exceptions.ProtocolError)


def test_fault_malformed_body(server, client):
    server.set_fault('vpcs', 'malformed')
    with pytest.raises(ValueError):
        list_vpcs(client)
    raw = list_vpcs(client, _preload_content=False)
    assert raw.status == 200
    with pytest.raises(ValueError):
        json.loads(raw.data)


def test_count_limited_and_global_faults(server, client):
    server.set_fault('vpcs', '500', times=2)
    for _ in range(2):
        with pytest.raises(ServiceException):
            list_vpcs(client)
    assert len(list_vpcs(client)['items']) == 3
    assert server.faults() == []
    server.set_fault(None, '403')
    with pytest.raises(ForbiddenException) as caught:
        ApisApi(client).get_api_versions()
    assert status_of(caught.value)['message'] == (
        'forbidden: User "system:serviceaccount:default:netbox" cannot get path "/apis/"'  # the client asks for /apis/
    )
    server.set_fault('vpcs', 'slow', delay=0.01)  # a fault for the kind wins over the global one
    assert len(list_vpcs(client)['items']) == 3
    server.clear_faults(None)
    assert [fault['kind'] for fault in server.faults()] == ['vpcs']


def test_faults_spare_requests_that_fail_authentication(server):
    server.set_fault('vpcs', '500', times=1)
    with make_client(server, 'wrong') as api_client, pytest.raises(UnauthorizedException):
        list_vpcs(api_client)
    assert server.faults()[0]['times'] == 1


def test_unknown_fault_is_rejected(server):
    with pytest.raises(ValueError):
        server.set_fault('vpcs', '418')


# Mutations and installed CRDs


def test_mutations_bump_resource_version_and_generation(server, client):
    api = CustomObjectsApi(client)
    before = int(list_vpcs(client)['metadata']['resourceVersion'])
    created = server.upsert({
        'apiVersion': f'{VPC}/{V1BETA1}',
        'kind': 'VPC',
        'metadata': {'name': 'vpc-new'},
        'spec': {'subnets': {'default': {'subnet': '10.9.0.0/24', 'vlan': 1900}}},
    })
    assert created['metadata']['generation'] == 1
    assert int(created['metadata']['resourceVersion']) > before
    served = api.get_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', 'vpc-new')
    assert served == created

    created['spec']['subnets']['default']['vlan'] = 1901
    replaced = server.upsert(created)
    assert replaced['metadata']['generation'] == 2
    assert replaced['metadata']['uid'] == created['metadata']['uid']
    assert int(replaced['metadata']['resourceVersion']) > int(created['metadata']['resourceVersion'])

    assert server.upsert(replaced) == replaced  # no change: no new resourceVersion

    labelled = server.patch('vpcs', 'vpc-new', labels={'team': 'blue'}, status={'note': 'x'})
    assert labelled['metadata']['generation'] == 2
    assert labelled['metadata']['labels'] == {'team': 'blue'}
    assert int(labelled['metadata']['resourceVersion']) > int(replaced['metadata']['resourceVersion'])
    respecced = server.patch('vpcs', 'vpc-new', spec={'subnets': {'default': {'vlan': 1902}}})
    assert respecced['metadata']['generation'] == 3
    assert respecced['spec']['subnets']['default'] == {'subnet': '10.9.0.0/24', 'vlan': 1902}

    server.delete('vpcs', 'vpc-new')
    with pytest.raises(NotFoundException):
        api.get_namespaced_custom_object(VPC, V1BETA1, 'default', 'vpcs', 'vpc-new')
    after = list_vpcs(client)['metadata']['resourceVersion']
    assert int(after) > int(respecced['metadata']['resourceVersion'])


def test_uninstalling_a_crd_at_run_time(server, client):
    assert server.uninstall(GATEWAY) == [
        f'{plural}.{GATEWAY}' for plural in ('gatewaygroups', 'gatewaypeerings', 'gateways', 'vpcinfos')
    ]
    assert GATEWAY not in {group.name for group in ApisApi(client).get_api_versions().groups}
    with pytest.raises(NotFoundException):
        CustomObjectsApi(client).list_namespaced_custom_object(GATEWAY, 'v1alpha1', 'default', 'gateways')
    assert server.uninstall('VPCAttachment') == [f'vpcattachments.{VPC}']
    names = {resource.name for resource in CustomObjectsApi(client).get_api_resources(VPC, V1BETA1).resources}
    assert 'vpcattachments' not in names and 'vpcs' in names


def test_starting_with_a_subset_of_crds(tmp_path):
    wiring_and_vpc = [path for path in default_crd_paths() if path.name.startswith(('wiring.', 'vpc.'))]
    standin = StandinServer(crd_paths=wiring_and_vpc, objects=sample_paths(), token=TOKEN).start()
    try:
        assert {'Agent', 'Gateway', 'GatewayGroup'}.isdisjoint(standin.counts())
        assert len(standin.skipped) == 6 + 2 + 1  # agents, gateways, gateway group
        with make_client(standin) as api_client:
            assert {group.name for group in ApisApi(api_client).get_api_versions().groups} == {WIRING, VPC}
            with pytest.raises(NotFoundException):
                CustomObjectsApi(api_client).list_namespaced_custom_object(AGENT, V1BETA1, 'default', 'agents')
    finally:
        standin.stop()


# Admin HTTP API


def admin(standin, method, path, payload=None, token=TOKEN):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f'{standin.url}/_standin/{path}', data=data, method=method)
    if token:
        request.add_header('Authorization', f'Bearer {token}')
    try:
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_admin_api(server, client):
    assert admin(server, 'GET', 'state', token=None)[0] == 401
    code, state = admin(server, 'GET', 'state')
    assert code == 200 and state['counts']['VPC'] == 3 and state['counts']['Agent'] == 6

    assert admin(server, 'POST', 'faults', {'kind': 'vpcs', 'fault': '403'})[0] == 201
    with pytest.raises(ForbiddenException):
        list_vpcs(client)
    assert admin(server, 'DELETE', 'faults?kind=vpcs') == (200, {'faults': []})
    assert admin(server, 'POST', 'faults', {'fault': 'teapot'})[0] == 400

    vpc = {'apiVersion': f'{VPC}/{V1BETA1}', 'kind': 'VPC', 'metadata': {'name': 'vpc-admin'}, 'spec': {}}
    code, stored = admin(server, 'POST', 'objects', {'items': [vpc]})
    assert code == 200 and stored['items'][0]['metadata']['generation'] == 1
    code, patched = admin(server, 'PATCH', 'objects/vpcs/default/vpc-admin', {'spec': {'vlanNamespace': 'default'}})
    assert code == 200 and patched['metadata']['generation'] == 2
    assert len(list_vpcs(client)['items']) == 4
    assert admin(server, 'DELETE', 'objects/vpcs/default/vpc-admin')[0] == 200
    assert admin(server, 'DELETE', 'objects/vpcs/default/vpc-admin')[0] == 404
    assert admin(server, 'POST', 'objects', {'apiVersion': 'x/v1', 'kind': 'Nope', 'metadata': {'name': 'n'}})[0] == 400
    assert admin(server, 'DELETE', f'crds/{GATEWAY}')[1]['uninstalled'][0].endswith(GATEWAY)
    assert admin(server, 'POST', 'compact')[0] == 200
    assert admin(server, 'GET', 'nothing-here')[0] == 404


def test_separate_admin_token():
    standin = StandinServer(crds=CRDS, token=TOKEN, admin_token='admin-only').start()
    try:
        assert admin(standin, 'GET', 'state')[0] == 401
        assert admin(standin, 'GET', 'state', token='admin-only')[0] == 200
    finally:
        standin.stop()


# Fixtures and loading


def test_load_manifests_skips_empty_documents(tmp_path):
    manifest = tmp_path / 'objects.yaml'
    manifest.write_text('---\n# only a comment\n---\napiVersion: v1\nkind: A\n---\n---\napiVersion: v1\nkind: B\n')
    assert [doc['kind'] for doc in load_manifests([tmp_path])] == ['A', 'B']


def test_generated_agents_fixture_has_one_agent_per_sample_switch():
    switches = [obj['metadata']['name'] for obj in load_manifests([FIXTURE_SOURCE]) if obj['kind'] == 'Switch']
    agents = load_manifests([FIXTURE])
    assert FIXTURE.read_text().startswith('# GENERATED by the netbox-hedgehog project (not upstream)')
    assert [agent['metadata']['name'] for agent in agents] == switches
    for agent in agents:
        assert agent['apiVersion'] == f'{AGENT}/{V1BETA1}'
        assert agent['metadata']['namespace'] == 'default' and agent['metadata']['generation'] >= 1
        assert agent['spec']['users'][0]['password'].startswith('$5$')
        assert agent['spec']['version']['password'] and agent['spec']['version']['username']
        status = agent['status']
        assert {'lastHeartbeat', 'lastAttemptGen', 'lastAppliedGen', 'lastAppliedTime', 'version'} <= set(status)
        assert status['conditions'][0]['type'] == 'Applied'
        assert status['state']['nos']['serialNumber'] and status['state']['nos']['softwareVersion']
        assert {'up', 'down'} >= {i['oper'] for i in status['state']['interfaces'].values()}
        bgp_states = {n['state'] for vrf in status['state']['bgpNeighbors'].values() for n in vrf.values()}
        assert bgp_states <= {'established', 'idle'}
    all_interfaces = [i['oper'] for a in agents for i in a['status']['state']['interfaces'].values()]
    assert {'up', 'down'} <= set(all_interfaces)
    assert any(a['status']['lastAppliedGen'] != a['metadata']['generation'] for a in agents)


def test_sample_fixtures_are_verbatim_copies_listed_in_sources():
    sources = (REPO / 'k8s_standin/fixtures/samples/SOURCES.txt').read_text()
    for path in sample_paths():
        if path.name != FIXTURE.name:
            assert path.name in sources


# Synthetic fabric

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def test_synthetic_default_sizes_and_speed():
    started = time.monotonic()
    objects = generate(now=NOW)
    elapsed = time.monotonic() - started
    counts = collections.Counter(obj['kind'] for obj in objects)
    assert counts['Switch'] == 200 and counts['Agent'] == 200
    assert counts['Connection'] == 4000 and counts['VPC'] == 2000 and counts['VPCAttachment'] == 4000
    assert counts['IPv4Namespace'] == counts['VLANNamespace'] == 1
    assert len(objects) >= 10_000
    assert elapsed < 10  # about 0.2 s normally; generous for a loaded machine


def test_synthetic_is_deterministic_for_a_seed():
    size = FabricSize(switches=10, connections=40, vpcs=10, attachments=20)
    assert generate(size, seed=3, now=NOW) == generate(size, seed=3, now=NOW)
    assert generate(size, seed=3, now=NOW) != generate(size, seed=4, now=NOW)


def test_parse_size():
    assert parse_size('switches=20,vpcs=5') == FabricSize(switches=20, connections=4000, vpcs=5, attachments=4000)
    assert parse_size('') == FabricSize()
    with pytest.raises(ValueError):
        parse_size('routers=3')


def test_synthetic_referential_integrity():
    objects = generate(FabricSize(switches=40, connections=600, vpcs=300, attachments=700), seed=7, now=NOW)
    by_kind = collections.defaultdict(dict)
    for obj in objects:
        name = obj['metadata']['name']
        assert name not in by_kind[obj['kind']], f'duplicate {obj["kind"]} {name}'
        by_kind[obj['kind']][name] = obj
    switches, servers = by_kind['Switch'], by_kind['Server']
    assert set(by_kind['Agent']) == set(switches)
    roles = collections.Counter(s['spec']['role'] for s in switches.values())
    assert roles['spine'] >= 1 and roles['server-leaf'] >= 1
    for switch in switches.values():
        spec = switch['spec']
        assert spec['asn'] and spec['ip'] and spec['protocolIP'] and spec['profile'] and spec['boot']['serial']
        assert ('vtepIP' in spec) == (spec['role'] != 'spine')
        if 'redundancy' in spec:
            assert spec['redundancy']['group'] in by_kind['SwitchGroup']
        assert set(spec['vlanNamespaces']) <= set(by_kind['VLANNamespace'])
    assert (
        len({s['spec']['asn'] for s in switches.values() if s['spec']['role'] != 'spine'})
        == roles.total() - roles['spine']
    )

    used_ports = set()
    types = collections.Counter()
    for connection in by_kind['Connection'].values():
        ((kind, body),) = connection['spec'].items()
        types[kind] += 1
        links = body['links'] if 'links' in body else [body['link']]
        for link in links:
            for end in link.values():
                device, _, port = end['port'].partition('/')
                assert port.startswith(('E1/', 'enp'))
                assert device in switches or device in servers
                assert end['port'] not in used_ports
                used_ports.add(end['port'])
        if kind == 'eslag':
            groups = {switches[link['switch']['port'].split('/')[0]]['spec']['redundancy']['group'] for link in links}
            assert len(groups) == 1
    assert set(types) == {'fabric', 'unbundled', 'bundled', 'eslag'}

    subnets_of = {name: set(vpc['spec']['subnets']) for name, vpc in by_kind['VPC'].items()}
    for vpc in by_kind['VPC'].values():
        assert 1 <= len(vpc['spec']['subnets']) <= 3
        assert vpc['spec']['ipv4Namespace'] in by_kind['IPv4Namespace']
        assert vpc['spec']['vlanNamespace'] in by_kind['VLANNamespace']
    for attachment in by_kind['VPCAttachment'].values():
        vpc, subnet = attachment['spec']['subnet'].split('/')
        assert subnet in subnets_of[vpc]
        connection = by_kind['Connection'][attachment['spec']['connection']]
        assert set(connection['spec']) <= {'unbundled', 'bundled', 'eslag'}


def test_synthetic_fabric_loads_and_pages_quickly():
    objects = generate(now=NOW)
    started = time.monotonic()
    standin = StandinServer(crds=CRDS, objects=objects, token=TOKEN).start()
    try:
        assert time.monotonic() - started < 15  # about 1 s normally
        assert standin.counts()['VPCAttachment'] == 4000
        with make_client(standin) as api_client:
            api = CustomObjectsApi(api_client)
            names, token = [], None
            while True:
                page = api.list_namespaced_custom_object(
                    VPC, V1BETA1, 'default', 'vpcattachments', limit=500, _continue=token
                )
                names += [item['metadata']['name'] for item in page['items']]
                token = page['metadata'].get('continue')
                if not token:
                    break
        assert len(names) == len(set(names)) == 4000
    finally:
        standin.stop()


# Command line


def read_line_until(process, deadline: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(f'no ready line from the stand-in; stderr: {process.stderr.read()}')


def test_command_line_serves_until_sigterm(tmp_path):
    secret = 'cli-secret-token-value'
    ca_file = tmp_path / 'ca.pem'
    argv = [
        sys.executable,
        '-m',
        'k8s_standin',
        '--port',
        '0',
        '--token',
        secret,
        '--tls',
        '--ca-out',
        str(ca_file),
        '--objects',
        str(REPO / 'k8s_standin/fixtures/samples'),
        '--log-level',
        'debug',
        '--synthetic',
        'switches=10,connections=30,vpcs=5,attachments=10',
    ]
    process = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, 'PYTHONPATH': str(REPO)},
    )
    try:
        line = read_line_until(process, time.monotonic() + DEADLINE)
        url = line.split()[-1]
        assert url.startswith('https://127.0.0.1:')
        configuration = Configuration(host=url)
        configuration.api_key = {'authorization': f'Bearer {secret}'}
        configuration.ssl_ca_cert = str(ca_file)
        with ApiClient(configuration) as api_client:
            vpcs = list_vpcs(api_client)['items']
            assert len(vpcs) == 3 + 5
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE) == 0
        assert secret not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_agent_heartbeats_move_forward_and_keep_each_agents_lag(server):
    from k8s_standin.heartbeats import AgentHeartbeats

    def beats():
        return {
            a['metadata']['name']: datetime.strptime(a['status']['lastHeartbeat'], '%Y-%m-%dT%H:%M:%SZ').replace(
                tzinfo=UTC
            )
            for a in server.objects('agents')
        }

    before = beats()
    freshest = max(before.values())
    heartbeats = AgentHeartbeats(server, interval=3600)
    heartbeats.start()  # beats once at once, then sleeps for the interval
    try:
        deadline = time.monotonic() + 30
        # Wait for the whole first beat: every agent's heartbeat moved (one beat stamps them all with one time).
        while any(beat == before[name] for name, beat in beats().items()) and time.monotonic() < deadline:
            time.sleep(0.05)
        after = beats()
    finally:
        heartbeats.stop()
    now = datetime.now(UTC)
    assert abs((now - max(after.values())).total_seconds()) < 60
    for name, beat in before.items():
        assert after[name] - max(after.values()) == beat - freshest, name


def test_uids_are_stable_across_restarts_and_new_for_a_recreated_object():
    def uids(standin):
        return {(item['kind'], item['metadata']['name']): item['metadata']['uid'] for item in standin.objects('vpcs')}

    first, second = StandinServer(objects=sample_paths()), StandinServer(objects=sample_paths())
    assert uids(first) and uids(first) == uids(second)

    vpc = first.objects('vpcs')[0]
    first.delete('vpcs', vpc['metadata']['name'])
    del vpc['metadata']['uid']
    recreated = first.upsert(vpc)
    assert recreated['metadata']['uid'] != uids(second)[('VPC', vpc['metadata']['name'])]
    # ... and a stand-in started again with the same history gives the recreated object the same uid.
    second.delete('vpcs', vpc['metadata']['name'])
    assert second.upsert(vpc)['metadata']['uid'] == recreated['metadata']['uid']
