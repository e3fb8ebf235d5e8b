"""What a kind's inventory mapping sees: the fabric's settings, the plan, and what earlier mappings registered."""

import hashlib
import ipaddress
import re

from django.utils.text import slugify

from ..run_record import SyncError
from .plan import Plan, Source, Want

__all__ = (
    'BREAKOUT', 'FABRIC', 'SPEED_TYPES', 'MappingContext', 'fabric_tag_name', 'fabric_tag_slug', 'interface_type',
    'parse_interface_address', 'parse_prefix', 'slug',
)

# Source kind of objects that stand for the fabric as a whole (its manufacturers, roles and platforms).
FABRIC = 'Fabric'

# Port speed (Hedgehog's spelling) -> NetBox interface type of that speed's usual pluggable.
SPEED_TYPES = {
    '1G': '1000base-t',
    '2.5G': '2.5gbase-t',
    '5G': '5gbase-t',
    '10G': '10gbase-x-sfpp',
    '20G': 'other',
    '25G': '25gbase-x-sfp28',
    '40G': '40gbase-x-qsfpp',
    '50G': '50gbase-x-sfp56',
    '100G': '100gbase-x-qsfp28',
    '200G': '200gbase-x-qsfp56',
    '400G': '400gbase-x-qsfpdd',
    '800G': '800gbase-x-qsfpdd',
}
SPEED_GBPS = {'1G': 1, '2.5G': 2.5, '5G': 5, '10G': 10, '20G': 20, '25G': 25, '40G': 40, '50G': 50, '100G': 100,
              '200G': 200, '400G': 400, '800G': 800}
BREAKOUT = re.compile(r'^(\d{1,2})x(\d{1,3}(?:\.5)?G)$')
# NetBox's limits of a tag's name and slug, and of a description.
TAG_NAME_LENGTH = 100
DESCRIPTION_LENGTH = 200
# Hex digits of the digest that keeps a cut tag name, and every tag slug, apart from all others.
DIGEST_LENGTH = 8


def interface_type(speed, lanes=False):
    """
    The NetBox type of a port running at `speed` ("25G") or broken out as `speed` ("4x25G"): the whole cage's
    speed for the port itself (4x25G is a 100G cage), the lane speed for one of its breakout lanes.
    """
    if not isinstance(speed, str):
        return 'other'
    match = BREAKOUT.match(speed)
    if match is None:
        return SPEED_TYPES.get(speed, 'other')
    count, lane = int(match.group(1)), match.group(2)
    if lanes:
        return SPEED_TYPES.get(lane, 'other')
    total = count * SPEED_GBPS.get(lane, 0)
    whole = next((name for name, gbps in SPEED_GBPS.items() if gbps == total), None)
    return SPEED_TYPES.get(whole, 'other')


class MappingContext:
    """
    Shared by the mappings of one run, in kind order: a mapping registers what later kinds refer to by name (a
    switch's device, a namespace's VRF) and looks up what earlier kinds registered.
    """

    def __init__(self, fabric, interface_type_id, site_type_id):
        self.fabric = fabric
        self.site_id = fabric.inventory_site_id
        self.tenant_id = fabric.inventory_tenant_id
        # Content types of generic relations the plan sets: an address's interface, a VLAN group's site.
        self.interface_type_id = interface_type_id
        self.site_type_id = site_type_id
        self.plan = Plan()
        # (kind, name) -> whatever the mapping of that kind registered for it.
        self.registered = {}
        # SyncErrors of objects (or parts of them) that map to nothing valid, and those objects' uids: what they
        # had in the inventory is kept, so bad input never deletes.
        self.errors = []
        self.skipped_uids = set()

    def want(self, model, source, name, fields, **options):
        return self.plan.add(Want(model, source, name, fields, **options))

    def skip(self, kind, item, message):
        """Report that (part of) a mirrored object is not mapped, and keep what it already has in the inventory."""
        self.errors.append(SyncError(message, kind, item.name))
        self.skipped_uids.add(item.uid)

    def register(self, kind, name, value):
        self.registered[(kind, name)] = value

    def lookup(self, kind, name):
        return self.registered.get((kind, name))

    def qualified(self, name, limit=100):
        """A name that stays unique across the fabrics sharing a site: "<fabric>/<name>", cut to `limit`."""
        return f'{self.fabric.name}/{name}'[:limit]

    def tag(self, source, name, description, color):
        """
        A tag of this fabric's own, named "<fabric>/<name>" (a switch group's). Tag names and slugs are unique across
        NetBox, so both are made unique per fabric and name (fabric_tag_name, fabric_tag_slug).
        """
        tag_name = fabric_tag_name(self.fabric.name, name)
        tag_slug = fabric_tag_slug(self.fabric.name, name)
        return self.want(
            'extras.Tag', source, tag_name,
            {'name': tag_name, 'slug': tag_slug, 'color': color, 'description': description[:DESCRIPTION_LENGTH]},
            identity=(('slug', tag_slug),), also_unique=(('name', tag_name),),
        )

    # Catalogue objects, shared by every fabric and reused when users already have them.

    def _catalogue(self, model, name, extra=None):
        name_slug = slug(name)
        return self.want(
            model, Source(FABRIC, '', f'{model}:{name_slug}'), name,
            {'name': name[:100], 'slug': name_slug, **(extra or {})}, identity=(('slug', name_slug),), shared=True,
        )

    def manufacturer(self, name):
        return self._catalogue('dcim.Manufacturer', name)

    def platform(self, name):
        return self._catalogue('dcim.Platform', name)

    def device_role(self, name):
        return self._catalogue('dcim.DeviceRole', name, {'color': '2f6a31' if name == 'server' else '0d6efd'})

    def device_type(self, source, manufacturer, model_name):
        model_slug = slug(model_name)
        return self.want(
            'dcim.DeviceType', source, model_name,
            {'manufacturer_id': manufacturer, 'model': model_name[:100], 'slug': model_slug},
            identity=(('manufacturer_id', manufacturer), ('slug', model_slug)),
            shared=True,
        )

    # Device components.

    def interface(self, device, device_source, name, fields=None, order=1):
        """An interface of an inventory device, taken over when the device's type already gave it."""
        return self.want(
            'dcim.Interface', Source(device_source.kind, device_source.uid, f'interface:{name}'), name,
            {'device_id': device, 'name': name, **(fields or {})},
            identity=(('device_id', device), ('name', name)), claim=True, parent=device, order=order,
        )

    def ip_address(self, source, address, interface, description='', vrf=None):
        """An IP address on an interface; None when `address` is not an interface address ("10.0.0.1/31")."""
        parsed = parse_interface_address(address)
        if parsed is None:
            return None
        return self.want(
            'ipam.IPAddress', source, parsed,
            {
                'address': parsed, 'vrf_id': vrf, 'status': 'active', 'tenant_id': self.tenant_id,
                'assigned_object_type_id': self.interface_type_id, 'assigned_object_id': interface,
                'description': description[:200],
            },
            identity=(('vrf_id', vrf), ('address', parsed)),
        )


def parse_interface_address(value):
    """"10.1.2.3/24" as NetBox stores it, or None for anything else (a bare address gets /32)."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return str(ipaddress.ip_interface(value.strip()))
    except ValueError:
        return None


def parse_prefix(value):
    """"10.1.0.0/16" as NetBox stores it, or None for anything that is not a network address with its length."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError:
        return None


def slug(name):
    return slugify(name.replace('/', '-'))[:100] or 'unnamed'


def _digest(fabric_name, name):
    # NUL is in neither name (PostgreSQL text holds none), so no two pairs of names join into the same text.
    return hashlib.sha256(f'{fabric_name}\0{name}'.encode('utf-8', 'replace')).hexdigest()[:DIGEST_LENGTH]


def fabric_tag_name(fabric_name, name):
    """
    "<fabric>/<name>" as a tag name: a longer one than NetBox holds is cut and ends with "~" and a digest of both
    names, so two long names that start alike stay two tags.
    """
    full = f'{fabric_name}/{name}'
    if len(full) <= TAG_NAME_LENGTH:
        return full
    return f'{full[:TAG_NAME_LENGTH - DIGEST_LENGTH - 1]}~{_digest(fabric_name, name)}'


def fabric_tag_slug(fabric_name, name):
    """
    A tag slug for "<fabric>/<name>": the name slugified (ASCII letters, digits, dashes) and cut, then a digest of
    both names. The digest keeps apart what slugifies alike: "a b" and "a-b", names without a letter to keep, and
    fabric "x" with group "y-z" from fabric "x-y" with group "z".
    """
    readable = slugify(f'{fabric_name}-{name}'.replace('/', '-'))[:TAG_NAME_LENGTH - DIGEST_LENGTH - 1].strip('-_')
    digest = _digest(fabric_name, name)
    return f'{readable}-{digest}' if readable else digest
