"""
Promoted fields, per kind: the columns people filter and list by, read from an object's spec and status.

Each promoter takes the object's spec, status and ObjectMeta and returns {model field: value}, raising
MalformedObject (through the typed readers) when a value cannot be mirrored. The fabric's own defaults (filled by
Hedgehog's admission webhook) are applied where an object written by hand may leave a reference empty.
"""

from typing import NamedTuple

from .values import NAME_LENGTH, MalformedObject, boolean, integer, mapping, name_list, sequence, text, timestamp

__all__ = (
    'ObjectMeta',
    'agent',
    'connection',
    'external',
    'external_attachment',
    'external_peering',
    'server',
    'switch',
    'switch_profile',
    'vpc',
    'vpc_attachment',
    'vpc_peering',
)

# Hedgehog connection types: spec key -> the value of Hedgehog's connection-type label.
CONNECTION_TYPES = {
    'unbundled': 'unbundled',
    'bundled': 'bundled',
    'eslag': 'eslag',
    'mclag': 'mclag',
    'mclagDomain': 'mclag-domain',
    'fabric': 'fabric',
    'mesh': 'mesh',
    'gateway': 'gateway',
    'vpcLoopback': 'vpc-loopback',
    'external': 'external',
    'staticExternal': 'static-external',
}
# Connection link ends that are not switches.
SERVER_END = 'server'
GATEWAY_END = 'gateway'


class ObjectMeta(NamedTuple):
    """What a promoter may need from an object's metadata."""

    name: str
    generation: int | None


def switch_profile(spec, status, meta):
    return {
        'display_name': text(spec, 'displayName'),
        'nos_type': text(spec, 'nosType', max_length=64),
        'platform': text(spec, 'platform'),
    }


def switch(spec, status, meta):
    return {
        'role': text(spec, 'role', max_length=32),
        'description': text(spec, 'description', max_length=None),
        'profile_name': text(spec, 'profile', max_length=NAME_LENGTH),
        'asn': integer(spec, 'asn', maximum=2**32 - 1),
        'management_ip': text(spec, 'ip', max_length=64),
        'protocol_ip': text(spec, 'protocolIP', max_length=64),
        'vtep_ip': text(spec, 'vtepIP', max_length=64),
        'redundancy_group_name': text(spec, 'redundancy.group', max_length=NAME_LENGTH),
        'redundancy_type': text(spec, 'redundancy.type', max_length=16),
        'boot_serial': text(spec, 'boot.serial'),
        'boot_mac': text(spec, 'boot.mac', max_length=64),
        'group_names': name_list(spec, 'groups'),
        'vlan_namespace_names': name_list(spec, 'vlanNamespaces') or ['default'],
    }


def server(spec, status, meta):
    return {
        'description': text(spec, 'description', max_length=None),
        'profile_name': text(spec, 'profile', max_length=NAME_LENGTH),
    }


def _connection_links(body, key):
    """The link objects of a connection spec, whether it holds one "link" or lists of them."""
    links = []
    single = mapping(body, 'link', f'spec.{key}')
    if single:
        links.append(single)
    for list_name in ('links', 'peerLinks', 'sessionLinks'):
        for link in sequence(body, list_name, f'spec.{key}'):
            if not isinstance(link, dict):
                raise MalformedObject(f'spec.{key}.{list_name} must be a list of objects')
            links.append(link)
    return links


def connection(spec, status, meta):
    keys = [key for key, value in spec.items() if value is not None]
    if len(keys) != 1:
        raise MalformedObject(
            'spec must set exactly one connection type' + (f' (it sets {", ".join(sorted(keys))})' if keys else '')
        )
    key = keys[0]
    body = spec[key]
    if not isinstance(body, dict):
        raise MalformedObject(f'spec.{key} must be an object, not {type(body).__name__}')
    endpoints, switches, servers = [], [], []
    for link in _connection_links(body, key):
        for end, value in link.items():
            if not isinstance(value, dict) or 'port' not in value:
                continue
            port = value['port']
            if not isinstance(port, str) or '/' not in port or len(port) > 512:
                raise MalformedObject(f'spec.{key}: the {end} port must be "<device>/<port>", not {port!r}')
            endpoints.append(port)
            device = port.split('/', 1)[0]
            if end == SERVER_END:
                servers.append(device)
            elif end != GATEWAY_END:
                switches.append(device)
    return {
        'connection_type': CONNECTION_TYPES.get(key, key)[:32],
        'endpoints': endpoints,
        'switch_names': list(dict.fromkeys(switches)),
        'server_names': list(dict.fromkeys(servers)),
    }


def vpc(spec, status, meta):
    return {
        # An empty mode is Hedgehog's default, L2VNI.
        'mode': text(spec, 'mode', max_length=16) or 'l2vni',
        'ipv4_namespace_name': text(spec, 'ipv4Namespace', max_length=NAME_LENGTH) or 'default',
        'vlan_namespace_name': text(spec, 'vlanNamespace', max_length=NAME_LENGTH) or 'default',
        'subnet_count': len(mapping(spec, 'subnets')),
    }


def vpc_attachment(spec, status, meta):
    subnet = text(spec, 'subnet', max_length=512)
    vpc_name, _, subnet_name = subnet.partition('/')
    if len(vpc_name) > NAME_LENGTH or len(subnet_name) > NAME_LENGTH:
        raise MalformedObject('spec.subnet must be "<vpc>/<subnet>"')
    return {
        'subnet': subnet,
        'vpc_name': vpc_name,
        # A bare "<vpc>" means the VPC's subnet named "default".
        'subnet_name': subnet_name or ('default' if vpc_name else ''),
        'connection_name': text(spec, 'connection', max_length=NAME_LENGTH),
        'native_vlan': boolean(spec, 'nativeVLAN'),
    }


def vpc_peering(spec, status, meta):
    names = set()
    for entry in sequence(spec, 'permit'):
        if not isinstance(entry, dict):
            raise MalformedObject('spec.permit must be a list of objects keyed by VPC name')
        names.update(entry)
    if len(names) > 2:
        raise MalformedObject(f'spec.permit names more than two VPCs ({", ".join(sorted(names))})')
    if any(len(name) > NAME_LENGTH for name in names):
        raise MalformedObject('spec.permit must be keyed by VPC names')
    vpc1, vpc2 = (sorted(names) + ['', ''])[:2]
    return {'vpc1_name': vpc1, 'vpc2_name': vpc2}


def external(spec, status, meta):
    return {
        'ipv4_namespace_name': text(spec, 'ipv4Namespace', max_length=NAME_LENGTH) or 'default',
        'inbound_community': text(spec, 'inboundCommunity', max_length=64),
        'outbound_community': text(spec, 'outboundCommunity', max_length=64),
        'static': bool(mapping(spec, 'static')),
    }


def external_attachment(spec, status, meta):
    static = mapping(spec, 'static')
    values = {
        'external_name': text(spec, 'external', max_length=NAME_LENGTH),
        'connection_name': text(spec, 'connection', max_length=NAME_LENGTH),
        'static': bool(static),
    }
    if static:
        # A static attachment has no BGP neighbor: its next hop is the remote IP.
        values.update(
            switch_vlan=integer(spec, 'static.vlan', maximum=4095),
            switch_ip=text(spec, 'static.ip', max_length=64),
            neighbor_asn=None,
            neighbor_ip=text(spec, 'static.remoteIP', max_length=64),
        )
    else:
        values.update(
            switch_vlan=integer(spec, 'switch.vlan', maximum=4095),
            switch_ip=text(spec, 'switch.ip', max_length=64),
            neighbor_asn=integer(spec, 'neighbor.asn', maximum=2**32 - 1),
            neighbor_ip=text(spec, 'neighbor.ip', max_length=64),
        )
    return values


def external_peering(spec, status, meta):
    return {
        'vpc_name': text(spec, 'permit.vpc.name', max_length=NAME_LENGTH),
        'external_name': text(spec, 'permit.external.name', max_length=NAME_LENGTH),
    }


def _applied_condition(status):
    for condition in sequence(status, 'conditions', 'status'):
        if isinstance(condition, dict) and condition.get('type') == 'Applied':
            return condition
    return {}


def agent(spec, status, meta):
    applied = _applied_condition(status)
    applied_generation = integer(status, 'lastAppliedGen', 'status')
    interfaces = mapping(status, 'state.interfaces', 'status')
    vrfs = mapping(status, 'state.bgpNeighbors', 'status')
    neighbors = [
        neighbor for vrf in vrfs.values() if isinstance(vrf, dict) for neighbor in vrf.values()
        if isinstance(neighbor, dict)
    ]
    return {
        # An agent is named after its switch.
        'switch_name': meta.name,
        'last_heartbeat': timestamp(status, 'lastHeartbeat', 'status'),
        'applied_generation': applied_generation,
        'ready': applied_generation is not None and applied_generation == meta.generation,
        'applied_status': text(applied, 'status', 'status.conditions[Applied]', max_length=16),
        'applied_reason': text(applied, 'reason', 'status.conditions[Applied]'),
        'applied_message': text(applied, 'message', 'status.conditions[Applied]', max_length=None),
        'agent_version': text(status, 'version', 'status'),
        'nos_version': text(status, 'state.nos.softwareVersion', 'status'),
        'serial_number': text(status, 'state.nos.serialNumber', 'status'),
        'interfaces_total': len(interfaces),
        'interfaces_up': sum(
            1 for state in interfaces.values() if isinstance(state, dict) and state.get('oper') == 'up'
        ),
        'bgp_neighbors_total': len(neighbors),
        'bgp_neighbors_established': sum(1 for neighbor in neighbors if neighbor.get('state') == 'established'),
    }
