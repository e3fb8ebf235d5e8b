"""
The link between a NetBox device of a fabric's inventory and the mirrored switch or server it stands for, read from
the ownership records, for the pages of both. Everything goes through NetBox's object permissions (restrict), so
a page shows only what its user may view, constraints included.
"""

from dataclasses import dataclass

from dcim.models import Device
from django.contrib.contenttypes.models import ContentType

from ..models import Agent, HedgehogFabric, InventoryObject, Server, Switch

__all__ = ('DEVICE_KINDS', 'DeviceSource', 'device_of', 'device_source', 'visible_agent')

# The mirrored kinds that become Devices (kinds/mappings.py), by the kind their ownership records name.
DEVICE_KINDS = {'Switch': Switch, 'Server': Server}


@dataclass
class DeviceSource:
    """What a device's Hedgehog panel shows: each object only when the user may view it, else None."""

    kind: str
    fabric: HedgehogFabric | None
    mirrored: Switch | Server | None
    agent: Agent | None
    # Kept by the "mark" orphan policy: its switch or server is gone from the fabric.
    orphaned: bool
    # Taken over from users ("adopt existing") rather than created by the sync.
    adopted: bool


def _device_type():
    return ContentType.objects.get_for_model(Device)


def _device_record(**filters):
    # A device's own record has no part: its interfaces and addresses are the parts of the same source.
    return InventoryObject.objects.filter(
        object_type=_device_type(), kind__in=tuple(DEVICE_KINDS), part='', **filters,
    ).first()


def visible_agent(user, fabric_id, switch_uid):
    """The Agent of a mirrored switch, when the user may view it."""
    return Agent.objects.restrict(user, 'view').filter(fabric_id=fabric_id, switch__uid=switch_uid).first()


def device_source(user, device):
    """
    The fabric, mirrored object and (for a switch) Agent of an inventory device, as far as `user` may view them;
    None for a device no fabric owns, or when the user may view neither its fabric nor its mirrored object.
    """
    record = _device_record(object_id=device.pk)
    if record is None:
        return None
    fabric = HedgehogFabric.objects.restrict(user, 'view').filter(pk=record.fabric_id).first()
    mirrored = DEVICE_KINDS[record.kind].objects.restrict(user, 'view').filter(
        fabric_id=record.fabric_id, uid=record.uid,
    ).first()
    if fabric is None and mirrored is None:
        return None
    agent = visible_agent(user, record.fabric_id, record.uid) if record.kind == 'Switch' else None
    return DeviceSource(record.kind, fabric, mirrored, agent, record.orphaned, record.adopted)


def device_of(user, mirrored):
    """The NetBox device a mirrored switch or server became, when there is one and `user` may view it."""
    record = _device_record(fabric_id=mirrored.fabric_id, kind=type(mirrored).__name__, uid=mirrored.uid)
    if record is None:
        return None
    return Device.objects.restrict(user, 'view').filter(pk=record.object_id).first()
