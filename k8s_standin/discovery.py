"""Discovery documents (/version, /api, /apis, /apis/{group}, /apis/{group}/{version}) for the installed CRDs."""

import base64
import hashlib
from collections import defaultdict

from k8s_standin.crds import ResourceType, version_priority

# What a recent k3s control node (Hedgehog runs its controller on k3s) reports.
VERSION_INFO = {
    'major': '1',
    'minor': '32',
    'gitVersion': 'v1.32.5+k3s1',
    'gitCommit': '8e8f2a4726fdb4ca628eb62b2a526b64d0e6a763',
    'gitTreeState': 'clean',
    'buildDate': '2025-05-29T21:06:48Z',
    'goVersion': 'go1.23.8',
    'compiler': 'gc',
    'platform': 'linux/amd64',
}
READ_VERBS = ['get', 'list', 'watch']


def _group_version(group: str, version: str) -> dict:
    return {'groupVersion': f'{group}/{version}', 'version': version}


def _groups(resources: list[ResourceType]) -> dict[str, list[str]]:
    """Group name → its served versions, preferred first."""
    versions = defaultdict(set)
    for resource in resources:
        versions[resource.group].update(resource.versions)
    return {group: sorted(found, key=version_priority) for group, found in sorted(versions.items())}


def api_versions(server_address: str) -> dict:
    return {
        'kind': 'APIVersions',
        'versions': ['v1'],
        'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': server_address}],
    }


def _api_group(group: str, versions: list[str]) -> dict:
    entries = [_group_version(group, version) for version in versions]
    return {'name': group, 'versions': entries, 'preferredVersion': entries[0]}


def api_group_list(resources: list[ResourceType]) -> dict:
    groups = [_api_group(group, versions) for group, versions in _groups(resources).items()]
    return {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': groups}


def api_group(resources: list[ResourceType], group: str) -> dict | None:
    versions = _groups(resources).get(group)
    if not versions:
        return None
    return {'kind': 'APIGroup', 'apiVersion': 'v1', **_api_group(group, versions)}


def _storage_version_hash(resource: ResourceType) -> str:
    # The real server hashes group, version and kind of the storage version into 8 bytes, base64 encoded.
    digest = hashlib.sha256(f'{resource.group}/{resource.version}/{resource.kind}'.encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _api_resource(resource: ResourceType) -> dict:
    entry = {
        'name': resource.plural,
        'singularName': resource.singular,
        'namespaced': resource.namespaced,
        'kind': resource.kind,
        'verbs': READ_VERBS,
    }
    if resource.short_names:
        entry['shortNames'] = list(resource.short_names)
    if resource.categories:
        entry['categories'] = list(resource.categories)
    entry['storageVersionHash'] = _storage_version_hash(resource)
    return entry


def api_resource_list(resources: list[ResourceType], group: str, version: str) -> dict | None:
    served = [r for r in resources if r.group == group and version in r.versions]
    if not served:
        return None
    return {
        'kind': 'APIResourceList',
        'apiVersion': 'v1',
        'groupVersion': f'{group}/{version}',
        'resources': [_api_resource(resource) for resource in served],
    }
