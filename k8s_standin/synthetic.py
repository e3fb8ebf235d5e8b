"""A large synthetic Hedgehog fabric with valid-shaped, cross-referencing objects, for benchmarks and scale tests.

Spine-leaf: a twentieth of the switches are spines, leaves come in ESLAG pairs. Fabric connections join leaves to
spines (at most half the connection budget), the rest are server connections (unbundled, bundled, eslag), each to
a server of its own. VPCs have 1-3 subnets in the default IPv4 and VLAN namespaces; VPCAttachments reference
existing subnets and server connections. One Agent per switch. Objects look hydrated (ASNs, IPs, VTEPs, fabric
link IPs) and carry the labels Hedgehog's webhooks set. The output depends only on the sizes, the seed and `now`.
"""

import ipaddress
import random
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from k8s_standin.agents import agent_for_switch

WIRING = 'wiring.githedgehog.com/v1beta1'
VPC_API = 'vpc.githedgehog.com/v1beta1'
NAMESPACE = 'default'
SPINE_ASN = 65100
LEAF_ASN_START = 65101
MANAGEMENT_BASE = ipaddress.ip_address('172.28.0.10')
PROTOCOL_BASE = ipaddress.ip_address('172.30.8.0')
VTEP_BASE = ipaddress.ip_address('172.30.64.0')
FABRIC_LINK_BASE = ipaddress.ip_address('172.31.0.0')
VLAN_FIRST, VLAN_LAST = 1000, 2999
LEAF_PROFILES = ('celestica-ds3000', 'dell-s5248f-on', 'supermicro-sse-c4632sb')
SERVER_CONNECTION_TYPES = ('unbundled', 'bundled', 'eslag')


@dataclass(frozen=True)
class FabricSize:
    switches: int = 200
    connections: int = 4000
    vpcs: int = 2000
    attachments: int = 4000


def parse_size(text: str | None) -> FabricSize:
    """`switches=200,connections=4000,vpcs=2000,attachments=4000`; missing entries keep their default."""
    known = {field.name for field in fields(FabricSize)}
    values = {}
    for part in (text or '').split(','):
        if not part.strip():
            continue
        key, _, value = part.partition('=')
        key = key.strip()
        if key not in known or not value.strip().isdigit():
            raise ValueError(f'bad size {part!r}: expected one of {sorted(known)} = a number')
        values[key] = int(value)
    return FabricSize(**values)


def _meta(name: str, labels: dict | None = None) -> dict:
    metadata = {'name': name, 'namespace': NAMESPACE}
    if labels:
        metadata['labels'] = labels
    return metadata


class _Ports:
    """Hands out unused port names per device, so no port is wired twice."""

    def __init__(self):
        self._next: dict[str, int] = {}

    def take(self, device: str, first: int = 1) -> str:
        number = self._next.get(device, first)
        self._next[device] = number + 1
        return f'{device}/E1/{number}'


class _FabricBuilder:
    def __init__(self, size: FabricSize, seed: int, now: datetime):
        if size.switches < 2:
            raise ValueError('a spine-leaf fabric needs at least 2 switches')
        if min(size.connections, size.vpcs, size.attachments) < 0:
            raise ValueError('sizes must not be negative')
        self.size = size
        self.rng = random.Random(seed)
        self.now = now
        self.ports = _Ports()
        self.objects: list[dict] = []
        self.spines: list[str] = []
        self.leaves: list[str] = []
        self.pairs: list[tuple[str, str]] = []
        self.server_connections: list[str] = []
        self.vpc_subnets: list[tuple[str, list[str]]] = []
        self.switch_objects: list[dict] = []

    def build(self) -> list[dict]:
        self._namespaces()
        self._switches()
        fabric_links = self._fabric_connections()
        self._server_connections(self.size.connections - fabric_links)
        self._vpcs()
        self._attachments()
        self.objects.extend(
            agent_for_switch(switch, index, self.now) for index, switch in enumerate(self.switch_objects)
        )
        return self.objects

    def _namespaces(self):
        self.objects.append({
            'apiVersion': WIRING,
            'kind': 'VLANNamespace',
            'metadata': _meta('default'),
            'spec': {'ranges': [{'from': VLAN_FIRST, 'to': VLAN_LAST}]},
        })
        self.objects.append({
            'apiVersion': VPC_API,
            'kind': 'IPv4Namespace',
            'metadata': _meta('default'),
            'spec': {'subnets': ['10.0.0.0/8']},
        })

    def _serial(self) -> str:
        return 'SYN' + ''.join(self.rng.choice('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ') for _ in range(13))

    def _switches(self):
        spine_count = max(1, self.size.switches // 20)
        leaf_count = self.size.switches - spine_count
        self.spines = [f'spine-{i + 1:02d}' for i in range(spine_count)]
        self.leaves = [f'leaf-{i + 1:03d}' for i in range(leaf_count)]
        self.pairs = [(self.leaves[i], self.leaves[i + 1]) for i in range(0, leaf_count - 1, 2)]
        group_of = {}
        for number, pair in enumerate(self.pairs, start=1):
            group = f'eslag-{number:03d}'
            group_of.update(dict.fromkeys(pair, group))
            self.objects.append({'apiVersion': WIRING, 'kind': 'SwitchGroup', 'metadata': _meta(group), 'spec': {}})
        for index, name in enumerate(self.spines + self.leaves):
            spine = index < spine_count
            leaf_number = index - spine_count
            profile = 'celestica-ds4000' if spine else LEAF_PROFILES[leaf_number % len(LEAF_PROFILES)]
            spec = {
                'role': 'spine' if spine else ('border-leaf' if leaf_number >= leaf_count - 2 else 'server-leaf'),
                'description': name,
                'profile': profile,
                'asn': SPINE_ASN if spine else LEAF_ASN_START + leaf_number,
                'ip': f'{MANAGEMENT_BASE + index}/16',
                'protocolIP': f'{PROTOCOL_BASE + index}/32',
                'vlanNamespaces': ['default'],
                'boot': {'serial': self._serial()},
            }
            labels = {'fabric.githedgehog.com/profile': profile, 'vlanns.fabric.githedgehog.com/default': 'true'}
            if not spine:
                spec['vtepIP'] = f'{VTEP_BASE + leaf_number}/32'
            if name in group_of:
                spec['redundancy'] = {'group': group_of[name], 'type': 'eslag'}
                spec['groups'] = [group_of[name]]
                labels[f'switchgroup.fabric.githedgehog.com/{group_of[name]}'] = 'true'
            switch = {'apiVersion': WIRING, 'kind': 'Switch', 'metadata': _meta(name, labels), 'spec': spec}
            self.switch_objects.append(switch)
            self.objects.append(switch)

    @staticmethod
    def _connection(name: str, kind: str, spec: dict, switches, servers=()) -> dict:
        labels = {'fabric.githedgehog.com/connection-type': kind}
        labels.update({f'switch.fabric.githedgehog.com/{switch}': 'true' for switch in switches})
        labels.update({f'server.fabric.githedgehog.com/{server}': 'true' for server in servers})
        return {'apiVersion': WIRING, 'kind': 'Connection', 'metadata': _meta(name, labels), 'spec': spec}

    def _fabric_connections(self) -> int:
        """Each leaf to successive spines, round by round, within half of the connection budget."""
        budget = min(len(self.leaves) * len(self.spines), self.size.connections // 2)
        made = 0
        for round_number in range(len(self.spines)):
            for leaf_index, leaf in enumerate(self.leaves):
                if made == budget:
                    return made
                spine = self.spines[(leaf_index + round_number) % len(self.spines)]
                spine_ip, leaf_ip = FABRIC_LINK_BASE + 2 * made, FABRIC_LINK_BASE + 2 * made + 1
                link = {
                    'spine': {'port': self.ports.take(spine), 'ip': f'{spine_ip}/31'},
                    'leaf': {'port': self.ports.take(leaf, first=49), 'ip': f'{leaf_ip}/31'},
                }
                self.objects.append(
                    self._connection(f'{spine}--fabric--{leaf}', 'fabric', {'fabric': {'links': [link]}}, (spine, leaf))
                )
                made += 1
        return made

    def _server_connections(self, count: int):
        for number in range(count):
            server = f'server-{number + 1:05d}'
            kind = SERVER_CONNECTION_TYPES[number % len(SERVER_CONNECTION_TYPES)]
            if kind == 'eslag' and not self.pairs:
                kind = 'bundled'
            if kind == 'eslag':
                switches = self.pairs[number % len(self.pairs)]
            else:
                switches = (self.leaves[number % len(self.leaves)],)
            if kind == 'bundled':
                switches = switches * 2  # two links to the same leaf
            links = [
                {'server': {'port': f'{server}/enp2s{link + 1}'}, 'switch': {'port': self.ports.take(switch)}}
                for link, switch in enumerate(switches)
            ]
            unique_switches = list(dict.fromkeys(switches))
            name = f'{server}--{kind}--{"--".join(unique_switches)}'
            if kind == 'unbundled':
                spec = {'unbundled': {'link': links[0]}}
            else:
                spec = {kind: {'links': links}}
            self.objects.append({
                'apiVersion': WIRING,
                'kind': 'Server',
                'metadata': _meta(server),
                'spec': {'description': f'synthetic server {number + 1}'},
            })
            self.objects.append(self._connection(name, kind, spec, unique_switches, (server,)))
            self.server_connections.append(name)

    def _vpcs(self):
        subnet_number = 0
        for number in range(self.size.vpcs):
            name = f'vpc-{number + 1:05d}'
            subnets = {}
            for subnet_index in range(self.rng.randint(1, 3)):
                third, second = subnet_number % 256, subnet_number // 256
                subnet = {
                    'subnet': f'10.{second % 256}.{third}.0/24',
                    'gateway': f'10.{second % 256}.{third}.1',
                    'vlan': VLAN_FIRST + subnet_number % (VLAN_LAST - VLAN_FIRST + 1),
                }
                if self.rng.random() < 0.5:
                    subnet['dhcp'] = {
                        'enable': True,
                        'range': {'start': f'10.{second % 256}.{third}.10', 'end': f'10.{second % 256}.{third}.99'},
                    }
                subnets[f'subnet-{subnet_index + 1}'] = subnet
                subnet_number += 1
            labels = {'fabric.githedgehog.com/ipv4ns': 'default', 'fabric.githedgehog.com/vlanns': 'default'}
            self.objects.append({
                'apiVersion': VPC_API,
                'kind': 'VPC',
                'metadata': _meta(name, labels),
                'spec': {'ipv4Namespace': 'default', 'vlanNamespace': 'default', 'subnets': subnets},
            })
            self.vpc_subnets.append((name, list(subnets)))

    def _attachments(self):
        if self.size.attachments and (not self.vpc_subnets or not self.server_connections):
            raise ValueError('VPCAttachments need at least one VPC and one server connection')
        used = set()
        for number in range(self.size.attachments):
            vpc, subnets = self.vpc_subnets[number % len(self.vpc_subnets)]
            subnet = subnets[self.rng.randrange(len(subnets))]
            offset = number
            while (vpc, subnet, connection := self.server_connections[offset % len(self.server_connections)]) in used:
                offset += 1
                if offset - number > len(self.server_connections):
                    raise ValueError('more VPCAttachments than distinct subnet/connection pairs')
            used.add((vpc, subnet, connection))
            labels = {
                'fabric.githedgehog.com/vpc': vpc,
                'fabric.githedgehog.com/subnet': subnet,
                'fabric.githedgehog.com/connection': connection,
            }
            self.objects.append({
                'apiVersion': VPC_API,
                'kind': 'VPCAttachment',
                'metadata': _meta(f'{vpc}--{subnet}--{connection}', labels),
                'spec': {'subnet': f'{vpc}/{subnet}', 'connection': connection},
            })


def generate(size: FabricSize | None = None, *, seed: int = 0, now: datetime | None = None) -> list[dict]:
    """All objects of a synthetic fabric (namespaces, switch groups, switches, servers, connections, VPCs,
    VPCAttachments, Agents). Deterministic for equal `size`, `seed` and `now` (default: the current time)."""
    return _FabricBuilder(size or FabricSize(), seed, now or datetime.now(UTC).replace(microsecond=0)).build()
