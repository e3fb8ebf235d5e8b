"""
Deleting a fabric applies its orphan policy to everything its inventory owns, as if the fabric had emptied; what
users made, and what the fabric adopted, stays.
"""

import pytest
from dcim.models import Cable, Device, Interface
from ipam.models import IPAddress, Prefix

from netbox_hedgehog.inventory.sync import ORPHAN_TAG
from netbox_hedgehog.models import InventoryObject

from .inventory_fixtures import run_sync, users_device


def owned(model, fabric_id):
    records = InventoryObject.objects.filter(fabric_id=fabric_id, object_type__app_label=model._meta.app_label,
                                             object_type__model=model._meta.model_name)
    return set(records.values_list('object_id', flat=True))


@pytest.mark.parametrize('policy', ['delete', 'mark'])
def test_deleting_a_fabric_applies_its_orphan_policy_to_its_inventory(inventory_fabric, site, policy):
    fabric = inventory_fabric
    fabric.inventory_orphans = policy
    fabric.save()
    run_sync(fabric)
    fabric_id = fabric.pk
    devices, cables, prefixes = owned(Device, fabric_id), owned(Cable, fabric_id), owned(Prefix, fabric_id)
    addresses = owned(IPAddress, fabric_id)
    assert devices and cables and prefixes and addresses
    # Users' own device, with an interface cabled to a port of the fabric's leaf.
    box = users_device(site)
    leaf = Device.objects.get(name='ds3000-03')
    users_port = Interface.objects.create(device=box, name='uplink', type='10gbase-x-sfpp')
    free_port = leaf.interfaces.filter(cable__isnull=True, mgmt_only=False).exclude(type__in=['virtual', 'lag'])[0]
    users_cable = Cable(a_terminations=[users_port], b_terminations=[free_port], label='users cable')
    users_cable.save()

    fabric.delete()

    assert not InventoryObject.objects.filter(fabric_id=fabric_id).exists()
    assert Device.objects.filter(pk=box.pk).exists() and Interface.objects.filter(pk=users_port.pk).exists()
    if policy == 'delete':
        # The leaf went, and with it the users' cable's far end; a device of theirs never goes.
        assert not Device.objects.filter(pk__in=devices).exists()
        assert not Cable.objects.filter(pk__in=cables).exists()
        assert not Prefix.objects.filter(pk__in=prefixes).exists()
        assert not IPAddress.objects.filter(pk__in=addresses).exists()
    else:
        kept = Device.objects.filter(pk__in=devices)
        assert kept.count() == len(devices)
        assert set(kept.values_list('status', flat=True)) == {'offline'}
        assert all(ORPHAN_TAG in device.tags.names() for device in kept)
        assert set(Cable.objects.filter(pk__in=cables).values_list('status', flat=True)) == {'decommissioning'}
        assert set(Prefix.objects.filter(pk__in=prefixes).values_list('status', flat=True)) == {'deprecated'}
        assert Cable.objects.filter(pk=users_cable.pk).exists()
