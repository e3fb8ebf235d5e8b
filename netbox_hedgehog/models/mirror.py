"""
Read-only mirrors of a fabric's Hedgehog custom resources, one model per kind.

The fabric's Kubernetes API is the source of truth: rows are written only by the sync engine, in bulk, so no
change log or signals fire per object. Each kind promotes the fields people filter and list by, and resolves its
references to other mirrored kinds into relations (both declared with the kind, in kinds/declarations.py). The raw
reference (a name) is kept next to each relation, so a reference to an object the fabric does not hold stays
visible instead of vanishing.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from netbox.models import NetBoxModel

from ..kinds.values import NAME_LENGTH
from .querysets import FabricScopedQuerySet

__all__ = (
    'VPC',
    'Agent',
    'Connection',
    'External',
    'ExternalAttachment',
    'ExternalPeering',
    'IPv4Namespace',
    'MirroredObject',
    'Server',
    'ServerProfile',
    'Switch',
    'SwitchGroup',
    'SwitchProfile',
    'VLANNamespace',
    'VPCAttachment',
    'VPCPeering',
)


def name_field(verbose_name):
    """A raw reference to another object by name, kept even when no such object is mirrored."""
    return models.CharField(verbose_name=verbose_name, max_length=NAME_LENGTH, blank=True)


def name_list_field(verbose_name):
    return ArrayField(
        models.CharField(max_length=NAME_LENGTH), verbose_name=verbose_name, default=list, blank=True
    )


def reference(to, related_name, verbose_name):
    return models.ForeignKey(
        to=f'netbox_hedgehog.{to}',
        on_delete=models.SET_NULL,
        related_name=related_name,
        null=True,
        blank=True,
        editable=False,
        verbose_name=verbose_name,
    )


class MirroredObject(NetBoxModel):
    """What every mirrored Kubernetes object has: its identity, metadata, spec and status."""

    fabric = models.ForeignKey(to='netbox_hedgehog.HedgehogFabric', on_delete=models.CASCADE, editable=False)
    name = models.CharField(verbose_name=_('name'), max_length=NAME_LENGTH, editable=False)
    namespace = models.CharField(verbose_name=_('namespace'), max_length=63, editable=False)
    uid = models.CharField(verbose_name=_('UID'), max_length=64, editable=False)
    resource_version = models.CharField(verbose_name=_('resource version'), max_length=64, editable=False)
    generation = models.BigIntegerField(verbose_name=_('generation'), null=True, blank=True, editable=False)
    labels = models.JSONField(verbose_name=_('labels'), default=dict, blank=True, editable=False)
    annotations = models.JSONField(verbose_name=_('annotations'), default=dict, blank=True, editable=False)
    spec = models.JSONField(verbose_name=_('spec'), default=dict, blank=True, editable=False)
    status = models.JSONField(verbose_name=_('status'), default=dict, blank=True, editable=False)
    kubernetes_created = models.DateTimeField(
        verbose_name=_('created in Kubernetes'), null=True, blank=True, editable=False
    )

    # Visible only to users who may view the fabric.
    objects = FabricScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ('fabric', 'name')
        constraints = [
            models.UniqueConstraint(fields=('fabric', 'uid'), name='%(app_label)s_%(class)s_unique_uid'),
            models.UniqueConstraint(
                fields=('fabric', 'namespace', 'name'), name='%(app_label)s_%(class)s_unique_name'
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse(f'plugins:netbox_hedgehog:{self._meta.model_name}', args=[self.pk])


#
# wiring.githedgehog.com
#


class SwitchProfile(MirroredObject):
    display_name = models.CharField(verbose_name=_('display name'), max_length=255, blank=True, editable=False)
    nos_type = models.CharField(verbose_name=_('NOS type'), max_length=64, blank=True, editable=False)
    platform = models.CharField(verbose_name=_('platform'), max_length=255, blank=True, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('switch profile')
        verbose_name_plural = _('switch profiles')


class ServerProfile(MirroredObject):
    class Meta(MirroredObject.Meta):
        verbose_name = _('server profile')
        verbose_name_plural = _('server profiles')


class SwitchGroup(MirroredObject):
    class Meta(MirroredObject.Meta):
        verbose_name = _('switch group')
        verbose_name_plural = _('switch groups')


class VLANNamespace(MirroredObject):
    class Meta(MirroredObject.Meta):
        verbose_name = _('VLAN namespace')
        verbose_name_plural = _('VLAN namespaces')


class Switch(MirroredObject):
    role = models.CharField(verbose_name=_('role'), max_length=32, blank=True, editable=False)
    description = models.TextField(verbose_name=_('description'), blank=True, editable=False)
    profile_name = name_field(_('profile name'))
    profile = reference('SwitchProfile', 'switches', _('profile'))
    asn = models.BigIntegerField(verbose_name=_('ASN'), null=True, blank=True, editable=False)
    management_ip = models.CharField(verbose_name=_('management IP'), max_length=64, blank=True, editable=False)
    protocol_ip = models.CharField(verbose_name=_('protocol IP'), max_length=64, blank=True, editable=False)
    vtep_ip = models.CharField(verbose_name=_('VTEP IP'), max_length=64, blank=True, editable=False)
    redundancy_group_name = name_field(_('redundancy group name'))
    redundancy_group = reference('SwitchGroup', 'redundancy_members', _('redundancy group'))
    redundancy_type = models.CharField(verbose_name=_('redundancy type'), max_length=16, blank=True, editable=False)
    boot_serial = models.CharField(verbose_name=_('boot serial'), max_length=255, blank=True, editable=False)
    boot_mac = models.CharField(verbose_name=_('boot MAC'), max_length=64, blank=True, editable=False)
    group_names = name_list_field(_('group names'))
    groups = models.ManyToManyField(to=SwitchGroup, related_name='switches', blank=True, editable=False)
    vlan_namespace_names = name_list_field(_('VLAN namespace names'))
    vlan_namespaces = models.ManyToManyField(to=VLANNamespace, related_name='switches', blank=True, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('switch')
        verbose_name_plural = _('switches')


class Server(MirroredObject):
    description = models.TextField(verbose_name=_('description'), blank=True, editable=False)
    profile_name = name_field(_('profile name'))
    profile = reference('ServerProfile', 'servers', _('profile'))

    class Meta(MirroredObject.Meta):
        verbose_name = _('server')
        verbose_name_plural = _('servers')


class Connection(MirroredObject):
    connection_type = models.CharField(verbose_name=_('type'), max_length=32, editable=False)
    # Every link end as "<device>/<port>", in the order the spec lists them.
    endpoints = ArrayField(
        models.CharField(max_length=512), verbose_name=_('endpoints'), default=list, blank=True
    )
    switch_names = name_list_field(_('switch names'))
    switches = models.ManyToManyField(to=Switch, related_name='connections', blank=True, editable=False)
    server_names = name_list_field(_('server names'))
    servers = models.ManyToManyField(to=Server, related_name='connections', blank=True, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('connection')
        verbose_name_plural = _('connections')


#
# vpc.githedgehog.com
#


class IPv4Namespace(MirroredObject):
    class Meta(MirroredObject.Meta):
        verbose_name = _('IPv4 namespace')
        verbose_name_plural = _('IPv4 namespaces')


class VPC(MirroredObject):
    mode = models.CharField(verbose_name=_('mode'), max_length=16, blank=True, editable=False)
    ipv4_namespace_name = name_field(_('IPv4 namespace name'))
    ipv4_namespace = reference('IPv4Namespace', 'vpcs', _('IPv4 namespace'))
    vlan_namespace_name = name_field(_('VLAN namespace name'))
    vlan_namespace = reference('VLANNamespace', 'vpcs', _('VLAN namespace'))
    subnet_count = models.PositiveIntegerField(verbose_name=_('subnets'), default=0, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('VPC')
        verbose_name_plural = _('VPCs')


class VPCAttachment(MirroredObject):
    # The raw "<vpc>/<subnet>" reference, split into its VPC and subnet names below.
    subnet = models.CharField(verbose_name=_('subnet'), max_length=512, blank=True, editable=False)
    vpc_name = name_field(_('VPC name'))
    vpc = reference('VPC', 'attachments', _('VPC'))
    subnet_name = name_field(_('subnet name'))
    connection_name = name_field(_('connection name'))
    connection = reference('Connection', 'vpc_attachments', _('connection'))
    native_vlan = models.BooleanField(verbose_name=_('native VLAN'), default=False, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('VPC attachment')
        verbose_name_plural = _('VPC attachments')


class VPCPeering(MirroredObject):
    # The two peered VPCs, in name order (as Hedgehog's own vpc1/vpc2 labels).
    vpc1_name = name_field(_('VPC 1 name'))
    vpc1 = reference('VPC', 'peerings_as_vpc1', _('VPC 1'))
    vpc2_name = name_field(_('VPC 2 name'))
    vpc2 = reference('VPC', 'peerings_as_vpc2', _('VPC 2'))

    class Meta(MirroredObject.Meta):
        verbose_name = _('VPC peering')
        verbose_name_plural = _('VPC peerings')


class External(MirroredObject):
    ipv4_namespace_name = name_field(_('IPv4 namespace name'))
    ipv4_namespace = reference('IPv4Namespace', 'externals', _('IPv4 namespace'))
    inbound_community = models.CharField(
        verbose_name=_('inbound community'), max_length=64, blank=True, editable=False
    )
    outbound_community = models.CharField(
        verbose_name=_('outbound community'), max_length=64, blank=True, editable=False
    )
    static = models.BooleanField(
        verbose_name=_('static'), default=False, editable=False, help_text=_('Static routes instead of BGP')
    )

    class Meta(MirroredObject.Meta):
        verbose_name = _('external')
        verbose_name_plural = _('externals')


class ExternalAttachment(MirroredObject):
    external_name = name_field(_('external name'))
    external = reference('External', 'attachments', _('external'))
    connection_name = name_field(_('connection name'))
    connection = reference('Connection', 'external_attachments', _('connection'))
    static = models.BooleanField(verbose_name=_('static'), default=False, editable=False)
    switch_vlan = models.PositiveIntegerField(verbose_name=_('switch VLAN'), null=True, blank=True, editable=False)
    switch_ip = models.CharField(verbose_name=_('switch IP'), max_length=64, blank=True, editable=False)
    neighbor_asn = models.BigIntegerField(verbose_name=_('neighbor ASN'), null=True, blank=True, editable=False)
    neighbor_ip = models.CharField(verbose_name=_('neighbor IP'), max_length=64, blank=True, editable=False)

    class Meta(MirroredObject.Meta):
        verbose_name = _('external attachment')
        verbose_name_plural = _('external attachments')


class ExternalPeering(MirroredObject):
    vpc_name = name_field(_('VPC name'))
    vpc = reference('VPC', 'external_peerings', _('VPC'))
    external_name = name_field(_('external name'))
    external = reference('External', 'peerings', _('external'))

    class Meta(MirroredObject.Meta):
        verbose_name = _('external peering')
        verbose_name_plural = _('external peerings')


#
# agent.githedgehog.com
#


class Agent(MirroredObject):
    """
    A switch's health as its agent reports it.

    Only health is mirrored: the agent's spec is a denormalised copy of the fabric's configuration and carries the
    switch users' password hashes and the registry credentials, so the sync keeps just the switch's role and
    description from it.
    """

    switch_name = name_field(_('switch name'))
    switch = models.OneToOneField(
        to=Switch,
        on_delete=models.SET_NULL,
        related_name='agent',
        null=True,
        blank=True,
        editable=False,
        verbose_name=_('switch'),
    )
    last_heartbeat = models.DateTimeField(verbose_name=_('last heartbeat'), null=True, blank=True, editable=False)
    applied_generation = models.BigIntegerField(
        verbose_name=_('applied generation'), null=True, blank=True, editable=False
    )
    ready = models.BooleanField(
        verbose_name=_('ready'),
        default=False,
        editable=False,
        help_text=_('The agent applied the current generation of its configuration'),
    )
    applied_status = models.CharField(verbose_name=_('applied'), max_length=16, blank=True, editable=False)
    applied_reason = models.CharField(verbose_name=_('applied reason'), max_length=255, blank=True, editable=False)
    applied_message = models.TextField(verbose_name=_('applied message'), blank=True, editable=False)
    agent_version = models.CharField(verbose_name=_('agent version'), max_length=255, blank=True, editable=False)
    nos_version = models.CharField(verbose_name=_('NOS version'), max_length=255, blank=True, editable=False)
    serial_number = models.CharField(verbose_name=_('serial number'), max_length=255, blank=True, editable=False)
    interfaces_total = models.PositiveIntegerField(verbose_name=_('interfaces'), default=0, editable=False)
    interfaces_up = models.PositiveIntegerField(verbose_name=_('interfaces up'), default=0, editable=False)
    bgp_neighbors_total = models.PositiveIntegerField(verbose_name=_('BGP neighbors'), default=0, editable=False)
    bgp_neighbors_established = models.PositiveIntegerField(
        verbose_name=_('BGP neighbors established'), default=0, editable=False
    )

    class Meta(MirroredObject.Meta):
        verbose_name = _('agent')
        verbose_name_plural = _('agents')
