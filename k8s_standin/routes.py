"""Mapping request paths of the Kubernetes REST API onto what they address."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """`target` is one of: version, api, apis, group, resources, list, get."""

    target: str
    group: str | None = None
    version: str | None = None
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    namespaced_path: bool = False  # the path went through /namespaces/{namespace}/


def parse_route(path: str) -> Route | None:
    """The route of an API path, or None for a path the API server does not serve."""
    parts = [part for part in path.split('/') if part]
    if parts == ['version']:
        return Route('version')
    if parts == ['api']:
        return Route('api')
    if not parts or parts[0] != 'apis':
        return None
    parts = parts[1:]
    if not parts:
        return Route('apis')
    if len(parts) == 1:
        return Route('group', group=parts[0])
    group, version, rest = parts[0], parts[1], parts[2:]
    if not rest:
        return Route('resources', group=group, version=version)
    if rest[0] == 'namespaces' and len(rest) in (3, 4):
        namespace, plural = rest[1], rest[2]
        if len(rest) == 3:
            return Route('list', group, version, plural, namespace, namespaced_path=True)
        return Route('get', group, version, plural, namespace, rest[3], namespaced_path=True)
    if len(rest) == 1:
        return Route('list', group, version, rest[0])
    if len(rest) == 2:
        return Route('get', group, version, rest[0], name=rest[1])
    return None
