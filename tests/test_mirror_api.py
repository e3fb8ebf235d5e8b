"""Read-only REST API and GraphQL of every mirrored kind, on a fabric synced from the Kubernetes API stand-in."""


import pytest

from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import VPC, Connection, HedgehogFabric, Switch, VPCPeering

from .conftest import graphql
from .mirror_fixtures import VIEW_ALL

KIND_PARAMS = [pytest.param(kind, id=kind.model_name) for kind in KINDS]


def api_list(kind):
    return f'/api/plugins/hedgehog/{kind.slug}/'


@pytest.fixture
def api(viewer_user, api_client_for):
    return api_client_for(viewer_user)


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_list_retrieve_and_fabric_filters(kind, mirrored_fabric, api, make_fabric):
    other = make_fabric(name='empty-fabric')
    expected = kind.model.objects.filter(fabric=mirrored_fabric).count()

    body = api.get(api_list(kind), {'fabric_id': mirrored_fabric.pk, 'limit': 0}).json()
    assert body['count'] == expected > 0
    assert api.get(api_list(kind), {'fabric_id': other.pk}).json()['count'] == 0
    assert api.get(api_list(kind), {'fabric': mirrored_fabric.name}).json()['count'] == expected

    obj = kind.model.objects.filter(fabric=mirrored_fabric).order_by('name').first()
    detail = api.get(f'{api_list(kind)}{obj.pk}/')
    assert detail.status_code == 200
    data = detail.json()
    assert data['name'] == obj.name and data['uid'] == obj.uid
    assert data['fabric']['id'] == mirrored_fabric.pk
    assert data['url'].endswith(f'{api_list(kind)}{obj.pk}/')
    assert data['display_url'].endswith(obj.get_absolute_url())
    assert data['spec'] == obj.spec and data['status'] == obj.status
    for field in kind.promoted_fields:
        assert field.name in data
    by_name = api.get(api_list(kind), {'name': obj.name}).json()
    assert obj.pk in [row['id'] for row in by_name['results']]
    assert api.get(api_list(kind), {'q': obj.name[:5]}).json()['count'] >= 1


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_writes_are_refused(kind, superuser, make_user, api_client_for):
    admin = api_client_for(superuser)
    fabric = HedgehogFabric.objects.create(name='write-target', sync_enabled=False)
    obj = kind.model.objects.create(fabric=fabric, name='hand-made', namespace='default', uid='u-1',
                                    resource_version='1')
    detail = f'{api_list(kind)}{obj.pk}/'
    assert admin.post(api_list(kind), {'name': 'x'}, format='json').status_code == 405
    assert admin.put(detail, {'name': 'x'}, format='json').status_code == 405
    assert admin.patch(detail, {'name': 'x'}, format='json').status_code == 405
    assert admin.delete(detail).status_code == 405
    assert admin.patch(api_list(kind), [{'id': obj.pk, 'name': 'x'}], format='json').status_code == 405
    assert admin.delete(api_list(kind), [{'id': obj.pk}], format='json').status_code == 405
    viewer = api_client_for(make_user('reader', *VIEW_ALL))
    assert viewer.post(api_list(kind), {'name': 'x'}, format='json').status_code == 403
    assert viewer.delete(detail).status_code == 403
    obj.refresh_from_db()
    assert obj.name == 'hand-made'


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_view_permission_is_required(kind, mirrored_fabric, make_user, api_client_for):
    others = [name for name in VIEW_ALL if not name.endswith(f'.view_{kind.url_name}')]
    client = api_client_for(make_user('partial', *others))
    assert client.get(api_list(kind)).status_code == 403


def test_kind_filters(mirrored_fabric, api):
    leaf = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    switches = api.get('/api/plugins/hedgehog/switches/', {'role': leaf.role, 'limit': 0}).json()['results']
    assert leaf.pk in [row['id'] for row in switches] and {row['role'] for row in switches} == {leaf.role}
    group = api.get('/api/plugins/hedgehog/switches/', {'redundancy_group': 'eslag-2'}).json()['results']
    assert {row['name'] for row in group} == set(
        leaf.redundancy_group.redundancy_members.values_list('name', flat=True)
    )

    expected = set(leaf.connections.values_list('pk', flat=True))
    for params in ({'switch_id': leaf.pk}, {'switch': leaf.name}):
        rows = api.get('/api/plugins/hedgehog/connections/', {**params, 'limit': 0}).json()['results']
        assert {row['id'] for row in rows} == expected
    eslag = api.get('/api/plugins/hedgehog/connections/', {'connection_type': 'eslag', 'limit': 0}).json()
    assert eslag['count'] == Connection.objects.filter(fabric=mirrored_fabric, connection_type='eslag').count()

    peering = VPCPeering.objects.filter(fabric=mirrored_fabric).first()
    for vpc in (peering.vpc1, peering.vpc2):
        rows = api.get('/api/plugins/hedgehog/vpc-peerings/', {'vpc_id': vpc.pk}).json()['results']
        assert peering.pk in [row['id'] for row in rows]
    vpc = VPC.objects.filter(fabric=mirrored_fabric, attachments__isnull=False).first()
    rows = api.get('/api/plugins/hedgehog/vpc-attachments/', {'vpc': vpc.name, 'limit': 0}).json()['results']
    assert {row['id'] for row in rows} == set(vpc.attachments.values_list('pk', flat=True))


def test_label_filter(mirrored_fabric, api):
    labelled = [
        (kind, obj) for kind in KINDS
        for obj in kind.model.objects.filter(fabric=mirrored_fabric).exclude(labels={})[:1]
    ]
    assert labelled, 'no mirrored object carries a label'
    for kind, obj in labelled:
        key, value = next(iter(obj.labels.items()))
        by_key = api.get(api_list(kind), {'label': key, 'limit': 0}).json()['results']
        assert obj.pk in [row['id'] for row in by_key] and all(key in row['labels'] for row in by_key)
        by_pair = api.get(api_list(kind), {'label': f'{key}={value}', 'limit': 0}).json()['results']
        assert obj.pk in [row['id'] for row in by_pair] and all(row['labels'][key] == value for row in by_pair)
        assert api.get(api_list(kind), {'label': f'{key}=no-such-value'}).json()['count'] == 0


def test_relations_are_nested(mirrored_fabric, api):
    leaf = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    data = api.get(f'/api/plugins/hedgehog/switches/{leaf.pk}/').json()
    assert data['redundancy_group']['name'] == 'eslag-2'
    assert [ns['name'] for ns in data['vlan_namespaces']] == ['default']


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_graphql_object_and_list(kind, mirrored_fabric, viewer_user, api_client_for):
    client = api_client_for(viewer_user)
    obj = kind.model.objects.filter(fabric=mirrored_fabric).order_by('name').first()
    query = f'''{{
      one: hedgehog_{kind.name}(id: {obj.pk}) {{ id name uid fabric {{ id name }} spec }}
      many: hedgehog_{kind.name}_list(filters: {{fabric_id: {{exact: {mirrored_fabric.pk}}}}}) {{ id name }}
    }}'''
    body = graphql(client, query)
    assert 'errors' not in body, body
    assert body['data']['one']['name'] == obj.name and body['data']['one']['fabric']['id'] == str(mirrored_fabric.pk)
    assert body['data']['one']['spec'] == obj.spec
    assert len(body['data']['many']) == kind.model.objects.filter(fabric=mirrored_fabric).count()


def test_graphql_reverse_relations(mirrored_fabric, viewer_user, api_client_for):
    leaf = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    query = f'{{ hedgehog_switch(id: {leaf.pk}) {{ connections {{ name }} agent {{ ready }} profile {{ name }} }} }}'
    client = api_client_for(viewer_user)
    body = graphql(client, query)
    assert 'errors' not in body, body
    switch = body['data']['hedgehog_switch']
    assert {c['name'] for c in switch['connections']} == set(leaf.connections.values_list('name', flat=True))
    assert switch['agent']['ready'] is True and switch['profile']['name'] == 'celestica-ds3000'


def test_switch_groups_filter_by_the_name_of_a_member_switch(mirrored_fabric, api):
    """A relation of objects referring to the kind (a group's switches) filters by their names too, not a 500."""
    switch = Switch.objects.filter(fabric=mirrored_fabric).exclude(groups=None).order_by('name').first()
    expected = sorted(switch.groups.values_list('pk', flat=True))
    response = api.get('/api/plugins/hedgehog/switch-groups/', {'switch': switch.name, 'limit': 0})
    assert response.status_code == 200
    assert sorted(row['id'] for row in response.json()['results']) == expected != []
