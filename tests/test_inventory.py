"""
The NetBox inventory of a fabric, built by real syncs from the stand-in into NetBox's own models: what it holds,
that a resync without change writes nothing, that it follows changes, removals and its orphan policy, and that it
never overwrites what users made.
"""

import gc
import re
from collections import Counter

import pytest
from core.models import ObjectChange
from dcim.models import Cable, CablePath, CableTermination, Device, DeviceType, Interface, VirtualChassis
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from extras.models import CustomField, JournalEntry, Tag
from ipam.models import VLAN, VRF, IPAddress, Prefix, VLANGroup
from netbox.search.backends import search_backend
from tenancy.models import Tenant

from netbox_hedgehog.inventory.bulk import BULK_MODELS
from netbox_hedgehog.kinds.mappings import PROTOCOL_INTERFACE, VTEP_INTERFACE
from netbox_hedgehog.models import Agent, InventoryObject, Server, Switch
from netbox_hedgehog.sync import sync_fabric
from netbox_hedgehog.timing import record_phases

from .conftest import grant
from .inventory_fixtures import STEP_TABLES, inventory_objects, row_versions, run_sync

# Connection spec key -> its link lists and the two ends of a link (what becomes a Cable).
CABLED = {
    'unbundled': (('link',), ('server', 'switch')),
    'bundled': (('links',), ('server', 'switch')),
    'eslag': (('links',), ('server', 'switch')),
    'fabric': (('links',), ('spine', 'leaf')),
    'vpcLoopback': (('links',), ('switch1', 'switch2')),
}


def sample(kind):
    return [obj for obj in inventory_objects() if obj['kind'] == kind]


def spine_connections():
    """The connections of the spine ds4000-02, which the removal tests take out of the cluster with it."""
    return [obj['metadata']['name'] for obj in sample('Connection')
            if obj['metadata']['name'].startswith('ds4000-02--')]


def expected_links():
    """(A port, B port, connection name) of every link between two devices of the fabric."""
    devices = {obj['metadata']['name'] for obj in sample('Switch') + sample('Server')}
    links = []
    for obj in sample('Connection'):
        (key, body), = obj['spec'].items()
        if key not in CABLED:
            continue
        lists, (a_end, b_end) = CABLED[key]
        for list_name in lists:
            for link in ([body[list_name]] if list_name == 'link' else body[list_name]):
                a, b = link[a_end]['port'], link[b_end]['port']
                if a.split('/')[0] in devices and b.split('/')[0] in devices:
                    links.append((a, b, obj['metadata']['name']))
    return links


def port(device, name):
    return Interface.objects.get(device__name=device, name=name)


def timed_sync(fabric):
    """(run, names of the inventory step's phases): a skipped step has only its check, no mapping, no writing."""
    with record_phases() as phases:
        run = run_sync(fabric)
    return run, {name for name in phases if name.startswith('inventory: ')}


SKIPPED = {'inventory: check for changes'}


def settle(fabric):
    """Sync until a run finds nothing changed since the last complete step (the second run after one that wrote)."""
    for _ in range(2):
        run, steps = timed_sync(fabric)
        if steps == SKIPPED:
            return run
    raise AssertionError(f'two runs after the last change did not skip the inventory step: {steps}')


@pytest.fixture
def built(inventory_fabric):
    run = run_sync(inventory_fabric)
    assert run.errors == [], run.errors
    return inventory_fabric, run


def test_first_build_maps_the_fabric_and_resyncs_follow_it(built, inventory_standin, make_user, client_for,
                                                           trace_stylesheet):
    """One build (they are slow: every object goes through NetBox's signals), checked aspect by aspect."""
    check_every_switch_server_and_link(built)
    check_a_switch_is_a_device_of_its_profile_with_its_ports_and_addresses(built)
    check_links_are_cables_that_netbox_traces_end_to_end(built)
    check_every_cable_path_is_the_one_netbox_traces(built)
    check_netbox_records_every_object_as_its_save_would(built)
    check_bonded_links_hang_under_a_lag_on_the_server(built)
    check_external_ports_keep_their_description_and_have_no_far_end(built)
    check_namespaces_and_vpc_subnets_land_in_ipam(built)
    resync = check_a_resync_without_changes_writes_nothing(built)
    check_the_next_resync_is_skipped_and_writes_nothing_at_all(built, resync)
    check_a_change_updates_only_that_object(built, inventory_standin)
    check_what_users_change_is_put_right_although_the_mirror_did_not_change(built)
    check_an_agent_heartbeat_is_no_change_but_its_serial_is(built, inventory_standin)
    check_owned_fields_are_set_back_and_users_additions_survive(built)
    check_the_fabric_page_counts_only_what_the_user_may_view(built, make_user, client_for)
    check_the_run_page_links_the_change_log(built, make_user, client_for)
    check_a_switch_device_page_shows_its_fabric_switch_and_agent(built, make_user, client_for)
    check_the_device_panel_shows_only_what_the_user_may_view(built, make_user, client_for)
    check_cluster_values_on_the_device_page_are_escaped(built, make_user, client_for)
    check_switch_and_server_pages_link_their_devices(built, make_user, client_for)
    check_a_settings_change_is_applied_although_the_mirror_did_not_change(built)


def check_every_switch_server_and_link(built):
    fabric, run = built
    switches, servers = sample('Switch'), sample('Server')
    devices = Device.objects.filter(site=fabric.inventory_site)
    assert devices.count() == len(switches) + len(servers)
    assert sorted(devices.values_list('name', flat=True)) == sorted(
        obj['metadata']['name'] for obj in switches + servers
    )
    assert all('hedgehog' in device.tags.names() for device in devices)
    links = expected_links()
    cables = Cable.objects.all()
    assert cables.count() == len(links)
    by_ends = {
        (f'{c.a_terminations[0].device.name}/{c.a_terminations[0].name}',
         f'{c.b_terminations[0].device.name}/{c.b_terminations[0].name}'): c.label
        for c in cables
    }
    assert by_ends == {(a, b): name for a, b, name in links}
    assert run.inventory_counts['dcim.device']['created'] == len(switches) + len(servers)
    assert run.inventory_counts['dcim.cable']['created'] == len(links)
    assert run.inventory_request_id is not None
    owned = InventoryObject.objects.filter(fabric=fabric)
    assert owned.filter(object_type__model='device').count() == devices.count()
    # Switch groups and redundancy groups are tags, not virtual chassis (docs/inventory.md).
    assert not VirtualChassis.objects.exists()
    check_group_tags(fabric)


def check_a_switch_is_a_device_of_its_profile_with_its_ports_and_addresses(built):
    fabric, _ = built
    leaf = Device.objects.get(name='ds3000-01')
    assert leaf.device_type.model == 'celestica-ds3000'
    assert leaf.device_type.manufacturer.name == 'Celestica'
    assert leaf.platform.name == 'sonic-bcm-base'
    assert leaf.role.slug == 'server-leaf'
    assert leaf.serial == 'SN-ds3000-01'  # the agent's serial wins over the boot serial
    assert leaf.description == 'leaf-1'
    templates = {t.name: t for t in leaf.device_type.interfacetemplates.all()}
    assert len(templates) == 35
    assert templates['M1'].mgmt_only and templates['M1'].type == '1000base-t'
    assert templates['E1/5'].label == '5' and templates['E1/5'].type == '100gbase-x-qsfp28'
    assert templates['E1/33'].type == '25gbase-x-sfp28'
    # The device has its type's ports, plus the breakout lanes and loopbacks the fabric uses.
    names = set(leaf.interfaces.values_list('name', flat=True))
    assert set(templates) <= names
    assert {'E1/1/2', 'E1/17/1', PROTOCOL_INTERFACE, VTEP_INTERFACE} <= names
    assert port('ds3000-01', 'E1/1/2').type == '10gbase-x-sfpp'  # spec.portBreakouts E1/1: 4x10G
    assert port('ds3000-01', 'E1/17/1').type == '25gbase-x-sfp28'
    assert str(leaf.primary_ip4.address) == '172.30.0.10/21'
    assert leaf.primary_ip4.assigned_object == port('ds3000-01', 'M1')
    assert str(IPAddress.objects.get(interface=port('ds3000-01', PROTOCOL_INTERFACE)).address) == '172.30.8.10/32'
    assert port('ds3000-01', VTEP_INTERFACE).type == 'virtual'
    spine = Device.objects.get(name='ds4000-01')
    # No mirrored profile: a device type named after it, without templates; spines have no VTEP.
    assert spine.device_type.model == 'celestica-ds4000' and not spine.device_type.interfacetemplates.exists()
    assert not spine.interfaces.filter(name=VTEP_INTERFACE).exists()
    assert spine.interfaces.get(name='M1').mgmt_only


def check_links_are_cables_that_netbox_traces_end_to_end(built):
    nic = port('server-7', 'enp2s1')
    leaf_port = port('ds3000-03', 'E1/1/1')
    assert nic.link_peers == [leaf_port] and leaf_port.link_peers == [nic]
    assert nic.cable.label == 'server-7--unbundled--ds3000-03'
    path = nic._path
    assert CablePath.objects.filter(pk=path.pk).exists()
    assert path.is_complete and path.is_active
    assert path.destinations == [leaf_port]
    assert leaf_port._path.destinations == [nic]
    # NetBox's own trace, hop by hop: the NIC, its one cable, the leaf port; and back.
    assert nic.trace() == [([nic], [nic.cable], [leaf_port])]
    assert leaf_port.trace() == [([leaf_port], [nic.cable], [nic])]
    # A fabric link carries its /31s on both ends.
    spine_port, fabric_leaf_port = port('ds4000-01', 'E1/1'), port('ds3000-01', 'E1/28')
    assert spine_port.link_peers == [fabric_leaf_port]
    assert str(IPAddress.objects.get(interface=spine_port).address) == '172.30.128.0/31'
    assert str(IPAddress.objects.get(interface=fabric_leaf_port).address) == '172.30.128.1/31'
    # A VPC loopback joins two ports of one switch.
    loop = port('ds3000-01', 'E1/17/1')
    assert loop.link_peers == [port('ds3000-01', 'E1/18/1')]


def check_every_cable_path_is_the_one_netbox_traces(built):
    """The paths written with the cables in bulk are, row for row, what NetBox's own trace makes of each end."""
    ends = Interface.objects.filter(cable__isnull=False).select_related('_path', 'cable')
    assert ends.count() == 2 * Cable.objects.count()
    for interface in ends:
        traced = CablePath.from_origin([interface])
        stored = interface._path
        assert (stored.path, stored.is_complete, stored.is_active, stored.is_split) == \
            (traced.path, traced.is_complete, traced.is_active, traced.is_split), interface
        assert list(stored._nodes) == [node for step in traced.path for node in step]
    # One path per cable end, and no other.
    assert CablePath.objects.count() == ends.count()


def check_netbox_records_every_object_as_its_save_would(built):
    """Objects written in bulk are in the change log, the search cache, the counters and the prefix hierarchy."""
    fabric, run = built
    changes = ObjectChange.objects.filter(request_id=run.inventory_request_id)
    assert set(changes.values_list('user_name', flat=True)) == {'hedgehog-sync'}
    created = Counter(changes.filter(action='create').values_list('changed_object_type__model', 'changed_object_id'))
    for model, pk in InventoryObject.objects.filter(fabric=fabric, adopted=False).values_list(
            'object_type__model', 'object_id'):
        assert created[(model, pk)] == 1, (model, pk)
    server = Device.objects.get(name='server-7')
    change = changes.get(changed_object_type__model='device', changed_object_id=server.pk)
    assert change.postchange_data['name'] == 'server-7' and change.postchange_data['tags'] == ['hedgehog']
    # A switch's device is created with its group tags, as the REST API creates a device with tags (its update is
    # the primary IP, set once its address exists).
    leaf = Device.objects.get(name='ds3000-01')
    leaf_changes = changes.filter(changed_object_type__model='device', changed_object_id=leaf.pk).order_by('pk')
    assert [(c.action, c.postchange_data['tags']) for c in leaf_changes] == \
        [('create', [f'{fabric.name}/eslag-2', 'hedgehog']), ('update', [f'{fabric.name}/eslag-2', 'hedgehog'])]
    assert leaf_changes[1].prechange_data['primary_ip4'] is None
    # A NIC is created, then updated with its cable, as Cable.save() records it.
    nic = port('server-7', 'enp2s1')
    nic_changes = changes.filter(changed_object_type__model='interface', changed_object_id=nic.pk)
    assert [c.action for c in nic_changes.order_by('pk')] == ['create', 'update']
    assert nic_changes.get(action='update').postchange_data['cable'] == nic.cable_id
    assert nic_changes.get(action='update').related_object == server
    # Global search finds devices, interfaces and cables; NetBox's counters and prefix hierarchy are right.
    assert {result.object for result in search_backend.search('server-7')} >= {server}
    assert nic in {result.object for result in search_backend.search('enp2s1')}
    assert nic.cable in {result.object for result in search_backend.search(nic.cable.label)}
    for device in Device.objects.filter(site=fabric.inventory_site):
        assert device.interface_count == device.interfaces.count(), device
    hierarchy = Prefix.objects.filter(vrf__name=f'{fabric.name}/default').annotate_hierarchy()
    assert [(p.prefix, p._depth, p._children) for p in hierarchy] == \
        [(p.prefix, p.hierarchy_depth, p.hierarchy_children) for p in hierarchy]


def check_bonded_links_hang_under_a_lag_on_the_server(built):
    lag = port('server-1', 'server-1--eslag--ds3000-01--ds3000-02')
    assert lag.type == 'lag'
    members = Interface.objects.filter(lag=lag)
    assert sorted(members.values_list('name', flat=True)) == ['enp2s1', 'enp2s2']
    peers = sorted(f'{m.link_peers[0].device.name}/{m.link_peers[0].name}' for m in members)
    assert peers == ['ds3000-01/E1/1/2', 'ds3000-02/E1/1/2']


def check_external_ports_keep_their_description_and_have_no_far_end(built):
    external = port('ds3000-01', 'E1/1/1')
    assert external.description == 'ds3000-01--external--ds2000-02'
    assert external.cable is None


def check_namespaces_and_vpc_subnets_land_in_ipam(built):
    fabric, _ = built
    group = VLANGroup.objects.get(name=f'{fabric.name}/default')
    assert group.scope == fabric.inventory_site
    assert [(r.lower, r.upper) for r in group.vid_ranges] == [(1000, 3000)]
    vrf = VRF.objects.get(name=f'{fabric.name}/default')
    assert vrf.enforce_unique
    container = Prefix.objects.get(vrf=vrf, prefix='10.20.0.0/16')
    assert container.status == 'container'
    subnet = Prefix.objects.get(vrf=vrf, prefix='10.10.131.0/24')
    assert subnet.status == 'active'
    assert subnet.description == 'VPC demo-vpc-3 subnet subnet-1'
    assert subnet.vlan.vid == 1131 and subnet.vlan.group == group
    vpc_subnets = sum(len(obj['spec']['subnets']) for obj in sample('VPC'))
    assert Prefix.objects.filter(vrf=vrf, status='active').count() == vpc_subnets
    assert VLAN.objects.filter(group=group).count() == vpc_subnets
    # The counts as mapped: a VLAN group per VLAN namespace, a VRF per IPv4 namespace with a container per
    # subnet, a VLAN per VPC subnet with a VLAN id, a prefix per VPC subnet.
    namespaces = sample('IPv4Namespace')
    containers = sum(len(obj['spec']['subnets']) for obj in namespaces)
    vlans = sum(1 for obj in sample('VPC') for subnet in obj['spec']['subnets'].values() if subnet.get('vlan'))
    assert VLANGroup.objects.count() == len(sample('VLANNamespace'))
    assert VRF.objects.count() == len(namespaces)
    assert Prefix.objects.filter(status='container').count() == containers
    assert Prefix.objects.count() == containers + vpc_subnets
    assert VLAN.objects.count() == vlans


def check_a_resync_without_changes_writes_nothing(built):
    fabric, _ = built
    before = row_versions()
    run = run_sync(fabric)
    assert row_versions() == before
    assert all(set(counts) == {'unchanged'} for counts in run.inventory_counts.values()), run.inventory_counts
    assert not ObjectChange.objects.filter(request_id=run.inventory_request_id).exists()
    return run


def check_the_next_resync_is_skipped_and_writes_nothing_at_all(built, resync):
    """
    The resync above compared everything the build had written since it started, and found it as the fabric says;
    nothing changed since, so the next run skips the step: it writes no row anywhere, and reports the same.
    """
    fabric, _ = built
    changes = ObjectChange.objects.count()
    before = row_versions(STEP_TABLES)
    run, steps = timed_sync(fabric)
    assert steps == SKIPPED
    assert row_versions(STEP_TABLES) == before
    assert ObjectChange.objects.count() == changes
    assert run.inventory_counts == resync.inventory_counts
    assert run.errors == resync.errors == []
    assert run.inventory_request_id is not None and run.inventory_request_id != resync.inventory_request_id


def check_a_change_updates_only_that_object(built, inventory_standin):
    fabric, _ = built
    inventory_standin.patch('switches', 'ds3000-02', spec={'description': 'leaf two, rack 7'})
    run = run_sync(fabric)
    changes = ObjectChange.objects.filter(request_id=run.inventory_request_id)
    assert [(c.changed_object_type.model, c.object_repr, c.action) for c in changes] == [
        ('device', 'ds3000-02', 'update'),
    ]
    assert changes[0].user.username == 'hedgehog-sync'
    assert Device.objects.get(name='ds3000-02').description == 'leaf two, rack 7'
    assert {label: dict(c) for label, c in run.inventory_counts.items() if set(c) != {'unchanged'}} == {
        'dcim.device': {'updated': 1, 'unchanged': len(sample('Switch')) + len(sample('Server')) - 1},
    }


def check_what_users_change_is_put_right_although_the_mirror_did_not_change(built):
    """Each change below is followed by a run that puts it right: no run skips what users did since the last."""
    fabric, _ = built
    # An owned field edited and saved (as the UI, the REST API or a script saves it).
    settle(fabric)
    leaf = Device.objects.get(name='ds3000-02')
    leaf.snapshot()
    leaf.serial = 'HAND-EDITED'
    leaf.save()
    run, steps = timed_sync(fabric)
    assert 'inventory: dcim.device' in steps
    leaf.refresh_from_db()
    assert leaf.serial == 'SN-ds3000-02'
    assert [(c.object_repr, c.action) for c in ObjectChange.objects.filter(request_id=run.inventory_request_id)] == \
        [('ds3000-02', 'update')]

    # The owner tag taken off without saving the object (its last_updated stays as it was).
    settle(fabric)
    leaf.tags.remove('hedgehog')
    run_sync(fabric)
    assert 'hedgehog' in Device.objects.get(name='ds3000-02').tags.names()

    # An owned address deleted: NetBox empties the device's primary IP without saving the device. Both come back.
    settle(fabric)
    primary = Device.objects.get(name='ds3000-01').primary_ip4
    primary.snapshot()
    primary.delete()
    assert Device.objects.get(name='ds3000-01').primary_ip4 is None
    run_sync(fabric)
    leaf = Device.objects.get(name='ds3000-01')
    assert str(leaf.primary_ip4.address) == '172.30.0.10/21' and leaf.primary_ip4.pk != primary.pk
    assert leaf.primary_ip4.assigned_object == port('ds3000-01', 'M1')

    # An owned cable deleted: made again between the same ports.
    settle(fabric)
    cable = port('server-8', 'enp2s1').cable
    cable.snapshot()
    cable.delete()
    run_sync(fabric)
    again = port('server-8', 'enp2s1').cable
    assert again is not None and again.pk != cable.pk and again.label == 'server-8--unbundled--ds3000-03'
    assert port('server-8', 'enp2s1').link_peers == [port('ds3000-03', 'E1/1/2')]


def check_an_agent_heartbeat_is_no_change_but_its_serial_is(built, inventory_standin):
    """An Agent's row changes with every heartbeat; the inventory reads only its serial number."""
    fabric, _ = built
    settle(fabric)
    inventory_standin.patch('agents', 'ds3000-01', status={'lastHeartbeat': '2026-11-28T17:05:00Z'})
    run, steps = timed_sync(fabric)
    assert run.counts['Agent']['updated'] == 1
    assert steps == SKIPPED
    inventory_standin.patch('agents', 'ds3000-01', status={'state': {'nos': {'serialNumber': 'SN-REPLACED'}}})
    run, steps = timed_sync(fabric)
    assert Device.objects.get(name='ds3000-01').serial == 'SN-REPLACED'
    assert {label: dict(c) for label, c in run.inventory_counts.items() if set(c) != {'unchanged'}} == {
        'dcim.device': {'updated': 1, 'unchanged': len(sample('Switch')) + len(sample('Server')) - 1},
    }


def check_owned_fields_are_set_back_and_users_additions_survive(built):
    fabric, _ = built
    settle(fabric)
    owner = CustomField.objects.create(name='asset_owner', type='text')
    owner.object_types.set([ContentType.objects.get_for_model(Device)])
    leaf = Device.objects.get(name='ds3000-01')
    leaf.snapshot()
    leaf.description = 'edited by hand'
    leaf.comments = 'racked by Alice'
    leaf.custom_field_data['asset_owner'] = 'Team Blue'
    leaf.save()
    leaf.tags.add('important')
    # Its group's tag taken off by hand is put back, as the fields are.
    leaf.tags.remove(Tag.objects.get(name=f'{fabric.name}/eslag-2'))
    JournalEntry.objects.create(assigned_object=leaf, comments='RMA opened')
    run_sync(fabric)
    leaf.refresh_from_db()
    assert leaf.description == 'leaf-1'
    assert leaf.comments == 'racked by Alice'
    assert leaf.cf['asset_owner'] == 'Team Blue'
    assert set(leaf.tags.names()) == {'hedgehog', 'important', f'{fabric.name}/eslag-2'}
    assert list(JournalEntry.objects.filter(assigned_object_id=leaf.pk).values_list('comments', flat=True)) == [
        'RMA opened',
    ]


def inventory_card(client, fabric):
    page = client.get(fabric.get_absolute_url()).content.decode()
    card = page.split('id="inventory-card"', 1)[1].split('</table>', 1)[0]
    return {name.strip(): int(count) for name, count in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', card)}


def check_the_fabric_page_counts_only_what_the_user_may_view(built, make_user, client_for):
    fabric, _ = built
    fabric_only = client_for(make_user('fabric-only', 'netbox_hedgehog.view_hedgehogfabric'))
    assert inventory_card(fabric_only, fabric) == {}
    devices_too = client_for(make_user('devices-too', 'netbox_hedgehog.view_hedgehogfabric', 'dcim.view_device'))
    assert inventory_card(devices_too, fabric) == {'Devices': Device.objects.count()}
    # A constrained permission counts only the objects it allows.
    user = make_user('one-device', 'netbox_hedgehog.view_hedgehogfabric')
    grant(user, 'dcim.view_device', constraints={'name': 'ds3000-01'})
    assert inventory_card(client_for(user), fabric) == {'Devices': 1}


def check_the_run_page_links_the_change_log(built, make_user, client_for):
    fabric, run = built
    client = client_for(make_user('run-viewer', 'netbox_hedgehog.view_hedgehogfabric', 'netbox_hedgehog.view_syncrun'))
    page = client.get(run.get_absolute_url()).content.decode()
    assert f'?request_id={run.inventory_request_id}' in page
    assert ObjectChange.objects.filter(request_id=run.inventory_request_id, user__username='hedgehog-sync').count() \
        >= Device.objects.count()


def device_panel(client, device):
    """The Hedgehog panel of a device's page, or None when the page has none."""
    response = client.get(device.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    return page if 'id="hedgehog-device"' in page else None


def check_a_switch_device_page_shows_its_fabric_switch_and_agent(built, make_user, client_for):
    fabric, _ = built
    client = client_for(make_user(
        'device-viewer', 'dcim.view_device', 'dcim.view_interface', 'dcim.view_cable',
        'netbox_hedgehog.view_hedgehogfabric', 'netbox_hedgehog.view_switch', 'netbox_hedgehog.view_server',
        'netbox_hedgehog.view_agent',
    ))
    switch = Switch.objects.get(fabric=fabric, name='ds3000-01')
    agent = Agent.objects.get(fabric=fabric, switch=switch)
    panel = device_panel(client, Device.objects.get(name='ds3000-01'))
    assert f'href="{fabric.get_absolute_url()}"' in panel
    assert f'href="{switch.get_absolute_url()}"' in panel
    assert 'server-leaf' in panel
    assert f'href="{agent.get_absolute_url()}"' in panel
    assert f'{agent.interfaces_up} / {agent.interfaces_total}' in panel
    assert agent.nos_version in panel
    # A server's panel: its mirrored server, and no agent.
    server = Server.objects.get(fabric=fabric, name='server-7')
    panel = device_panel(client, Device.objects.get(name='server-7'))
    assert f'href="{server.get_absolute_url()}"' in panel
    assert 'Agent health' not in panel
    # A device the fabric does not own has no panel.
    other = Device.objects.create(name='user-box', site=fabric.inventory_site, role=_role(), device_type=_device_type())
    assert device_panel(client, other) is None
    # From the panel's device, NetBox's trace page follows a cable to the far end.
    nic = port('server-7', 'enp2s1')
    trace = client.get(f'/dcim/interfaces/{nic.pk}/trace/').content.decode()
    assert 'Trace Completed' in trace
    svg = client.get(re.search(r'<object data="([^"]+)"', trace).group(1).replace('&amp;', '&'))
    assert svg.status_code == 200
    drawing = svg.content.decode()
    assert all(name in drawing for name in ('server-7', 'enp2s1', 'server-7--unbundled--ds3000-03', 'ds3000-03',
                                            'E1/1/1'))


def check_the_device_panel_shows_only_what_the_user_may_view(built, make_user, client_for):
    fabric, _ = built
    device = Device.objects.get(name='ds3000-01')
    switch = Switch.objects.get(fabric=fabric, name='ds3000-01')
    agent = Agent.objects.get(fabric=fabric, switch=switch)
    # Only the device: no panel at all, so nothing of the fabric.
    assert device_panel(client_for(make_user('device-only', 'dcim.view_device')), device) is None
    # The fabric but not its switches nor agents: the fabric, nothing mirrored.
    panel = device_panel(client_for(make_user(
        'fabric-and-device', 'dcim.view_device', 'netbox_hedgehog.view_hedgehogfabric',
    )), device)
    assert f'href="{fabric.get_absolute_url()}"' in panel
    assert switch.get_absolute_url() not in panel and agent.get_absolute_url() not in panel
    assert 'Agent health' not in panel
    # Mirrored objects without their fabric: none of them (a fabric's objects are seen only with the fabric).
    no_fabric = make_user('no-fabric', 'dcim.view_device', 'netbox_hedgehog.view_switch', 'netbox_hedgehog.view_agent')
    assert device_panel(client_for(no_fabric), device) is None
    # Constrained permissions count per object: this switch, but another switch's agent.
    user = make_user('this-switch', 'dcim.view_device', 'netbox_hedgehog.view_hedgehogfabric')
    grant(user, 'netbox_hedgehog.view_switch', constraints={'name': 'ds3000-01'})
    grant(user, 'netbox_hedgehog.view_agent', constraints={'name': 'ds3000-02'})
    panel = device_panel(client_for(user), device)
    assert f'href="{switch.get_absolute_url()}"' in panel
    assert agent.get_absolute_url() not in panel and 'No agent reports for this switch.' in panel
    # And on the other switch's device: its agent, not the switch.
    panel = device_panel(client_for(user), Device.objects.get(name='ds3000-02'))
    assert f'href="{Agent.objects.get(fabric=fabric, name="ds3000-02").get_absolute_url()}"' in panel
    assert Switch.objects.get(fabric=fabric, name='ds3000-02').get_absolute_url() not in panel


def check_cluster_values_on_the_device_page_are_escaped(built, make_user, client_for):
    fabric, _ = built
    hostile = '<script>alert("agent")</script>'
    Agent.objects.filter(fabric=fabric, name='ds3000-01').update(nos_version=hostile, applied_reason=hostile)
    client = client_for(make_user(
        'escaped-viewer', 'dcim.view_device', 'netbox_hedgehog.view_hedgehogfabric', 'netbox_hedgehog.view_switch',
        'netbox_hedgehog.view_agent',
    ))
    page = client.get(Device.objects.get(name='ds3000-01').get_absolute_url()).content.decode()
    assert hostile not in page
    assert page.count('&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;') == 2


def check_switch_and_server_pages_link_their_devices(built, make_user, client_for):
    fabric, _ = built
    switch = Switch.objects.get(fabric=fabric, name='ds3000-01')
    server = Server.objects.get(fabric=fabric, name='server-7')
    mirror = ('netbox_hedgehog.view_hedgehogfabric', 'netbox_hedgehog.view_switch', 'netbox_hedgehog.view_server')
    both = client_for(make_user('mirror-and-devices', *mirror, 'dcim.view_device'))
    for mirrored in (switch, server):
        device = Device.objects.get(name=mirrored.name)
        page = both.get(mirrored.get_absolute_url()).content.decode()
        assert 'id="inventory-device"' in page and f'href="{device.get_absolute_url()}"' in page
    # Without view on the device, or with a permission that does not cover it, no link and no card.
    mirror_only = client_for(make_user('mirror-only', *mirror))
    page = mirror_only.get(switch.get_absolute_url()).content.decode()
    assert 'id="kubernetes-object"' in page and 'id="inventory-device"' not in page
    user = make_user('servers-only', *mirror)
    grant(user, 'dcim.view_device', constraints={'role__slug': 'server'})
    servers_only = client_for(user)
    page = servers_only.get(switch.get_absolute_url()).content.decode()
    assert 'id="kubernetes-object"' in page and 'id="inventory-device"' not in page
    assert Device.objects.get(name='ds3000-01').get_absolute_url() not in page
    page = servers_only.get(server.get_absolute_url()).content.decode()
    assert f'href="{Device.objects.get(name="server-7").get_absolute_url()}"' in page


def check_a_settings_change_is_applied_although_the_mirror_did_not_change(built):
    fabric, _ = built
    settle(fabric)
    fabric.inventory_tenant = Tenant.objects.create(name='Fabric owners', slug='fabric-owners')
    fabric.save()
    run_sync(fabric)
    devices = Device.objects.filter(pk__in=InventoryObject.objects.filter(
        fabric=fabric, object_type__model='device').values('object_id'))
    assert devices.count() == len(sample('Switch')) + len(sample('Server'))
    assert set(devices.values_list('tenant__slug', flat=True)) == {'fabric-owners'}
    # The users' device beside them keeps its own.
    assert Device.objects.get(name='user-box').tenant is None
    assert set(Cable.objects.values_list('tenant__slug', flat=True)) == {'fabric-owners'}


def test_removals_follow_the_delete_policy_and_nothing_else_deletes(built, inventory_standin):
    fabric, _ = built
    # A kind that fails to list keeps its mirror, so its inventory stays too.
    labels = Counter(Cable.objects.values_list('label', flat=True))
    inventory_standin.delete('connections', 'server-8--unbundled--ds3000-03')
    inventory_standin.set_fault('connections', '500')
    run = sync_fabric(fabric.pk, 'manual')
    assert run.outcome == 'partial'
    assert Counter(Cable.objects.values_list('label', flat=True)) == labels
    inventory_standin.clear_faults()

    # A server and a spine leave the cluster, each with its connections (and the spine with its agent).
    nic_cable = port('server-7', 'enp2s1').cable
    spine_cables = set(Cable.objects.filter(label__startswith='ds4000-02--').values_list('pk', flat=True))
    spine_peers = [port('ds4000-02', name).link_peers[0] for name in ('E1/1', 'E1/2')]
    inventory_standin.delete('connections', 'server-7--unbundled--ds3000-03')
    inventory_standin.delete('servers', 'server-7')
    for name in spine_connections():
        inventory_standin.delete('connections', name)
    inventory_standin.delete('agents', 'ds4000-02')
    inventory_standin.delete('switches', 'ds4000-02')
    # And a connection is pointed at a switch the fabric does not have: reported, and its cable kept.
    server_9_cable = port('server-9', 'enp2s1').cable
    inventory_standin.patch('connections', 'server-9--unbundled--sse-c4632-01',
                            spec={'unbundled': {'link': {'switch': {'port': 'ghost-01/E1/1'}}}})
    run = sync_fabric(fabric.pk, 'manual')
    assert [(e['kind'], e['name']) for e in run.errors] == [('Connection', 'server-9--unbundled--sse-c4632-01')]
    assert "'ghost-01/E1/1' names a device that is not in the inventory" in run.errors[0]['message']
    assert port('server-9', 'enp2s1').cable == server_9_cable
    assert not Device.objects.filter(name__in=('server-7', 'ds4000-02')).exists()
    assert not Cable.objects.filter(pk__in={nic_cable.pk, *spine_cables}).exists()
    leaf_port = port('ds3000-03', 'E1/1/1')
    assert leaf_port.cable is None and leaf_port.link_peers == []
    for peer in spine_peers:
        peer.refresh_from_db()
        assert peer.cable is None and peer.path is None
    assert not IPAddress.objects.filter(address='172.30.8.15/32').exists()  # the spine's protocol IP
    assert run.inventory_counts['dcim.device']['deleted'] == 2
    # server-7's cable, the spine's fabric links, and server-8's once its connection could be listed again.
    assert run.inventory_counts['dcim.cable']['deleted'] == 2 + len(spine_cables)
    assert port('ds3000-03', 'E1/1/2').cable is None
    assert InventoryObject.objects.filter(fabric=fabric, object_type__model='device').count() == \
        len(sample('Switch')) + len(sample('Server')) - 2

    # Turned off, the inventory stays as it is, whatever the fabric does.
    fabric.inventory_sync = False
    fabric.save()
    inventory_standin.delete('servers', 'server-9')
    run = run_sync(fabric)
    assert run.inventory_counts == {}
    assert Device.objects.filter(name='server-9').exists()


def test_mark_keeps_orphans_offline_and_tagged_until_they_return(built, inventory_standin, make_user, client_for):
    fabric, _ = built
    fabric.inventory_orphans = 'mark'
    fabric.save()
    # A server and a spine leave the cluster with their connections.
    gone = [('servers', 'server-7'), ('connections', 'server-7--unbundled--ds3000-03'), ('switches', 'ds4000-02'),
            ('agents', 'ds4000-02'), *(('connections', name) for name in spine_connections())]
    removed = [inventory_standin.get(resource, name) for resource, name in gone]
    for resource, name in gone:
        inventory_standin.delete(resource, name)
    run_sync(fabric)
    for name in ('server-7', 'ds4000-02'):
        device = Device.objects.get(name=name)
        assert device.status == 'offline' and 'hedgehog-orphan' in device.tags.names()
    cable = port('server-7', 'enp2s1').cable
    assert cable.status == 'decommissioning' and 'hedgehog-orphan' in cable.tags.names()
    # Its page says why it is still there.
    client = client_for(make_user('orphan-viewer', 'dcim.view_device', 'netbox_hedgehog.view_hedgehogfabric',
                                  'netbox_hedgehog.view_server'))
    assert 'no longer in the fabric; kept by its orphan policy' in device_panel(
        client, Device.objects.get(name='server-7'))
    spine_cables = Cable.objects.filter(label__startswith='ds4000-02--')
    assert spine_cables.count() == 8
    assert {c.status for c in spine_cables} == {'decommissioning'}
    assert all('hedgehog-orphan' in c.tags.names() for c in spine_cables)
    # Marked once: the next run leaves them as they are.
    before = row_versions()
    run_sync(fabric)
    assert row_versions() == before
    # Back in the fabric: back in service, the mark gone.
    for obj in removed:
        del obj['metadata']['uid'], obj['metadata']['resourceVersion']
        inventory_standin.upsert(obj)
    run_sync(fabric)
    for name in ('server-7', 'ds4000-02'):
        device = Device.objects.get(name=name)
        assert device.status == 'active' and list(device.tags.names()) == ['hedgehog']
    assert port('server-7', 'enp2s1').cable.status == 'connected'
    assert {c.status for c in Cable.objects.filter(label__startswith='ds4000-02--')} == {'connected'}


def test_a_users_device_with_a_switch_name_is_a_conflict_and_untouched(inventory_fabric, site, make_user,
                                                                       client_for):
    leaf = Device.objects.create(
        name='ds3000-01', site=site, role=_role(), device_type=_device_type(), serial='USER-1', description='mine',
    )
    run = sync_fabric(inventory_fabric.pk, 'manual')
    conflicts = [e for e in run.errors if 'already has the device' in e['message']]
    assert len(conflicts) == 1 and conflicts[0]['kind'] == 'Switch' and conflicts[0]['name'] == 'ds3000-01'
    assert f'(id {leaf.pk})' in conflicts[0]['message']
    leaf.refresh_from_db()
    assert (leaf.serial, leaf.description, list(leaf.tags.names())) == ('USER-1', 'mine', [])
    assert not InventoryObject.objects.filter(object_id=leaf.pk, object_type__model='device').exists()
    # Nothing of the switch was written onto the user's device, and links to it were left out.
    assert not leaf.interfaces.exists()
    assert Device.objects.filter(name='ds3000-02').exists()
    client = client_for(make_user('adopted-viewer', 'dcim.view_device', 'netbox_hedgehog.view_hedgehogfabric'))
    assert device_panel(client, leaf) is None
    # The run counts it, and the fabric page shows the count, linking the run page that names it.
    assert run.inventory_counts['dcim.device']['conflicts'] == 1
    assert sum(counts.get('conflicts', 0) for counts in run.inventory_counts.values()) == 1
    run_viewer = client_for(make_user('run-viewer', 'netbox_hedgehog.view_hedgehogfabric',
                                      'netbox_hedgehog.view_syncrun'))
    assert conflicts_row(run_viewer, inventory_fabric) == (f'{run.get_absolute_url()}#run-errors', 1)
    run_page = run_viewer.get(run.get_absolute_url()).content.decode()
    errors = run_page.split('id="run-errors"', 1)[1].split('</table>', 1)[0]
    assert f'NetBox already has the device &quot;ds3000-01&quot; (id {leaf.pk})' in errors
    # Runs the user may not view are not linked.
    assert conflicts_row(client, inventory_fabric) is None

    # With "adopt existing", the next run takes it over.
    inventory_fabric.inventory_adopt_existing = True
    inventory_fabric.save()
    run = run_sync(inventory_fabric)
    assert run.errors == []
    assert conflicts_row(run_viewer, inventory_fabric) == (f'{run.get_absolute_url()}#run-errors', 0)
    leaf.refresh_from_db()
    assert leaf.description == 'leaf-1' and 'hedgehog' in leaf.tags.names()
    assert InventoryObject.objects.get(object_id=leaf.pk, object_type__model='device').adopted
    assert "taken over by the fabric's sync" in device_panel(client, leaf).replace('&#x27;', "'")


def conflicts_row(client, fabric):
    """(link, count) of the fabric page's conflicts row in its inventory card, or None when it has none."""
    response = client.get(fabric.get_absolute_url())
    assert response.status_code == 200
    card = response.content.decode().split('id="inventory-card"', 1)[1].split('</table>', 1)[0]
    row = re.search(r'<tr id="inventory-conflicts">.*?<a href="([^"]+)">(?:<span[^>]*>)?(\d+)', card, re.S)
    return (row.group(1), int(row.group(2))) if row else None


def test_a_conflict_is_looked_at_again_on_every_run_until_users_resolve_it(inventory_fabric, site):
    """A step with a conflict depends on users' objects, so no later run skips it, even with nothing else changed."""
    leaf = Device.objects.create(name='ds3000-01', site=site, role=_role(), device_type=_device_type())
    sync_fabric(inventory_fabric.pk, 'manual')
    for _ in range(2):
        with record_phases() as phases:
            run = sync_fabric(inventory_fabric.pk, 'manual')
        assert 'inventory: dcim.device' in phases
        assert [(e['kind'], e['name']) for e in run.errors] == [('Switch', 'ds3000-01')]
    leaf.snapshot()
    leaf.delete()
    run = run_sync(inventory_fabric)
    assert run.errors == []
    fabric_leaf = Device.objects.get(name='ds3000-01')
    assert fabric_leaf.serial == 'SN-ds3000-01' and 'hedgehog' in fabric_leaf.tags.names()
    assert port('ds3000-01', 'E1/1/1').description == 'ds3000-01--external--ds2000-02'


def _role():
    from dcim.models import DeviceRole

    return DeviceRole.objects.create(name='user role', slug='user-role')


def _device_type():
    from dcim.models import Manufacturer

    manufacturer = Manufacturer.objects.create(name='User vendor', slug='user-vendor')
    return DeviceType.objects.create(manufacturer=manufacturer, model='user model', slug='user-model')


def test_two_subnets_on_one_vlan_are_one_conflict_not_a_failed_write(inventory_fabric, inventory_standin):
    """The same NetBox object asked for twice: the second is an error naming the first, and nothing fails to write."""
    inventory_standin.patch('vpcs', 'demo-vpc-2', spec={'subnets': {'default': {'vlan': 1101}}})
    run = sync_fabric(inventory_fabric.pk, 'manual')
    assert [(e['kind'], e['name']) for e in run.errors] == [('VPC', 'demo-vpc-2/default')], run.errors
    assert 'is the same NetBox object as "demo-vpc-1/default" (of the VPC demo-vpc-1/default)' in \
        run.errors[0]['message']
    assert VLAN.objects.filter(vid=1101).count() == 1
    assert VLAN.objects.get(vid=1101).name == 'demo-vpc-1/default'
    assert Device.objects.filter(site=inventory_fabric.inventory_site).count() == \
        len(sample('Switch')) + len(sample('Server'))
    # The next run reports it again, and writes nothing.
    before = row_versions()
    run = sync_fabric(inventory_fabric.pk, 'manual')
    assert [(e['kind'], e['name']) for e in run.errors] == [('VPC', 'demo-vpc-2/default')]
    assert row_versions() == before


def group_members():
    """{group name: switch names} as the samples put switches in groups: spec.groups and the redundancy group."""
    members = {obj['metadata']['name']: set() for obj in sample('SwitchGroup')}
    for obj in sample('Switch'):
        spec = obj['spec']
        for group in {*spec.get('groups', ()), spec.get('redundancy', {}).get('group', '')} - {''}:
            members[group].add(obj['metadata']['name'])
    return members


def check_group_tags(fabric):
    """A tag per switch group of the fabric, owned, on the devices of its switches beside "hedgehog"."""
    members = group_members()
    tags = Tag.objects.filter(pk__in=InventoryObject.objects.filter(
        fabric=fabric, object_type__model='tag', kind='SwitchGroup').values('object_id'))
    assert sorted(tags.values_list('name', flat=True)) == sorted(f'{fabric.name}/{group}' for group in members)
    assert Tag.objects.get(name=f'{fabric.name}/eslag-1').description == 'Hedgehog redundancy group eslag-1 (eslag)'
    assert Tag.objects.get(name=f'{fabric.name}/border').description == 'Hedgehog switch group border'
    for device in Device.objects.filter(site=fabric.inventory_site):
        groups = {group for group, switches in members.items() if device.name in switches}
        assert set(device.tags.names()) == {'hedgehog', *(f'{fabric.name}/{group}' for group in groups)}, device
    # The samples as read by hand: a border leaf of an ESLAG pair, and a spine in no group.
    assert set(Device.objects.get(name='ds3000-03').tags.names()) == \
        {'hedgehog', f'{fabric.name}/border', f'{fabric.name}/eslag-1'}
    assert list(Device.objects.get(name='ds4000-01').tags.names()) == ['hedgehog']


def test_a_build_leaves_none_of_its_objects_to_the_garbage_collector(inventory_fabric):
    """
    What a build fetched for its change records is freed as it goes. Left in reference cycles (Django's prefetched
    querysets refer back to their objects), a build's worth of objects would wait for the cyclic garbage collector,
    whose collection of them lands in the middle of a later run: seconds at the benchmark's size.
    """
    written_in_bulk = {*(apps.get_model(label) for label in BULK_MODELS), CableTermination, Tag}
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run_sync(inventory_fabric)
        gc.collect()
        cyclic = Counter(type(obj)._meta.label_lower for obj in gc.garbage if type(obj) in written_in_bulk)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert Interface.objects.filter(device__site=inventory_fabric.inventory_site).count() > 100
    assert cyclic == Counter()
