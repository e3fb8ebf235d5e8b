"""
Inventory mappings, per kind: the NetBox objects a mirrored object becomes when its fabric syncs the inventory
(docs/inventory.md lists them field by field). Each takes the run's MappingContext and the kind's mirrored rows of
the fabric, and asks the context for NetBox objects; it writes nothing itself.

Kinds are mapped in declaration order, so a mapping finds what the kinds it refers to registered: a switch finds
its profile's device type, a connection its devices, a VPC its namespaces' VRF and VLAN group.
"""

from ..inventory.context import BREAKOUT, interface_type, parse_interface_address, parse_prefix, slug
from ..inventory.plan import Source
from .values import MalformedObject, boolean, mapping, sequence, text

__all__ = (
    'SERVER_DEVICE_TYPE',
    'connection',
    'ipv4_namespace',
    'server',
    'switch',
    'switch_group',
    'switch_profile',
    'vlan_namespace',
    'vpc',
)

# NetBox's length limit of interface names, and what a profile may list before it is not a real one.
INTERFACE_NAME_LENGTH = 64
MAX_PROFILE_PORTS = 1024
# Lanes a port breaks out into (Hedgehog's modes go up to 8x).
MAX_LANES = 8
# Servers carry no hardware description in Hedgehog: one generic type for all of them.
SERVER_MANUFACTURER = 'Generic'
SERVER_DEVICE_TYPE = 'Hedgehog server'
# Interfaces of the switch's addresses, named as the Hedgehog agent names them in SONiC.
PROTOCOL_INTERFACE = 'Loopback0'
VTEP_INTERFACE = 'Loopback1'
DEFAULT_MANAGEMENT_PORT = 'M1'
MANAGEMENT_TYPE = '1000base-t'
# Connection spec key -> (list of links, names of its two ends; the first is the cable's A side).
CABLED_LINKS = {
    'unbundled': (('link',), ('server', 'switch')),
    'bundled': (('links',), ('server', 'switch')),
    'eslag': (('links',), ('server', 'switch')),
    'mclag': (('links',), ('server', 'switch')),
    'fabric': (('links',), ('spine', 'leaf')),
    'mesh': (('links',), ('leaf1', 'leaf2')),
    'vpcLoopback': (('links',), ('switch1', 'switch2')),
    'mclagDomain': (('peerLinks', 'sessionLinks'), ('switch1', 'switch2')),
}
# Connection types with one switch end and no far end in the inventory (the gateway is not a mirrored kind).
UNCABLED_LINKS = {
    'external': ('link',),
    'staticExternal': ('link',),
    'gateway': ('links',),
}
# A server's links of these types are grouped under one LAG interface.
BONDED = ('bundled', 'eslag', 'mclag')
# Colors of the tags of switch groups and of redundancy groups (MCLAG or ESLAG pairs).
SWITCH_GROUP_COLOR = '607d8b'
REDUNDANCY_GROUP_COLOR = '9c27b0'


class ProfileInfo:
    """What a switch takes from its profile: device type, platform, management port and port types."""

    def __init__(self, device_type, platform=None, management_ports=(), port_types=None, breakouts=None):
        self.device_type = device_type
        self.platform = platform
        self.management_ports = tuple(management_ports)
        self.port_types = port_types or {}
        # Port -> the profile's default breakout ("4x25G"), for ports the switch does not set.
        self.breakouts = breakouts or {}


def _manufacturer_name(display_name, profile_name):
    """The vendor, as the profile's display name ("Celestica DS3000") or name ("celestica-ds3000") starts."""
    if display_name and ' ' in display_name.strip():
        return display_name.strip().split()[0]
    return (profile_name.split('-', 1)[0] or profile_name).capitalize()


def _port_speed(spec, port):
    """(speed or breakout mode, is a breakout) of a profile port, from its port profile or its group's."""
    profile_name = port.get('profile')
    if not isinstance(profile_name, str):
        group = mapping(spec, f'portGroups.{port.get("group")}') if isinstance(port.get('group'), str) else {}
        profile_name = group.get('profile')
    profiles = mapping(spec, 'portProfiles')
    profile = profiles.get(profile_name) if isinstance(profile_name, str) else None
    if not isinstance(profile, dict):
        return None, False
    speed = profile.get('speed')
    if isinstance(speed, dict) and isinstance(speed.get('default'), str):
        return speed['default'], False
    breakout = profile.get('breakout')
    if isinstance(breakout, dict) and isinstance(breakout.get('default'), str):
        return breakout['default'], True
    return None, False


def switch_profile(context, rows):
    for profile in rows:
        spec = profile.spec if isinstance(profile.spec, dict) else {}
        try:
            ports = mapping(spec, 'ports')
            if len(ports) > MAX_PROFILE_PORTS:
                raise MalformedObject(f'spec.ports lists more than {MAX_PROFILE_PORTS} ports')
            manufacturer = context.manufacturer(_manufacturer_name(profile.display_name, profile.name))
            source = Source('SwitchProfile', profile.uid)
            device_type = context.device_type(source, manufacturer, profile.name)
            platform = context.platform(profile.nos_type) if profile.nos_type else None
            management, port_types, breakouts = [], {}, {}
            for name, port in sorted(ports.items()):
                if not isinstance(port, dict) or not isinstance(name, str) or len(name) > INTERFACE_NAME_LENGTH:
                    raise MalformedObject(f'spec.ports has an entry that is not a port: {str(name)[:64]!r}')
                is_management = boolean(port, 'management', root='port')
                speed, is_breakout = _port_speed(spec, port)
                port_types[name] = MANAGEMENT_TYPE if is_management else interface_type(speed)
                if is_breakout:
                    breakouts[name] = speed
                if is_management:
                    management.append(name)
                context.want(
                    'dcim.InterfaceTemplate', Source('SwitchProfile', profile.uid, f'port:{name}'), name,
                    {
                        'device_type_id': device_type, 'name': name,
                        'label': text(port, 'label', root='port', max_length=64),
                        'type': port_types[name], 'mgmt_only': is_management,
                    },
                    identity=(('device_type_id', device_type), ('name', name)), parent=device_type,
                )
        except MalformedObject as exc:
            context.skip('SwitchProfile', profile, f'not added to the inventory: {exc}')
            continue
        context.register('SwitchProfile', profile.name, ProfileInfo(
            device_type, platform, management, port_types, breakouts,
        ))


def switch_group(context, rows):
    """
    A tag per group (docs/inventory.md says why not a virtual chassis): a redundancy group when a switch names it
    in spec.redundancy, with the type its members give it; the group itself has no spec.
    """
    redundancy_types = {}
    for name, redundancy_type in rows.values_list('name', 'redundancy_members__redundancy_type'):
        if redundancy_type is not None:
            redundancy_types.setdefault(name, set()).add(redundancy_type)
    for group in rows:
        if group.name in redundancy_types:
            types = ', '.join(sorted(t for t in redundancy_types[group.name] if t)) or 'no type'
            description, color = f'Hedgehog redundancy group {group.name} ({types})', REDUNDANCY_GROUP_COLOR
        else:
            description, color = f'Hedgehog switch group {group.name}', SWITCH_GROUP_COLOR
        tag = context.tag(Source('SwitchGroup', group.uid), group.name, description, color)
        context.register('SwitchGroup', group.name, tag)


def _group_tags(context, sw):
    """The tags of the groups the switch is in: spec.groups and its redundancy group."""
    tags = []
    for name in dict.fromkeys((*sw.group_names, sw.redundancy_group_name)):
        if not name:
            continue
        tag = context.lookup('SwitchGroup', name)
        if tag is None:
            context.skip('Switch', sw, f'the switch group {name[:64]!r} is not in the fabric; the device does not '
                                       'carry a tag for it')
            continue
        tags.append(tag)
    return tuple(tags)


def _profile_of(context, profile_name):
    """The switch's profile, or a template-less device type named after a profile the mirror does not hold."""
    info = context.lookup('SwitchProfile', profile_name)
    if info is None:
        name = profile_name or 'unknown'
        manufacturer = context.manufacturer(_manufacturer_name('', name))
        info = ProfileInfo(context.device_type(Source('SwitchProfile', '', name), manufacturer, name))
        context.register('SwitchProfile', profile_name, info)
    return info


class DeviceInfo:
    """What a connection needs of an inventory device: its ref, its source, and the type of a port by name."""

    def __init__(self, device, source, port_type=None):
        self.device = device
        self.source = source
        self.port_type = port_type or (lambda name: 'other')


def _switch_port_type(profile, breakouts):
    def port_type(name):
        if name in profile.port_types:
            return profile.port_types[name]
        # A breakout lane "E1/1/2" of a port broken out by the switch (spec.portBreakouts) or by profile default.
        parent = name.rsplit('/', 1)[0]
        mode = breakouts.get(parent) or profile.breakouts.get(parent)
        return interface_type(mode, lanes=True) if mode else 'other'

    return port_type


def _switch_address(context, switch, device, source, interface_name, address, part, **interface_fields):
    if not address:
        return None
    if parse_interface_address(address) is None:
        context.skip('Switch', switch, f'{part} {address[:64]!r} is not an IP address; not added')
        return None
    interface = context.interface(device, source, interface_name, interface_fields)
    return context.ip_address(Source('Switch', switch.uid, f'ip:{part}'), address, interface,
                              description=f'{switch.name} {part}')


def _breakout_lanes(context, sw, info, breakouts):
    """Every lane of the ports the switch breaks out ("E1/1": "4x10G" gives E1/1/1 to E1/1/4), cabled or not."""
    if len(breakouts) > MAX_PROFILE_PORTS:
        context.skip('Switch', sw, f'spec.portBreakouts lists more than {MAX_PROFILE_PORTS} ports; not added')
        return
    for port, mode in sorted(breakouts.items()):
        match = BREAKOUT.match(mode) if isinstance(mode, str) and isinstance(port, str) else None
        if match is None or len(port) > INTERFACE_NAME_LENGTH - 3 or not 1 <= int(match.group(1)) <= MAX_LANES:
            context.skip('Switch', sw, f'spec.portBreakouts: {str(port)[:64]!r} is not a breakout NetBox can show')
            continue
        lanes = int(match.group(1))
        if lanes == 1:
            continue  # "1x100G" runs the port whole: no lanes of its own.
        for lane in range(1, lanes + 1):
            name = f'{port}/{lane}'
            context.interface(info.device, info.source, name, {'type': info.port_type(name)})


def switch(context, rows):
    for sw in rows.select_related('agent'):
        source = Source('Switch', sw.uid)
        if len(sw.name) > INTERFACE_NAME_LENGTH:
            context.skip('Switch', sw, 'the name is longer than NetBox allows for a device; not added')
            continue
        profile = _profile_of(context, sw.profile_name)
        agent = getattr(sw, 'agent', None)
        serial = (agent.serial_number if agent is not None else '') or sw.boot_serial
        device = context.want(
            'dcim.Device', source, sw.name,
            {
                'name': sw.name, 'device_type_id': profile.device_type,
                'role_id': context.device_role(sw.role or 'switch'), 'platform_id': profile.platform,
                'site_id': context.site_id, 'tenant_id': context.tenant_id, 'serial': serial[:50],
                'description': sw.description[:200], 'status': 'active',
            },
            identity=(('site_id', context.site_id), ('name', sw.name)),
            tags=_group_tags(context, sw),
        )
        breakouts = sw.spec.get('portBreakouts') if isinstance(sw.spec, dict) else None
        breakouts = breakouts if isinstance(breakouts, dict) else {}
        info = DeviceInfo(device, source, _switch_port_type(profile, breakouts))
        context.register('device', sw.name, info)
        _breakout_lanes(context, sw, info, breakouts)
        management_port = profile.management_ports[0] if profile.management_ports else DEFAULT_MANAGEMENT_PORT
        primary = _switch_address(context, sw, device, source, management_port, sw.management_ip, 'management IP',
                                  type=MANAGEMENT_TYPE, mgmt_only=True)
        _switch_address(context, sw, device, source, PROTOCOL_INTERFACE, sw.protocol_ip, 'protocol IP',
                        type='virtual')
        _switch_address(context, sw, device, source, VTEP_INTERFACE, sw.vtep_ip, 'VTEP IP', type='virtual')
        if primary is not None:
            context.plan.wants[(device.model, device.source)].late['primary_ip4_id'] = primary


def server(context, rows):
    device_type = context.device_type(
        Source('Server', '', 'device-type'), context.manufacturer(SERVER_MANUFACTURER), SERVER_DEVICE_TYPE,
    )
    role = context.device_role('server')
    for srv in rows:
        if len(srv.name) > INTERFACE_NAME_LENGTH:
            context.skip('Server', srv, 'the name is longer than NetBox allows for a device; not added')
            continue
        source = Source('Server', srv.uid)
        device = context.want(
            'dcim.Device', source, srv.name,
            {
                'name': srv.name, 'device_type_id': device_type, 'role_id': role, 'platform_id': None,
                'site_id': context.site_id, 'tenant_id': context.tenant_id,
                'description': srv.description[:200], 'status': 'active',
            },
            identity=(('site_id', context.site_id), ('name', srv.name)),
        )
        context.register('device', srv.name, DeviceInfo(device, source))


def _end(context, conn, link, end, key):
    """
    (DeviceInfo, port name, IP or '') of one end of a link; DeviceInfo is None, and the run has an error naming
    the port, when its device is not in the inventory (not mirrored, or not mapped).
    """
    value = link.get(end)
    if not isinstance(value, dict) or not isinstance(value.get('port'), str):
        raise MalformedObject(f'spec.{key}: a link has no {end} port')
    device_name, _, port = value['port'].partition('/')
    if not port or len(port) > INTERFACE_NAME_LENGTH:
        raise MalformedObject(f'spec.{key}: {value["port"][:80]!r} is not "<device>/<port>" with a short port name')
    info = context.lookup('device', device_name)
    if info is None:
        # Reported, and what the connection has in the inventory is kept: a device that is missing for a while
        # (not yet listed, skipped as malformed) must not take the connection's cables with it.
        context.skip('Connection', conn, f'the link end {value["port"][:80]!r} names a device that is not in the '
                                         'inventory; the link was not added')
    ip = value.get('ip') if isinstance(value.get('ip'), str) else ''
    return info, port, ip


def _links(body, key, lists):
    links = []
    for list_name in lists:
        if list_name == 'link':
            single = mapping(body, 'link', f'spec.{key}')
            links += [single] if single else []
        else:
            links += [link for link in sequence(body, list_name, f'spec.{key}') if isinstance(link, dict)]
    return links


def _link_interface(context, conn, info, port, ip, description, lag=None):
    fields = {'type': info.port_type(port)}
    if description:
        fields['description'] = description[:200]
    if lag is not None:
        fields['lag_id'] = lag
    interface = context.interface(info.device, info.source, port, fields)
    if ip:
        address = context.ip_address(Source('Connection', conn.uid, f'ip:{info.source.uid}/{port}'), ip, interface,
                                     description=conn.name)
        if address is None:
            context.skip('Connection', conn, f'{ip[:64]!r} on {port} is not an IP address; not added')
    return interface


def _map_connection(context, conn):
    spec = conn.spec if isinstance(conn.spec, dict) else {}
    keys = [key for key, value in spec.items() if isinstance(value, dict)]
    if len(keys) != 1:
        raise MalformedObject('spec must set exactly one connection type')
    key = keys[0]
    body = spec[key]
    if key in UNCABLED_LINKS:
        for link in _links(body, key, UNCABLED_LINKS[key]):
            info, port, ip = _end(context, conn, link, 'switch', key)
            if info is not None:
                _link_interface(context, conn, info, port, ip, conn.name)
        return
    if key not in CABLED_LINKS:
        raise MalformedObject(f'the connection type {key[:40]!r} is not one the inventory knows')
    lists, (a_end, b_end) = CABLED_LINKS[key]
    lags = {}
    for index, link in enumerate(_links(body, key, lists)):
        a_info, a_port, a_ip = _end(context, conn, link, a_end, key)
        b_info, b_port, b_ip = _end(context, conn, link, b_end, key)
        lag = None
        if key in BONDED and a_info is not None:
            if a_info.device not in lags:
                lags[a_info.device] = context.interface(
                    a_info.device, a_info.source, conn.name[:INTERFACE_NAME_LENGTH],
                    {'type': 'lag', 'description': conn.name[:200]}, order=0,
                )
            lag = lags[a_info.device]
        # The end whose device is there keeps its port (and the port its cable, protected with the connection)
        # while the other end is missing; _end reported the missing one.
        a_interface = _link_interface(context, conn, a_info, a_port, a_ip, '', lag) if a_info else None
        b_interface = _link_interface(context, conn, b_info, b_port, b_ip, '') if b_info else None
        if a_interface is None or b_interface is None:
            continue
        context.want(
            'dcim.Cable', Source('Connection', conn.uid, f'link:{index}'), f'{conn.name} link {index + 1}',
            {
                'a_terminations': (a_interface,), 'b_terminations': (b_interface,), 'label': conn.name[:100],
                'status': 'connected', 'tenant_id': context.tenant_id,
            },
        )


def connection(context, rows):
    for conn in rows:
        try:
            _map_connection(context, conn)
        except MalformedObject as exc:
            context.skip('Connection', conn, f'not added to the inventory: {exc}')


def _vid_ranges(spec):
    ranges = []
    for entry in sequence(spec, 'ranges'):
        if not isinstance(entry, dict):
            raise MalformedObject('spec.ranges must be a list of {from, to}')
        low = entry.get('from')
        high = entry.get('to') or low
        if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4094 for v in (low, high)) \
                or low > high:
            raise MalformedObject('spec.ranges holds a range outside 1-4094')
        ranges.append((low, high + 1))
    if not ranges or len(ranges) > 20:
        raise MalformedObject('spec.ranges must hold 1 to 20 ranges')
    return tuple(sorted(ranges))


def vlan_namespace(context, rows):
    for namespace in rows:
        try:
            vid_ranges = _vid_ranges(namespace.spec if isinstance(namespace.spec, dict) else {})
        except MalformedObject as exc:
            context.skip('VLANNamespace', namespace, f'not added to the inventory: {exc}')
            continue
        name = context.qualified(namespace.name)
        group = context.want(
            'ipam.VLANGroup', Source('VLANNamespace', namespace.uid), name,
            {
                'name': name, 'slug': slug(name), 'scope_type_id': context.site_type_id,
                'scope_id': context.site_id, 'vid_ranges': vid_ranges, 'tenant_id': context.tenant_id,
                'description': f'Hedgehog VLAN namespace {namespace.name}'[:200],
            },
            identity=(('scope_type_id', context.site_type_id), ('scope_id', context.site_id), ('name', name)),
        )
        context.register('VLANNamespace', namespace.name, group)


def ipv4_namespace(context, rows):
    for namespace in rows:
        name = context.qualified(namespace.name)
        vrf = context.want(
            'ipam.VRF', Source('IPv4Namespace', namespace.uid), name,
            {
                'name': name, 'enforce_unique': True, 'tenant_id': context.tenant_id,
                'description': f'Hedgehog IPv4 namespace {namespace.name}'[:200],
            },
            identity=(('name', name),),
        )
        context.register('IPv4Namespace', namespace.name, vrf)
        spec = namespace.spec if isinstance(namespace.spec, dict) else {}
        for subnet in spec.get('subnets') or ():
            _prefix(context, Source('IPv4Namespace', namespace.uid, f'prefix:{subnet}'), subnet, vrf, 'container',
                    f'Hedgehog IPv4 namespace {namespace.name}', 'IPv4Namespace', namespace)


def _prefix(context, source, subnet, vrf, status, description, kind, item, vlan=None):
    prefix = parse_prefix(subnet)
    if prefix is None:
        context.skip(kind, item, f'{str(subnet)[:64]!r} is not a subnet; not added')
        return None
    return context.want(
        'ipam.Prefix', source, prefix,
        {
            'prefix': prefix, 'vrf_id': vrf, 'status': status, 'tenant_id': context.tenant_id, 'vlan_id': vlan,
            'description': description[:200],
        },
        identity=(('vrf_id', vrf), ('prefix', prefix)),
    )


def vpc(context, rows):
    for item in rows:
        spec = item.spec if isinstance(item.spec, dict) else {}
        vrf = context.lookup('IPv4Namespace', item.ipv4_namespace_name)
        group = context.lookup('VLANNamespace', item.vlan_namespace_name)
        subnets = spec.get('subnets')
        for subnet_name, subnet in sorted((subnets if isinstance(subnets, dict) else {}).items()):
            if not isinstance(subnet, dict) or not isinstance(subnet_name, str) or len(subnet_name) > 63:
                context.skip('VPC', item, f'the subnet {str(subnet_name)[:63]!r} is not one NetBox can hold; not added')
                continue
            label = f'{item.name}/{subnet_name}'
            vlan = None
            vid = subnet.get('vlan')
            if group is not None and isinstance(vid, int) and not isinstance(vid, bool) and 1 <= vid <= 4094:
                vlan = context.want(
                    'ipam.VLAN', Source('VPC', item.uid, f'vlan:{subnet_name}'), label,
                    {
                        'group_id': group, 'vid': vid, 'name': label[:64], 'status': 'active',
                        'tenant_id': context.tenant_id, 'description': f'VPC {item.name} subnet {subnet_name}'[:200],
                    },
                    identity=(('group_id', group), ('vid', vid)),
                )
            _prefix(context, Source('VPC', item.uid, f'prefix:{subnet_name}'), subnet.get('subnet'), vrf, 'active',
                    f'VPC {item.name} subnet {subnet_name}', 'VPC', item, vlan=vlan)
