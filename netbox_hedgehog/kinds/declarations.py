"""
The Hedgehog kinds a fabric sync mirrors, one declaration each, in the order the sync applies them.

Kinds that others refer to come first, so that a reader of a run's counts sees the fabric bottom up (the
completeness check enforces it). Adding a kind means a model (models/mirror.py), a promoter (kinds/promoters.py)
when it promotes fields, and a declaration here.
"""

from django.utils.translation import gettext_lazy as _

from . import mappings, promoters
from .registry import HEALTH, VPC, WIRING, Kind, Related, Relation

__all__ = ('KINDS',)

WIRING_API = 'wiring.githedgehog.com'
VPC_API = 'vpc.githedgehog.com'
AGENT_API = 'agent.githedgehog.com'
VERSION = 'v1beta1'

KINDS = (
    Kind(
        'SwitchProfile', WIRING_API, VERSION, 'switchprofiles',
        inventory=mappings.switch_profile,
        promote=promoters.switch_profile,
        name='switch_profile', slug='switch-profiles', menu_group=WIRING, menu_position=6,
        columns=('display_name', 'nos_type', 'platform'),
        filters=('nos_type', 'platform'),
        related=(Related(_('Switches'), ('switches',), 'Switch', 'profile_id', 'role'),),
        search_fields=('display_name', 'platform'),
    ),
    Kind(
        'ServerProfile', WIRING_API, VERSION, 'serverprofiles',
        spec_optional=True,
        name='server_profile', slug='server-profiles', menu_group=WIRING, menu_position=7,
        related=(Related(_('Servers'), ('servers',), 'Server', 'profile_id', 'description'),),
    ),
    Kind(
        'SwitchGroup', WIRING_API, VERSION, 'switchgroups',
        spec_optional=True,
        inventory=mappings.switch_group,
        name='switch_group', slug='switch-groups', menu_group=WIRING, menu_position=4,
        filters=(Relation('switch', ('switches',)),),
        related=(
            Related(_('Switches'), ('switches',), 'Switch', 'group_id', 'role'),
            Related(_('Redundancy members'), ('redundancy_members',), 'Switch', 'redundancy_group_id',
                    'redundancy_type'),
        ),
    ),
    Kind(
        'VLANNamespace', WIRING_API, VERSION, 'vlannamespaces',
        inventory=mappings.vlan_namespace,
        name='vlan_namespace', slug='vlan-namespaces', menu_group=WIRING, menu_position=5,
        related=(
            Related(_('Switches'), ('switches',), 'Switch', 'vlan_namespace_id', 'role'),
            Related(_('VPCs'), ('vpcs',), 'VPC', 'vlan_namespace_id', 'mode'),
        ),
    ),
    Kind(
        'IPv4Namespace', VPC_API, VERSION, 'ipv4namespaces',
        inventory=mappings.ipv4_namespace,
        name='ipv4_namespace', slug='ipv4-namespaces', menu_group=VPC, menu_position=4,
        related=(
            Related(_('VPCs'), ('vpcs',), 'VPC', 'ipv4_namespace_id', 'mode'),
            Related(_('Externals'), ('externals',), 'External', 'ipv4_namespace_id'),
        ),
    ),
    Kind(
        'Switch', WIRING_API, VERSION, 'switches',
        inventory=mappings.switch,
        promote=promoters.switch,
        references={
            'profile': 'profile_name',
            'redundancy_group': 'redundancy_group_name',
            'groups': 'group_names',
            'vlan_namespaces': 'vlan_namespace_names',
        },
        name='switch', slug='switches', menu_group=WIRING, menu_position=1,
        columns=('role', 'profile', 'asn', 'management_ip', 'redundancy_group', 'groups'),
        filters=(
            'role', 'redundancy_type', 'asn', 'management_ip', 'boot_serial', 'boot_mac',
            Relation('profile', ('profile',)), Relation('redundancy_group', ('redundancy_group',)),
            Relation('group', ('groups',)), Relation('vlan_namespace', ('vlan_namespaces',)),
        ),
        related=(
            Related(_('Connections'), ('connections',), 'Connection', 'switch_id', 'connection_type'),
        ),
        panels=('netbox_hedgehog/inc/inventory_device.html', 'netbox_hedgehog/inc/agent_health.html'),
        search_fields=('description', 'boot_serial', 'management_ip'),
    ),
    Kind(
        'Server', WIRING_API, VERSION, 'servers',
        inventory=mappings.server,
        promote=promoters.server,
        references={'profile': 'profile_name'},
        spec_optional=True,
        name='server', slug='servers', menu_group=WIRING, menu_position=2,
        columns=('description', 'profile'),
        filters=(Relation('profile', ('profile',)),),
        related=(Related(_('Connections'), ('connections',), 'Connection', 'server_id', 'connection_type'),),
        panels=('netbox_hedgehog/inc/inventory_device.html',),
        search_fields=('description',),
    ),
    Kind(
        'Connection', WIRING_API, VERSION, 'connections',
        inventory=mappings.connection,
        promote=promoters.connection,
        references={'switches': 'switch_names', 'servers': 'server_names'},
        name='connection', slug='connections', menu_group=WIRING, menu_position=3,
        columns=('connection_type', 'switches', 'servers'),
        filters=('connection_type', Relation('switch', ('switches',)), Relation('server', ('servers',))),
        related=(
            Related(_('VPC attachments'), ('vpc_attachments',), 'VPCAttachment', 'connection_id', 'subnet'),
            Related(_('External attachments'), ('external_attachments',), 'ExternalAttachment', 'connection_id',
                    'external_name'),
        ),
        panels=('netbox_hedgehog/inc/connection_endpoints.html',),
    ),
    Kind(
        'VPC', VPC_API, VERSION, 'vpcs',
        inventory=mappings.vpc,
        promote=promoters.vpc,
        references={'ipv4_namespace': 'ipv4_namespace_name', 'vlan_namespace': 'vlan_namespace_name'},
        name='vpc', slug='vpcs', menu_group=VPC, menu_position=1,
        columns=('mode', 'ipv4_namespace', 'vlan_namespace', 'subnet_count'),
        filters=(
            'mode', Relation('ipv4_namespace', ('ipv4_namespace',)), Relation('vlan_namespace', ('vlan_namespace',)),
        ),
        related=(
            Related(_('Attachments'), ('attachments',), 'VPCAttachment', 'vpc_id', 'connection_name'),
            Related(_('Peerings'), ('peerings_as_vpc1', 'peerings_as_vpc2'), 'VPCPeering', 'vpc_id'),
            Related(_('External peerings'), ('external_peerings',), 'ExternalPeering', 'vpc_id', 'external_name'),
        ),
        panels=('netbox_hedgehog/inc/vpc_subnets.html',),
    ),
    Kind(
        'VPCAttachment', VPC_API, VERSION, 'vpcattachments',
        promote=promoters.vpc_attachment,
        references={'vpc': 'vpc_name', 'connection': 'connection_name'},
        name='vpc_attachment', slug='vpc-attachments', menu_group=VPC, menu_position=2,
        columns=('vpc', 'subnet_name', 'connection', 'native_vlan'),
        filters=(
            'subnet_name', 'native_vlan', Relation('vpc', ('vpc',)), Relation('connection', ('connection',)),
        ),
    ),
    Kind(
        'VPCPeering', VPC_API, VERSION, 'vpcpeerings',
        promote=promoters.vpc_peering,
        references={'vpc1': 'vpc1_name', 'vpc2': 'vpc2_name'},
        name='vpc_peering', slug='vpc-peerings', menu_group=VPC, menu_position=3,
        columns=('vpc1', 'vpc2'),
        filters=(Relation('vpc', ('vpc1', 'vpc2')),),
    ),
    Kind(
        'External', VPC_API, VERSION, 'externals',
        promote=promoters.external,
        references={'ipv4_namespace': 'ipv4_namespace_name'},
        spec_optional=True,
        name='external', slug='externals', menu_group=VPC, menu_position=5,
        columns=('ipv4_namespace', 'inbound_community', 'outbound_community', 'static'),
        filters=('static', 'inbound_community', 'outbound_community',
                 Relation('ipv4_namespace', ('ipv4_namespace',))),
        related=(
            Related(_('Attachments'), ('attachments',), 'ExternalAttachment', 'external_id', 'connection_name'),
            Related(_('Peerings'), ('peerings',), 'ExternalPeering', 'external_id', 'vpc_name'),
        ),
    ),
    Kind(
        'ExternalAttachment', VPC_API, VERSION, 'externalattachments',
        promote=promoters.external_attachment,
        references={'external': 'external_name', 'connection': 'connection_name'},
        name='external_attachment', slug='external-attachments', menu_group=VPC, menu_position=6,
        columns=('external', 'connection', 'switch_vlan', 'switch_ip', 'neighbor_asn', 'neighbor_ip'),
        filters=(
            'static', 'switch_vlan', 'neighbor_asn', Relation('external', ('external',)),
            Relation('connection', ('connection',)),
        ),
    ),
    Kind(
        'ExternalPeering', VPC_API, VERSION, 'externalpeerings',
        promote=promoters.external_peering,
        references={'vpc': 'vpc_name', 'external': 'external_name'},
        name='external_peering', slug='external-peerings', menu_group=VPC, menu_position=7,
        columns=('vpc', 'external'),
        filters=(Relation('vpc', ('vpc',)), Relation('external', ('external',))),
    ),
    Kind(
        'Agent', AGENT_API, VERSION, 'agents',
        promote=promoters.agent,
        references={'switch': 'switch_name'},
        spec_optional=True,
        # Everything else in an agent's spec is a copy of fabric configuration, and its "users" and "version" hold
        # password hashes and registry credentials.
        kept_spec_fields=('role', 'description'),
        name='agent', slug='agents', menu_group=HEALTH, menu_position=1, menu_label=_('Agents (switch health)'),
        columns=(
            'switch', 'ready', 'applied_status', 'last_heartbeat', 'agent_version', 'interfaces_up',
            'bgp_neighbors_established',
        ),
        filters=('ready', 'applied_status', 'agent_version', 'nos_version', Relation('switch', ('switch',))),
        search_fields=('serial_number',),
    ),
)
