"""The mirrored kinds' list and detail pages, on a fabric synced from the Kubernetes API stand-in."""

import re

import pytest
from django.urls import NoReverseMatch, reverse

from netbox_hedgehog.kinds import KINDS, MENU_ORDER
from netbox_hedgehog.kinds.display import field_label
from netbox_hedgehog.models import VPC, Agent, Connection, Switch, VPCAttachment
from netbox_hedgehog.sync import sync_fabric

from .conftest import grant
from .mirror_fixtures import VIEW_ALL

KIND_PARAMS = [pytest.param(kind, id=kind.model_name) for kind in KINDS]


@pytest.fixture
def viewer(viewer_user, client_for):
    return client_for(viewer_user)


def first_object(kind, fabric):
    obj = kind.model.objects.filter(fabric=fabric).order_by('name').first()
    assert obj is not None, f'the samples hold no {kind.model_name}'
    return obj


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_list_page_shows_the_fabric_objects_with_links(kind, mirrored_fabric, viewer):
    response = viewer.get(f'/plugins/hedgehog/{kind.slug}/')
    assert response.status_code == 200
    page = response.content.decode()
    obj = first_object(kind, mirrored_fabric)
    assert f'href="{obj.get_absolute_url()}"' in page
    assert mirrored_fabric.get_absolute_url() in page
    # Read-only: no add, import, bulk edit or bulk delete buttons.
    for action in ('add', 'bulk_import', 'bulk_edit', 'bulk_delete'):
        assert f'/{kind.slug}/{action.replace("bulk_", "")}/' not in page
    assert 'Export' in page


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_detail_page_shows_promoted_fields_spec_and_status(kind, mirrored_fabric, viewer):
    obj = first_object(kind, mirrored_fabric)
    response = viewer.get(obj.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="spec-yaml"' in page and 'id="status-yaml"' in page
    assert 'id="labels"' in page and 'id="annotations"' in page
    assert obj.uid in page
    for field in kind.shown_fields:
        assert f'<th scope="row">{field_label(field)}</th>' in page
    # No edit or delete controls, nor their routes.
    assert f'{obj.get_absolute_url()}edit/' not in page
    assert f'{obj.get_absolute_url()}delete/' not in page


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_no_add_edit_import_or_delete_routes(kind, mirrored_fabric, superuser, client_for):
    admin = client_for(superuser)
    obj = first_object(kind, mirrored_fabric)
    for action in ('add', 'import', 'edit', 'delete'):
        assert admin.get(f'/plugins/hedgehog/{kind.slug}/{action}/').status_code == 404
    for action in ('edit', 'delete'):
        assert admin.get(f'{obj.get_absolute_url()}{action}/').status_code == 404
        assert admin.post(f'{obj.get_absolute_url()}{action}/').status_code == 404
    for action in ('add', 'edit', 'delete', 'bulk_import', 'bulk_edit', 'bulk_delete'):
        with pytest.raises(NoReverseMatch):
            reverse(f'plugins:netbox_hedgehog:{kind.url_name}_{action}')
    assert kind.model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_without_view_permission_the_pages_are_forbidden(kind, mirrored_fabric, make_user, client_for):
    others = [name for name in VIEW_ALL if not name.endswith(f'.view_{kind.url_name}')]
    client = client_for(make_user('partial', *others))
    obj = first_object(kind, mirrored_fabric)
    assert client.get(f'/plugins/hedgehog/{kind.slug}/').status_code == 403
    assert client.get(obj.get_absolute_url()).status_code == 403


def test_switch_page_links_its_connections_groups_and_agent_health(mirrored_fabric, viewer):
    switch = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    page = viewer.get(switch.get_absolute_url()).content.decode()
    for connection in switch.connections.all():
        assert connection.get_absolute_url() in page
    assert switch.redundancy_group.get_absolute_url() in page
    for namespace in switch.vlan_namespaces.all():
        assert namespace.get_absolute_url() in page
    agent = Agent.objects.get(switch=switch)
    assert 'id="agent-health"' in page and agent.get_absolute_url() in page
    assert f'{agent.interfaces_up} / {agent.interfaces_total}' in page
    assert 'role: ' in page  # the spec as YAML


def test_vpc_page_lists_subnets_attachments_and_peerings(mirrored_fabric, viewer):
    vpc = VPC.objects.filter(fabric=mirrored_fabric, attachments__isnull=False).order_by('name').first()
    page = viewer.get(vpc.get_absolute_url()).content.decode()
    assert 'id="vpc-subnets"' in page
    for subnet in vpc.spec['subnets'].values():
        assert subnet['subnet'] in page
    for attachment in vpc.attachments.all():
        assert attachment.get_absolute_url() in page
    for peering in (*vpc.peerings_as_vpc1.all(), *vpc.peerings_as_vpc2.all()):
        assert peering.get_absolute_url() in page
    assert f'/plugins/hedgehog/vpc-attachments/?vpc_id={vpc.pk}' in page


def test_connection_page_links_its_endpoints(mirrored_fabric, viewer):
    connection = Connection.objects.get(fabric=mirrored_fabric, name='server-1--eslag--ds3000-01--ds3000-02')
    page = viewer.get(connection.get_absolute_url()).content.decode()
    assert 'id="connection-endpoints"' in page
    for device in (*connection.switches.all(), *connection.servers.all()):
        assert device.get_absolute_url() in page
    assert '<code>E1/1/2</code>' in page and '<code>enp2s1</code>' in page


def test_attachment_page_links_vpc_and_names_an_unmirrored_connection(mirrored_fabric, viewer):
    attachment = VPCAttachment.objects.get(fabric=mirrored_fabric, name='demo-vpc-3--server-3--bundled--s5248-01')
    page = viewer.get(attachment.get_absolute_url()).content.decode()
    assert attachment.vpc.get_absolute_url() in page
    assert re.search(r'server-3--bundled--s5248-01 <span[^>]*>\(not mirrored\)', page)


def test_agent_page_links_its_switch(mirrored_fabric, viewer):
    agent = Agent.objects.filter(fabric=mirrored_fabric, switch__isnull=False).first()
    page = viewer.get(agent.get_absolute_url()).content.decode()
    assert agent.switch.get_absolute_url() in page


def test_list_filters(mirrored_fabric, viewer):
    leaf = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    page = viewer.get(f'/plugins/hedgehog/switches/?role={leaf.role}&name=ds3000-01').content.decode()
    assert leaf.get_absolute_url() in page
    connections = viewer.get(f'/plugins/hedgehog/connections/?switch_id={leaf.pk}').content.decode()
    for connection in Connection.objects.filter(fabric=mirrored_fabric):
        assert (connection.get_absolute_url() in connections) == connection.switches.filter(pk=leaf.pk).exists()
    other = Switch.objects.filter(fabric=mirrored_fabric).exclude(pk=leaf.pk).first()
    assert other.get_absolute_url() not in page


def test_fabric_page_counts_each_kind_with_links(mirrored_fabric, viewer):
    page = viewer.get(mirrored_fabric.get_absolute_url()).content.decode()
    assert 'id="kind-counts"' in page
    for kind in KINDS:
        count = kind.model.objects.filter(fabric=mirrored_fabric).count()
        assert f'href="/plugins/hedgehog/{kind.slug}/?fabric_id={mirrored_fabric.pk}">{count}</a>' in page
    total = sum(kind.model.objects.filter(fabric=mirrored_fabric).count() for kind in KINDS)
    listing = viewer.get('/plugins/hedgehog/fabrics/').content.decode()
    assert f'>{total}<' in listing


def test_fabric_page_counts_every_kind_in_one_query(mirrored_fabric, viewer_user, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from netbox_hedgehog.views.mirror import fabric_kind_counts

    with CaptureQueriesContext(connection) as queries:
        counts = fabric_kind_counts(viewer_user, mirrored_fabric)
    mirror_tables = {kind.model._meta.db_table for kind in KINDS}
    counting = [q['sql'] for q in queries.captured_queries if any(table in q['sql'] for table in mirror_tables)]
    assert len(counting) == 1, counting
    assert [row['count'] for row in counts] == [
        kind.model.objects.filter(fabric=mirrored_fabric).count() for kind in MENU_ORDER
    ]
    # An object constraint applies inside the one query; kinds the user may not view are left out.
    switch = Switch.objects.filter(fabric=mirrored_fabric).order_by('name').first()
    limited = make_user('one-switch', 'netbox_hedgehog.view_switch', constraints={'name': switch.name})
    # Mirrored objects are visible only with view on their fabric (docs/security.md).
    grant(limited, 'netbox_hedgehog.view_hedgehogfabric')
    assert [(row['label'], row['count']) for row in fabric_kind_counts(limited, mirrored_fabric)] == [('Switches', 1)]


def test_global_search_follows_the_sync(mirror_standin, mirrored_fabric, viewer):
    # No reindex: the sync itself keeps NetBox's search cache in step with its bulk writes.
    switch = Switch.objects.get(fabric=mirrored_fabric, name='ds3000-01')
    page = viewer.get('/search/?q=ds3000-01').content.decode()
    assert switch.get_absolute_url() in page

    mirror_standin.patch('switches', 'ds3000-01', spec={'description': 'renamed-rack-7-leaf'})
    mirror_standin.delete('vpcs', 'demo-vpc-2')
    vpc_url = VPC.objects.get(fabric=mirrored_fabric, name='demo-vpc-2').get_absolute_url()
    assert viewer.get('/search/?q=demo-vpc-2').content.decode().count(vpc_url) >= 1
    run = sync_fabric(mirrored_fabric.pk, 'manual')
    assert run.outcome == 'success', run.errors

    assert vpc_url not in viewer.get('/search/?q=demo-vpc-2').content.decode()
    assert switch.get_absolute_url() in viewer.get('/search/?q=ds3000-01').content.decode()
    assert switch.get_absolute_url() in viewer.get('/search/?q=renamed-rack-7-leaf').content.decode()


def test_deleting_a_fabric_removes_its_mirror_and_search_values(mirrored_fabric, make_user, client_for):
    from core.models import ObjectChange
    from extras.models import CachedValue

    mirrored_pks = {kind.model: list(kind.model.objects.filter(fabric=mirrored_fabric).values_list('pk', flat=True))
                    for kind in KINDS}
    assert sum(map(len, mirrored_pks.values())) > 50
    assert CachedValue.objects.filter(object_id__in=mirrored_pks[Switch]).exists()

    client = client_for(make_user('remover', *VIEW_ALL, 'netbox_hedgehog.delete_hedgehogfabric'))
    response = client.post(f'/plugins/hedgehog/fabrics/{mirrored_fabric.pk}/delete/', {'confirm': 'true'})
    assert response.status_code == 302

    for model, pks in mirrored_pks.items():
        assert not model.objects.filter(pk__in=pks).exists(), model.__name__
    cached_models = {value.object_type.model for value in CachedValue.objects.all()}
    assert not cached_models & {model._meta.model_name for model in mirrored_pks}
    # One change-log entry for the fabric, none per mirrored object.
    assert [c.changed_object_type.model for c in ObjectChange.objects.all()] == ['hedgehogfabric']


def test_the_fabric_delete_page_counts_what_goes_with_it(mirrored_fabric, make_user, client_for):
    client = client_for(make_user('remover', *VIEW_ALL, 'netbox_hedgehog.delete_hedgehogfabric'))
    page = client.get(f'/plugins/hedgehog/fabrics/{mirrored_fabric.pk}/delete/').content.decode()

    switches = Switch.objects.filter(fabric=mirrored_fabric)
    assert re.search(rf'{switches.count()}\s+switches', page)
    assert re.search(r'1\s+sync run\b', page)
    # Counted, not loaded: no object is listed.
    assert switches.first().get_absolute_url() not in page
