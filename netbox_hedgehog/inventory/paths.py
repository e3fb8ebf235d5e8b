"""
The cable paths of the inventory's cables, computed for all of them at once.

Every inventory cable joins one plain interface to another (no cable profile, no channelized or channel interface,
no pass-through port), so NetBox's trace from either end (CablePath.from_origin()) is always the same three hops:
the interface, the cable, the far interface; complete, not split, active when the cable is connected. Writing those
rows directly costs two inserts in all instead of a trace (about ten queries) and a save per end.
tests/test_inventory.py compares every path written here with NetBox's own trace of the same origin.
"""

from dcim.choices import LinkStatusChoices
from dcim.models import CablePath
from dcim.utils import object_to_path_node

__all__ = ('direct_paths', 'is_plain_end')


def is_plain_end(interface):
    """Whether NetBox traces a cable on this interface as a direct hop: not channelized, not a channel."""
    return not interface.channels and interface.channel_id is None


def direct_paths(cables, ends):
    """
    {(cable pk, end): unsaved CablePath} from each end of each cable: `cables` are Cable instances, `ends` maps
    (cable pk, "A"/"B") to that end's one interface.
    """
    paths = {}
    for cable in cables:
        for near, far in (('A', 'B'), ('B', 'A')):
            path = [
                [object_to_path_node(ends[(cable.pk, near)])],
                [object_to_path_node(cable)],
                [object_to_path_node(ends[(cable.pk, far)])],
            ]
            paths[(cable.pk, near)] = CablePath(
                path=path, is_complete=True, is_split=False,
                is_active=cable.status == LinkStatusChoices.STATUS_CONNECTED,
                # As CablePath.save() keeps it: every node, flattened, for filtering.
                _nodes=[node for step in path for node in step],
            )
    return paths
