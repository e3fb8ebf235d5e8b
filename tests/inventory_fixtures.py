"""
The fabric the inventory tests build: the shared samples, hydrated as a live cluster serves them (switch addresses,
fabric link IPs), with the switch profile three sample leaves name.
"""

import copy

import pytest
from dcim.models import Device, DeviceRole, DeviceType, Manufacturer, Site
from django.db import connection

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import TOKEN, fabric_objects

# A trimmed celestica-ds3000 as the fabric controller's catalogue declares it: a management port, 32 QSFP28 cages
# (100G, breakout 4x25G or 4x10G) and two SFP+ ports in a port group.
DS3000_PROFILE = {
    'apiVersion': 'wiring.githedgehog.com/v1beta1',
    'kind': 'SwitchProfile',
    'metadata': {'name': 'celestica-ds3000', 'namespace': 'default'},
    'spec': {
        'displayName': 'Celestica DS3000',
        'nosType': 'sonic-bcm-base',
        'platform': 'x86_64-cel_seastone_2-r0',
        'ports': {
            'M1': {'nos': 'eth0', 'management': True, 'oniePortName': 'eth0'},
            **{f'E1/{n}': {'nos': f'Ethernet{(n - 1) * 4}', 'label': str(n), 'profile': 'QSFP28-100G'}
               for n in range(1, 33)},
            'E1/33': {'nos': 'Ethernet128', 'label': '33', 'group': '1'},
            'E1/34': {'nos': 'Ethernet129', 'label': '34', 'group': '1'},
        },
        'portGroups': {'1': {'nos': '1', 'profile': 'SFP28-25G'}},
        'portProfiles': {
            'SFP28-25G': {'speed': {'default': '25G', 'supported': ['10G', '25G']}},
            'QSFP28-100G': {'breakout': {'default': '1x100G', 'supported': {
                '1x100G': {'offsets': ['0']}, '4x25G': {'offsets': ['0', '1', '2', '3']},
                '4x10G': {'offsets': ['0', '1', '2', '3']},
            }}},
        },
    },
}

# Every table the inventory writes, NetBox's change log included.
INVENTORY_TABLES = (
    'dcim_manufacturer', 'dcim_platform', 'dcim_devicerole', 'dcim_devicetype', 'dcim_interfacetemplate',
    'extras_tag', 'dcim_device', 'dcim_interface', 'dcim_cable', 'dcim_cabletermination', 'dcim_cablepath',
    'ipam_vlangroup', 'ipam_vlan', 'ipam_vrf', 'ipam_prefix', 'ipam_ipaddress', 'extras_taggeditem',
    'netbox_hedgehog_inventoryobject', 'core_objectchange',
)
# With the inventory step's record of its last complete step (inventory/state.py), which only a skipped run leaves
# as it is.
STEP_TABLES = (*INVENTORY_TABLES, 'netbox_hedgehog_inventorystate')
FABRIC_LINK_IPS = {'ds4000-01/E1/1': '172.30.128.0/31', 'ds3000-01/E1/28': '172.30.128.1/31'}


def hydrated(objects):
    """Switch addresses and one fabric connection's link IPs, as hhfab fills them in."""
    objects = copy.deepcopy(objects)
    switches = [obj for obj in objects if obj['kind'] == 'Switch']
    for index, switch in enumerate(switches, start=10):
        switch['spec']['ip'] = f'172.30.0.{index}/21'
        switch['spec']['protocolIP'] = f'172.30.8.{index}/32'
        if switch['spec']['role'] != 'spine':
            switch['spec']['vtepIP'] = f'172.30.12.{index}/32'
    for obj in objects:
        if obj['kind'] == 'Connection' and obj['metadata']['name'] == 'ds4000-01--fabric--ds3000-01':
            for link in obj['spec']['fabric']['links']:
                for end in link.values():
                    if end['port'] in FABRIC_LINK_IPS:
                        end['ip'] = FABRIC_LINK_IPS[end['port']]
    return objects


def inventory_objects():
    return [*hydrated(fabric_objects()), DS3000_PROFILE]


@pytest.fixture
def inventory_standin():
    server = StandinServer(objects=inventory_objects(), token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def site(db):
    return Site.objects.create(name='DC 1', slug='dc-1')


@pytest.fixture
def inventory_fabric(inventory_standin, make_fabric, site):
    return make_fabric(inventory_standin, inventory_sync=True, inventory_site=site)


@pytest.fixture
def trace_stylesheet(settings):
    """
    NetBox's cable trace drawing reads its stylesheet from STATIC_ROOT, which `collectstatic` fills in a deployment;
    tests read it where NetBox ships it.
    """
    settings.STATIC_ROOT = settings.STATICFILES_DIRS[0]


def users_device(site):
    """A device users made in the fabric's site, of a type and role of their own."""
    manufacturer = Manufacturer.objects.create(name='User vendor', slug='user-vendor')
    return Device.objects.create(
        name='user-box', site=site, role=DeviceRole.objects.create(name='user role', slug='user-role'),
        device_type=DeviceType.objects.create(manufacturer=manufacturer, model='user model', slug='user-model'),
    )


def run_sync(fabric):
    run = sync_fabric(fabric.pk, 'manual')
    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    return run


def row_versions(tables=INVENTORY_TABLES):
    """{table: {id: ctid}} of every table the inventory writes: any insert, update or delete changes it."""
    versions = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT id, ctid::text FROM {table}')
            versions[table] = dict(cursor.fetchall())
    return versions
