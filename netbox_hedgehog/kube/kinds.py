"""
The registry of Hedgehog kinds that a fabric sync mirrors, in the order the sync applies them.

Each kind names its API group, version and plural (how the Kubernetes API serves it) and the NetBox model that
mirrors it. Kinds that others refer to come first, so that a reader of a run's counts sees the fabric bottom up.
"""

from dataclasses import dataclass
from functools import cached_property

from django.apps import apps

__all__ = ('HEDGEHOG_GROUPS', 'MIRRORED_KINDS', 'KindInfo', 'get_kind')

WIRING = 'wiring.githedgehog.com'
VPC = 'vpc.githedgehog.com'
AGENT = 'agent.githedgehog.com'


@dataclass(frozen=True)
class KindInfo:
    group: str
    version: str
    plural: str
    kind: str
    model_name: str

    @property
    def api_version(self):
        return f'{self.group}/{self.version}'

    @property
    def resource(self):
        """The name RBAC rules and kubectl use, for example "switches.wiring.githedgehog.com"."""
        return f'{self.plural}.{self.group}'

    @cached_property
    def model(self):
        return apps.get_model('netbox_hedgehog', self.model_name)


MIRRORED_KINDS = (
    KindInfo(WIRING, 'v1beta1', 'switchprofiles', 'SwitchProfile', 'SwitchProfile'),
    KindInfo(WIRING, 'v1beta1', 'serverprofiles', 'ServerProfile', 'ServerProfile'),
    KindInfo(WIRING, 'v1beta1', 'switchgroups', 'SwitchGroup', 'SwitchGroup'),
    KindInfo(WIRING, 'v1beta1', 'vlannamespaces', 'VLANNamespace', 'VLANNamespace'),
    KindInfo(VPC, 'v1beta1', 'ipv4namespaces', 'IPv4Namespace', 'IPv4Namespace'),
    KindInfo(WIRING, 'v1beta1', 'switches', 'Switch', 'Switch'),
    KindInfo(WIRING, 'v1beta1', 'servers', 'Server', 'Server'),
    KindInfo(WIRING, 'v1beta1', 'connections', 'Connection', 'Connection'),
    KindInfo(VPC, 'v1beta1', 'vpcs', 'VPC', 'VPC'),
    KindInfo(VPC, 'v1beta1', 'vpcattachments', 'VPCAttachment', 'VPCAttachment'),
    KindInfo(VPC, 'v1beta1', 'vpcpeerings', 'VPCPeering', 'VPCPeering'),
    KindInfo(VPC, 'v1beta1', 'externals', 'External', 'External'),
    KindInfo(VPC, 'v1beta1', 'externalattachments', 'ExternalAttachment', 'ExternalAttachment'),
    KindInfo(VPC, 'v1beta1', 'externalpeerings', 'ExternalPeering', 'ExternalPeering'),
    KindInfo(AGENT, 'v1beta1', 'agents', 'Agent', 'Agent'),
)

# {group: version} of every API group the mirror reads.
HEDGEHOG_GROUPS = {info.group: info.version for info in MIRRORED_KINDS}

_BY_KIND = {info.kind: info for info in MIRRORED_KINDS}


def get_kind(kind):
    return _BY_KIND[kind]
