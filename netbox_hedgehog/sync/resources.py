"""
Read one listed Kubernetes object into the values of its mirror row, or say precisely why it is malformed.

Every value the mirror promotes is type-checked here, so that bad input is reported by name and skipped instead
of failing the database write of a whole run. The fabric's own defaults (filled by Hedgehog's admission webhook)
are applied where an object written by hand may leave a reference empty.
"""

import json
from dataclasses import dataclass
from datetime import datetime

__all__ = ('MalformedObject', 'MirrorRow', 'read_identity', 'read_object')

NAME_LENGTH = 253
# Fields of the agent spec kept in the mirror. Everything else in it is a copy of fabric configuration, and
# "users" and "version" hold password hashes and registry credentials.
AGENT_SPEC_FIELDS = ('role', 'description')
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
# Kinds whose spec fields are all optional, so an object written without a spec is still whole. (Hedgehog's
# webhook adds an empty spec to what it admits, but wiring files such as the lab samples omit it.)
SPEC_OPTIONAL_KINDS = {'SwitchGroup', 'Server', 'ServerProfile', 'External', 'Agent'}

_MISSING = object()


class MalformedObject(Exception):
    """The object cannot be mirrored; str() says which field is wrong."""


@dataclass
class MirrorRow:
    """The values of one object's mirror row (all model fields except the fabric and the resolved relations)."""

    uid: str
    name: str
    resource_version: str
    values: dict


#
# Typed access to nested fields
#


def _lookup(data, path, root):
    value = data
    for part in path.split('.'):
        if value is None or value is _MISSING:
            return _MISSING
        if not isinstance(value, dict):
            raise MalformedObject(f'{root}.{path} cannot be read: its parent is not an object')
        value = value.get(part, _MISSING)
    return value


def _text(data, path, root='spec', max_length=255, default=''):
    value = _lookup(data, path, root)
    if value is _MISSING or value is None:
        return default
    if not isinstance(value, str):
        raise MalformedObject(f'{root}.{path} must be a string, not {type(value).__name__}')
    if max_length and len(value) > max_length:
        raise MalformedObject(f'{root}.{path} is longer than {max_length} characters')
    return value


def _integer(data, path, root='spec', minimum=0, maximum=2**63 - 1):
    value = _lookup(data, path, root)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedObject(f'{root}.{path} must be a whole number, not {type(value).__name__}')
    if not minimum <= value <= maximum:
        raise MalformedObject(f'{root}.{path} is out of range ({value})')
    return value


def _boolean(data, path, root='spec'):
    value = _lookup(data, path, root)
    if value is _MISSING or value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedObject(f'{root}.{path} must be true or false, not {type(value).__name__}')
    return value


def _mapping(data, path, root='spec'):
    value = _lookup(data, path, root)
    if value is _MISSING or value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedObject(f'{root}.{path} must be an object, not {type(value).__name__}')
    return value


def _sequence(data, path, root='spec'):
    value = _lookup(data, path, root)
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, list):
        raise MalformedObject(f'{root}.{path} must be a list, not {type(value).__name__}')
    return value


def _names(data, path, root='spec'):
    names = _sequence(data, path, root)
    for name in names:
        if not isinstance(name, str) or len(name) > NAME_LENGTH:
            raise MalformedObject(f'{root}.{path} must be a list of object names')
    return list(dict.fromkeys(names))


def _timestamp(data, path, root):
    value = _text(data, path, root, max_length=64)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedObject(f'{root}.{path} is not a timestamp ("{value}")')
    if moment.tzinfo is None:
        raise MalformedObject(f'{root}.{path} has no time zone ("{value}")')
    return moment


def _string_map(data, path, root):
    value = _mapping(data, path, root)
    if not all(isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise MalformedObject(f'{root}.{path} must map strings to strings')
    return value


#
# Promoted fields, per kind. Each takes the object's spec and status and its metadata.generation.
#


def _switch_profile(spec, status, generation):
    return {
        'display_name': _text(spec, 'displayName'),
        'nos_type': _text(spec, 'nosType', max_length=64),
        'platform': _text(spec, 'platform'),
    }


def _switch(spec, status, generation):
    return {
        'role': _text(spec, 'role', max_length=32),
        'description': _text(spec, 'description', max_length=None),
        'profile_name': _text(spec, 'profile', max_length=NAME_LENGTH),
        'asn': _integer(spec, 'asn', maximum=2**32 - 1),
        'management_ip': _text(spec, 'ip', max_length=64),
        'protocol_ip': _text(spec, 'protocolIP', max_length=64),
        'vtep_ip': _text(spec, 'vtepIP', max_length=64),
        'redundancy_group_name': _text(spec, 'redundancy.group', max_length=NAME_LENGTH),
        'redundancy_type': _text(spec, 'redundancy.type', max_length=16),
        'boot_serial': _text(spec, 'boot.serial'),
        'boot_mac': _text(spec, 'boot.mac', max_length=64),
        'group_names': _names(spec, 'groups'),
        'vlan_namespace_names': _names(spec, 'vlanNamespaces') or ['default'],
    }


def _server(spec, status, generation):
    return {
        'description': _text(spec, 'description', max_length=None),
        'profile_name': _text(spec, 'profile', max_length=NAME_LENGTH),
    }


def _connection_links(body, key):
    """The link objects of a connection spec, whether it holds one "link" or lists of them."""
    links = []
    single = _mapping(body, 'link', f'spec.{key}')
    if single:
        links.append(single)
    for list_name in ('links', 'peerLinks', 'sessionLinks'):
        for link in _sequence(body, list_name, f'spec.{key}'):
            if not isinstance(link, dict):
                raise MalformedObject(f'spec.{key}.{list_name} must be a list of objects')
            links.append(link)
    return links


def _connection(spec, status, generation):
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


def _vpc(spec, status, generation):
    return {
        # An empty mode is Hedgehog's default, L2VNI.
        'mode': _text(spec, 'mode', max_length=16) or 'l2vni',
        'ipv4_namespace_name': _text(spec, 'ipv4Namespace', max_length=NAME_LENGTH) or 'default',
        'vlan_namespace_name': _text(spec, 'vlanNamespace', max_length=NAME_LENGTH) or 'default',
        'subnet_count': len(_mapping(spec, 'subnets')),
    }


def _vpc_attachment(spec, status, generation):
    subnet = _text(spec, 'subnet', max_length=512)
    vpc_name, _, subnet_name = subnet.partition('/')
    if len(vpc_name) > NAME_LENGTH or len(subnet_name) > NAME_LENGTH:
        raise MalformedObject('spec.subnet must be "<vpc>/<subnet>"')
    return {
        'subnet': subnet,
        'vpc_name': vpc_name,
        # A bare "<vpc>" means the VPC's subnet named "default".
        'subnet_name': subnet_name or ('default' if vpc_name else ''),
        'connection_name': _text(spec, 'connection', max_length=NAME_LENGTH),
        'native_vlan': _boolean(spec, 'nativeVLAN'),
    }


def _vpc_peering(spec, status, generation):
    names = set()
    for entry in _sequence(spec, 'permit'):
        if not isinstance(entry, dict):
            raise MalformedObject('spec.permit must be a list of objects keyed by VPC name')
        names.update(entry)
    if len(names) > 2:
        raise MalformedObject(f'spec.permit names more than two VPCs ({", ".join(sorted(names))})')
    if any(len(name) > NAME_LENGTH for name in names):
        raise MalformedObject('spec.permit must be keyed by VPC names')
    vpc1, vpc2 = (sorted(names) + ['', ''])[:2]
    return {'vpc1_name': vpc1, 'vpc2_name': vpc2}


def _external(spec, status, generation):
    return {
        'ipv4_namespace_name': _text(spec, 'ipv4Namespace', max_length=NAME_LENGTH) or 'default',
        'inbound_community': _text(spec, 'inboundCommunity', max_length=64),
        'outbound_community': _text(spec, 'outboundCommunity', max_length=64),
        'static': bool(_mapping(spec, 'static')),
    }


def _external_attachment(spec, status, generation):
    static = _mapping(spec, 'static')
    values = {
        'external_name': _text(spec, 'external', max_length=NAME_LENGTH),
        'connection_name': _text(spec, 'connection', max_length=NAME_LENGTH),
        'static': bool(static),
    }
    if static:
        # A static attachment has no BGP neighbor: its next hop is the remote IP.
        values.update(
            switch_vlan=_integer(spec, 'static.vlan', maximum=4095),
            switch_ip=_text(spec, 'static.ip', max_length=64),
            neighbor_asn=None,
            neighbor_ip=_text(spec, 'static.remoteIP', max_length=64),
        )
    else:
        values.update(
            switch_vlan=_integer(spec, 'switch.vlan', maximum=4095),
            switch_ip=_text(spec, 'switch.ip', max_length=64),
            neighbor_asn=_integer(spec, 'neighbor.asn', maximum=2**32 - 1),
            neighbor_ip=_text(spec, 'neighbor.ip', max_length=64),
        )
    return values


def _external_peering(spec, status, generation):
    return {
        'vpc_name': _text(spec, 'permit.vpc.name', max_length=NAME_LENGTH),
        'external_name': _text(spec, 'permit.external.name', max_length=NAME_LENGTH),
    }


def _applied_condition(status):
    for condition in _sequence(status, 'conditions', 'status'):
        if isinstance(condition, dict) and condition.get('type') == 'Applied':
            return condition
    return {}


def _agent(spec, status, generation):
    applied = _applied_condition(status)
    applied_generation = _integer(status, 'lastAppliedGen', 'status')
    interfaces = _mapping(status, 'state.interfaces', 'status')
    vrfs = _mapping(status, 'state.bgpNeighbors', 'status')
    neighbors = [
        neighbor for vrf in vrfs.values() if isinstance(vrf, dict) for neighbor in vrf.values()
        if isinstance(neighbor, dict)
    ]
    return {
        'last_heartbeat': _timestamp(status, 'lastHeartbeat', 'status'),
        'applied_generation': applied_generation,
        'ready': applied_generation is not None and applied_generation == generation,
        'applied_status': _text(applied, 'status', 'status.conditions[Applied]', max_length=16),
        'applied_reason': _text(applied, 'reason', 'status.conditions[Applied]'),
        'applied_message': _text(applied, 'message', 'status.conditions[Applied]', max_length=None),
        'agent_version': _text(status, 'version', 'status'),
        'nos_version': _text(status, 'state.nos.softwareVersion', 'status'),
        'serial_number': _text(status, 'state.nos.serialNumber', 'status'),
        'interfaces_total': len(interfaces),
        'interfaces_up': sum(
            1 for state in interfaces.values() if isinstance(state, dict) and state.get('oper') == 'up'
        ),
        'bgp_neighbors_total': len(neighbors),
        'bgp_neighbors_established': sum(1 for neighbor in neighbors if neighbor.get('state') == 'established'),
    }


PROMOTERS = {
    'SwitchProfile': _switch_profile,
    'ServerProfile': lambda spec, status, generation: {},
    'SwitchGroup': lambda spec, status, generation: {},
    'VLANNamespace': lambda spec, status, generation: {},
    'IPv4Namespace': lambda spec, status, generation: {},
    'Switch': _switch,
    'Server': _server,
    'Connection': _connection,
    'VPC': _vpc,
    'VPCAttachment': _vpc_attachment,
    'VPCPeering': _vpc_peering,
    'External': _external,
    'ExternalAttachment': _external_attachment,
    'ExternalPeering': _external_peering,
    'Agent': _agent,
}


def _stored_spec(kind, spec):
    if kind == 'Agent':
        return {key: spec[key] for key in AGENT_SPEC_FIELDS if isinstance(spec.get(key), str)}
    return spec


def read_identity(item):
    """(uid, name, resourceVersion) of a listed object: all a sync needs to know about an unchanged one."""
    if not isinstance(item, dict):
        raise MalformedObject(f'the object is a {type(item).__name__}, not an object')
    metadata = item.get('metadata')
    if not isinstance(metadata, dict):
        raise MalformedObject('metadata is missing')
    identity = (
        _text(metadata, 'uid', 'metadata', max_length=64),
        _text(metadata, 'name', 'metadata', max_length=NAME_LENGTH),
        _text(metadata, 'resourceVersion', 'metadata', max_length=64),
    )
    for field, value in zip(('uid', 'name', 'resourceVersion'), identity, strict=True):
        if not value:
            raise MalformedObject(f'metadata.{field} is missing')
    return identity


def read_object(kind, item, namespace):
    """
    Return the MirrorRow of one object listed in a namespace; raise MalformedObject when it cannot be mirrored.
    """
    uid, name, resource_version = read_identity(item)
    metadata = item['metadata']
    generation = _integer(metadata, 'generation', 'metadata')
    spec = item.get('spec', _MISSING)
    if spec is _MISSING or spec is None:
        if kind not in SPEC_OPTIONAL_KINDS:
            raise MalformedObject('spec is missing')
        spec = {}
    if not isinstance(spec, dict):
        raise MalformedObject(f'spec must be an object, not {type(spec).__name__}')
    status = item.get('status') or {}
    if not isinstance(status, dict):
        raise MalformedObject(f'status must be an object, not {type(status).__name__}')
    values = {
        'name': name,
        'namespace': _text(metadata, 'namespace', 'metadata', max_length=63) or namespace,
        'uid': uid,
        'resource_version': resource_version,
        'generation': generation,
        'labels': _string_map(metadata, 'labels', 'metadata'),
        'annotations': _string_map(metadata, 'annotations', 'metadata'),
        'spec': _stored_spec(kind, spec),
        'status': status,
        'kubernetes_created': _timestamp(metadata, 'creationTimestamp', 'metadata'),
        **PROMOTERS[kind](spec, status, generation),
    }
    if kind == 'Agent':
        # An agent is named after its switch.
        values['switch_name'] = name
    if '\\u0000' in json.dumps([metadata, values['spec'], status]):
        raise MalformedObject('it holds a NUL character, which PostgreSQL cannot store')
    return MirrorRow(uid=uid, name=name, resource_version=resource_version, values=values)
