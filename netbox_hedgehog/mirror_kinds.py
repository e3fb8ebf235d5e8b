"""
How NetBox presents each mirrored kind: its URL, menu group, default list columns, filters and related objects.

The mirrored kinds differ only in their promoted fields and relations, so the views, tables, filter sets, forms,
serializers, GraphQL types, search indexes and menu items are all built from this one catalog; a new kind needs
a model, an entry in kube/kinds.py and an entry here.
"""

from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import MirroredObject

__all__ = (
    'BASE_FIELDS', 'MIRROR_KINDS', 'MirrorKind', 'Related', 'Relation', 'get_mirror_kind', 'mirrored_object_counts',
)

# Fields every mirrored object has, shown in the same place on every page.
BASE_FIELDS = ('id', *(f.name for f in MirroredObject._meta.get_fields()))

WIRING = _('Wiring')
VPC = _('VPC')
HEALTH = _('Health')


@dataclass(frozen=True)
class Relation:
    """
    A filter on one or more relations of a kind: `<name>_id` matches the related objects, `<name>` their names.
    Filtering by name uses the raw reference, so it also finds objects whose target is not mirrored.
    """

    name: str
    fields: tuple


@dataclass(frozen=True)
class Related:
    """Objects that refer to this one, listed as links on its page; `filter` opens them all in their list."""

    title: str
    accessors: tuple
    model_name: str
    filter: str = ''
    note: str = ''


@dataclass(frozen=True)
class MirrorKind:
    model_name: str
    # Singular snake_case name: GraphQL fields (hedgehog_<name>, hedgehog_<name>_list).
    name: str
    # URL segment of the list, in the UI and the REST API.
    slug: str
    menu_group: str
    columns: tuple = ()
    filters: tuple = ()
    related: tuple = ()
    # Extra templates for the detail page, each given the object and the view's context.
    panels: tuple = ()
    search_fields: tuple = ()

    @cached_property
    def model(self):
        return apps.get_model('netbox_hedgehog', self.model_name)

    @property
    def url_name(self):
        return self.model._meta.model_name

    @cached_property
    def promoted_fields(self):
        """The kind's own fields, in model order: what its table, detail page and API show besides the basics."""
        forward = sorted((*self.model._meta.concrete_fields, *self.model._meta.many_to_many))
        return tuple(f for f in forward if f.name not in BASE_FIELDS)

    @cached_property
    def raw_reference_fields(self):
        """Raw reference names that back a relation; pages show the relation and fall back to the name."""
        return set(self.model.references.values())

    @cached_property
    def shown_fields(self):
        return tuple(f for f in self.promoted_fields if f.name not in self.raw_reference_fields)

    @cached_property
    def scalar_filters(self):
        return tuple(name for name in self.filters if isinstance(name, str))

    @cached_property
    def relation_filters(self):
        return tuple(entry for entry in self.filters if isinstance(entry, Relation))

    def relation_target(self, relation):
        return self.model._meta.get_field(relation.fields[0]).related_model

    def raw_name_lookups(self, relation):
        """(lookup, is_array) of the raw reference names behind a relation filter."""
        lookups = []
        for name in relation.fields:
            raw = self.model._meta.get_field(self.model.references[name])
            lookups.append((raw.name, isinstance(raw, ArrayField)))
        return lookups

    @cached_property
    def select_related(self):
        return ['fabric'] + [
            f.name for f in self.promoted_fields if isinstance(f, models.ForeignKey)
        ]

    @cached_property
    def prefetch_related(self):
        return [f.name for f in self.promoted_fields if isinstance(f, models.ManyToManyField)]

    def queryset(self):
        return self.model.objects.select_related(*self.select_related).prefetch_related(*self.prefetch_related)


MIRROR_KINDS = (
    # Wiring
    MirrorKind(
        'Switch', 'switch', 'switches', WIRING,
        columns=('role', 'profile', 'asn', 'management_ip', 'redundancy_group', 'groups'),
        filters=(
            'role', 'redundancy_type', 'asn', 'management_ip', 'boot_serial', 'boot_mac',
            Relation('profile', ('profile',)), Relation('redundancy_group', ('redundancy_group',)),
            Relation('group', ('groups',)), Relation('vlan_namespace', ('vlan_namespaces',)),
        ),
        related=(
            Related(_('Connections'), ('connections',), 'Connection', 'switch_id', 'connection_type'),
        ),
        panels=('netbox_hedgehog/inc/agent_health.html',),
        search_fields=('description', 'boot_serial', 'management_ip'),
    ),
    MirrorKind(
        'Server', 'server', 'servers', WIRING,
        columns=('description', 'profile'),
        filters=(Relation('profile', ('profile',)),),
        related=(Related(_('Connections'), ('connections',), 'Connection', 'server_id', 'connection_type'),),
        search_fields=('description',),
    ),
    MirrorKind(
        'Connection', 'connection', 'connections', WIRING,
        columns=('connection_type', 'switches', 'servers'),
        filters=('connection_type', Relation('switch', ('switches',)), Relation('server', ('servers',))),
        related=(
            Related(_('VPC attachments'), ('vpc_attachments',), 'VPCAttachment', 'connection_id', 'subnet'),
            Related(_('External attachments'), ('external_attachments',), 'ExternalAttachment', 'connection_id',
                    'external_name'),
        ),
        panels=('netbox_hedgehog/inc/connection_endpoints.html',),
    ),
    MirrorKind(
        'SwitchGroup', 'switch_group', 'switch-groups', WIRING,
        filters=(Relation('switch', ('switches',)),),
        related=(
            Related(_('Switches'), ('switches',), 'Switch', 'group_id', 'role'),
            Related(_('Redundancy members'), ('redundancy_members',), 'Switch', 'redundancy_group_id',
                    'redundancy_type'),
        ),
    ),
    MirrorKind(
        'VLANNamespace', 'vlan_namespace', 'vlan-namespaces', WIRING,
        related=(
            Related(_('Switches'), ('switches',), 'Switch', 'vlan_namespace_id', 'role'),
            Related(_('VPCs'), ('vpcs',), 'VPC', 'vlan_namespace_id', 'mode'),
        ),
    ),
    MirrorKind(
        'SwitchProfile', 'switch_profile', 'switch-profiles', WIRING,
        columns=('display_name', 'nos_type', 'platform'),
        filters=('nos_type', 'platform'),
        related=(Related(_('Switches'), ('switches',), 'Switch', 'profile_id', 'role'),),
        search_fields=('display_name', 'platform'),
    ),
    MirrorKind(
        'ServerProfile', 'server_profile', 'server-profiles', WIRING,
        related=(Related(_('Servers'), ('servers',), 'Server', 'profile_id', 'description'),),
    ),
    # VPC
    MirrorKind(
        'VPC', 'vpc', 'vpcs', VPC,
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
    MirrorKind(
        'VPCAttachment', 'vpc_attachment', 'vpc-attachments', VPC,
        columns=('vpc', 'subnet_name', 'connection', 'native_vlan'),
        filters=(
            'subnet_name', 'native_vlan', Relation('vpc', ('vpc',)), Relation('connection', ('connection',)),
        ),
    ),
    MirrorKind(
        'VPCPeering', 'vpc_peering', 'vpc-peerings', VPC,
        columns=('vpc1', 'vpc2'),
        filters=(Relation('vpc', ('vpc1', 'vpc2')),),
    ),
    MirrorKind(
        'IPv4Namespace', 'ipv4_namespace', 'ipv4-namespaces', VPC,
        related=(
            Related(_('VPCs'), ('vpcs',), 'VPC', 'ipv4_namespace_id', 'mode'),
            Related(_('Externals'), ('externals',), 'External', 'ipv4_namespace_id'),
        ),
    ),
    MirrorKind(
        'External', 'external', 'externals', VPC,
        columns=('ipv4_namespace', 'inbound_community', 'outbound_community', 'static'),
        filters=('static', 'inbound_community', 'outbound_community',
                 Relation('ipv4_namespace', ('ipv4_namespace',))),
        related=(
            Related(_('Attachments'), ('attachments',), 'ExternalAttachment', 'external_id', 'connection_name'),
            Related(_('Peerings'), ('peerings',), 'ExternalPeering', 'external_id', 'vpc_name'),
        ),
    ),
    MirrorKind(
        'ExternalAttachment', 'external_attachment', 'external-attachments', VPC,
        columns=('external', 'connection', 'switch_vlan', 'switch_ip', 'neighbor_asn', 'neighbor_ip'),
        filters=(
            'static', 'switch_vlan', 'neighbor_asn', Relation('external', ('external',)),
            Relation('connection', ('connection',)),
        ),
    ),
    MirrorKind(
        'ExternalPeering', 'external_peering', 'external-peerings', VPC,
        columns=('vpc', 'external'),
        filters=(Relation('vpc', ('vpc',)), Relation('external', ('external',))),
    ),
    # Health
    MirrorKind(
        'Agent', 'agent', 'agents', HEALTH,
        columns=(
            'switch', 'ready', 'applied_status', 'last_heartbeat', 'agent_version', 'interfaces_up',
            'bgp_neighbors_established',
        ),
        filters=('ready', 'applied_status', 'agent_version', 'nos_version', Relation('switch', ('switch',))),
        search_fields=('serial_number',),
    ),
)

_BY_MODEL = {kind.model_name: kind for kind in MIRROR_KINDS}


def get_mirror_kind(model_name):
    """The catalog entry of a model, by its class name (Switch) or Django model name (switch)."""
    if model_name in _BY_MODEL:
        return _BY_MODEL[model_name]
    return next(kind for kind in MIRROR_KINDS if kind.url_name == model_name)


def mirrored_object_counts(user):
    """{fabric id: mirrored objects of every kind the user may view}."""
    per_kind = [
        kind.model.objects.restrict(user, 'view').order_by().values('fabric_id').annotate(count=Count('pk'))
        for kind in MIRROR_KINDS
    ]
    totals = {}
    for row in per_kind[0].union(*per_kind[1:], all=True).order_by():
        totals[row['fabric_id']] = totals.get(row['fabric_id'], 0) + row['count']
    return totals
