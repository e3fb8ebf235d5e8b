"""The API surface the stand-in serves, derived from CustomResourceDefinition manifests.

A kind exists for clients only while its CRD is installed here, exactly as on a real cluster: discovery lists it and
its paths answer; after `uninstall` both are gone (404) and its objects with it.
"""

import re
import threading
from dataclasses import dataclass

_VERSION_PATTERN = re.compile(r'^v(\d+)(?:(alpha|beta)(\d+))?$')
_STABILITY_RANK = {None: 0, 'beta': 1, 'alpha': 2}


def version_priority(version: str) -> tuple:
    """Sort key of Kubernetes' version priority: GA before beta before alpha, newer first, then other names."""
    match = _VERSION_PATTERN.match(version)
    if not match:
        return (3, 0, 0, version)
    major, stability, minor = match.groups()
    return (_STABILITY_RANK[stability], -int(major), -int(minor or 0), version)


@dataclass(frozen=True)
class ResourceType:
    """One custom resource as discovery describes it. `versions` are the served versions, preferred first."""

    group: str
    versions: tuple[str, ...]
    kind: str
    list_kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    namespaced: bool

    @property
    def name(self) -> str:
        """The CRD name, also how the API server names the resource in messages: `vpcs.vpc.githedgehog.com`."""
        return f'{self.plural}.{self.group}'

    @property
    def version(self) -> str:
        return self.versions[0]

    @property
    def api_version(self) -> str:
        return f'{self.group}/{self.version}'

    def answers_to(self, reference: str) -> bool:
        """Whether `reference` names this resource: plural, singular, Kind, short name or `plural.group`."""
        reference = reference.lower()
        return reference in (self.plural, self.singular, self.kind.lower(), self.name, *self.short_names)


class CrdError(ValueError):
    """A manifest that is not a usable CustomResourceDefinition."""


def resource_type_from_crd(crd: dict) -> ResourceType:
    if crd.get('kind') != 'CustomResourceDefinition':
        raise CrdError(f'not a CustomResourceDefinition: kind {crd.get("kind")!r}')
    spec = crd.get('spec') or {}
    names = spec.get('names') or {}
    served = [entry['name'] for entry in spec.get('versions') or [] if entry.get('served', True)]
    if not spec.get('group') or not names.get('kind') or not names.get('plural') or not served:
        raise CrdError(f'CRD {crd.get("metadata", {}).get("name")!r} lacks group, names or a served version')
    return ResourceType(
        group=spec['group'],
        versions=tuple(sorted(served, key=version_priority)),
        kind=names['kind'],
        list_kind=names.get('listKind') or f'{names["kind"]}List',
        plural=names['plural'],
        singular=names.get('singular') or names['kind'].lower(),
        short_names=tuple(names.get('shortNames') or ()),
        categories=tuple(names.get('categories') or ()),
        namespaced=spec.get('scope', 'Namespaced') == 'Namespaced',
    )


class ApiRegistry:
    """The installed resource types. Thread-safe: the HTTP threads read while tests install and uninstall."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_name: dict[str, ResourceType] = {}
        self._by_object_type: dict[tuple[str, str], ResourceType] = {}  # (apiVersion, kind), for bulk loads

    def _reindex(self):
        self._by_object_type = {
            (f'{r.group}/{version}', r.kind): r for r in self._by_name.values() for version in r.versions
        }

    def install(self, crd: dict) -> ResourceType:
        resource = resource_type_from_crd(crd)
        with self._lock:
            self._by_name[resource.name] = resource
            self._reindex()
        return resource

    def uninstall(self, reference: str) -> list[ResourceType]:
        """Remove every resource of a group (`gateway.githedgehog.com`) or one resource (plural, Kind, ...)."""
        with self._lock:
            removed = [r for r in self._by_name.values() if r.group == reference or r.answers_to(reference)]
            for resource in removed:
                del self._by_name[resource.name]
            self._reindex()
        return removed

    def resources(self) -> list[ResourceType]:
        with self._lock:
            return sorted(self._by_name.values(), key=lambda r: (r.group, r.plural))

    def find(self, reference: str) -> ResourceType | None:
        with self._lock:
            return next((r for r in self._by_name.values() if r.answers_to(reference)), None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            resource = self._by_name.get(f'{plural}.{group}')
        return resource if resource and version in resource.versions else None

    def for_object(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_object_type.get((api_version, kind))
