"""A fabric synced for real from the Kubernetes API stand-in, and users to look at its mirrored objects."""

import pytest

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import TOKEN, fabric_objects

# The shared samples hold no profiles; these complete the fabric so that every kind has a page to open. The switch
# profile is the one three sample switches name.
PROFILES = (
    {
        'apiVersion': 'wiring.githedgehog.com/v1beta1',
        'kind': 'SwitchProfile',
        'metadata': {'name': 'celestica-ds3000', 'namespace': 'default', 'labels': {'vendor': 'celestica'}},
        'spec': {
            'displayName': 'Celestica DS3000',
            'nosType': 'sonic-bcm-base',
            'platform': 'x86_64-cel_seastone_2-r0',
            'ports': {'E1/1': {'nos': 'Ethernet0', 'label': '1', 'profile': 'QSFP28-100G'}},
        },
    },
    {
        'apiVersion': 'wiring.githedgehog.com/v1beta1',
        'kind': 'ServerProfile',
        'metadata': {'name': 'compute-2nic', 'namespace': 'default'},
        'spec': {'nics': [{'name': 'enp2s1'}, {'name': 'enp2s2'}]},
    },
)

VIEW_ALL = (
    'netbox_hedgehog.view_hedgehogfabric',
    *(f'netbox_hedgehog.view_{kind.url_name}' for kind in KINDS),
)


@pytest.fixture
def mirror_standin():
    server = StandinServer(objects=[*fabric_objects(), *PROFILES], token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def mirrored_fabric(mirror_standin, make_fabric):
    fabric = make_fabric(mirror_standin)
    run = sync_fabric(fabric.pk, 'manual')
    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    return fabric


@pytest.fixture
def viewer_user(make_user):
    return make_user('mirror-viewer', *VIEW_ALL)
