"""Answers to Kubernetes API requests, independent of HTTP plumbing.

Order of checks is the real server's: authentication (401), then the path (404 for what is not installed), then
authorisation and handling. Injected faults sit between the path and handling, and never fire for requests that
fail authentication, so a count-limited fault is spent only on requests that would otherwise have succeeded.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from k8s_standin import discovery
from k8s_standin import status as errors
from k8s_standin.crds import ApiRegistry, ResourceType
from k8s_standin.faults import Fault, FaultBook
from k8s_standin.pagination import LATEST, InvalidContinueToken, decode_continue, encode_continue
from k8s_standin.routes import Route, parse_route
from k8s_standin.selectors import SelectorError, parse_label_selector
from k8s_standin.store import ObjectStore, Snapshot, to_json

DEFAULT_USER = 'system:serviceaccount:default:netbox'
MALFORMED_BODY = b'{"apiVersion":"v1","kind":"Status","metadata":{"resourceVersion":'  # cut off mid-document
INJECTED_CAUSE = 'fault injected by the Kubernetes API stand-in'


@dataclass(frozen=True)
class Response:
    code: int
    body: bytes = b''
    delay: float = 0.0  # seconds to wait before answering
    drop: bool = False  # close the connection instead of answering


class KubernetesApi:
    def __init__(
        self,
        registry: ApiRegistry,
        store: ObjectStore,
        faults: FaultBook,
        *,
        token: str | None,
        user: str,
        server_address: Callable[[], str],
    ):
        self.registry = registry
        self.store = store
        self.faults = faults
        self.token = token
        self.user = user
        self.server_address = server_address

    def handle(self, method: str, path: str, query: dict[str, str], authorization: str | None) -> Response:
        delay = 0.0
        try:
            self._authenticate(authorization)
            route = parse_route(path)
            if route is None:
                raise errors.path_not_found()
            resource = self._resource(route)
            fault = self.faults.take(resource, continued=route.target == 'list' and bool(query.get('continue')))
            if fault is not None:
                delay = fault.delay
                if fault.name == '410':
                    raise errors.continue_expired(None, None)
                if fault.name in ('repeat-continue', 'overlap'):
                    if method != 'GET':
                        raise errors.method_not_allowed()
                    return Response(200, self._list(resource, route, query, fault.name), delay=delay)
                if fault.name == 'drop':
                    return Response(0, delay=delay, drop=True)
                if fault.name == 'malformed':
                    return Response(200, MALFORMED_BODY, delay=delay)
                self._raise_fault(fault, route, path, resource)
            if method != 'GET':
                raise errors.method_not_allowed()
            if query.get('watch') in ('true', '1'):
                raise errors.bad_request('watch is not supported by this API server; list instead')
            return Response(200, self._serve(route, resource, query), delay=delay)
        except errors.ApiError as error:
            return Response(error.code, to_json(error.status), delay=delay)

    def _authenticate(self, authorization: str | None):
        if self.token is None:
            return
        scheme, _, credential = (authorization or '').partition(' ')
        if scheme.lower() != 'bearer' or not hmac.compare_digest(credential.strip().encode(), self.token.encode()):
            raise errors.unauthorized()

    def _resource(self, route: Route) -> ResourceType | None:
        """The installed resource a list or get addresses (404 when it is not installed or hidden by a fault)."""
        if route.target not in ('list', 'get'):
            return None
        resource = self.registry.lookup(route.group, route.version, route.plural)
        if resource is None or self.faults.hides(resource):
            raise errors.path_not_found()
        # A cluster-scoped kind under /namespaces/, or one namespaced object by a cluster path: not served.
        if route.namespaced_path and not resource.namespaced:
            raise errors.path_not_found()
        if route.target == 'get' and not route.namespaced_path and resource.namespaced:
            raise errors.path_not_found()
        return resource

    def _raise_fault(self, fault: Fault, route: Route, path: str, resource: ResourceType | None):
        if fault.name == '401':
            raise errors.unauthorized()
        if fault.name == '403':
            if resource is None:
                raise errors.forbidden_path(self.user, path)
            verb = 'get' if route.target == 'get' else 'list'
            raise errors.forbidden(self.user, verb, resource, route.namespace, route.name)
        if fault.name == '404':
            raise errors.path_not_found()
        if fault.name == '500':
            raise errors.internal_error(INJECTED_CAUSE)
        # 'slow' only delays.

    def _visible_resources(self) -> list[ResourceType]:
        return [r for r in self.registry.resources() if not self.faults.hides(r)]

    def _serve(self, route: Route, resource: ResourceType | None, query: dict[str, str]) -> bytes:
        if route.target == 'version':
            return to_json(discovery.VERSION_INFO)
        if route.target == 'api':
            return to_json(discovery.api_versions(self.server_address()))
        if route.target == 'apis':
            return to_json(discovery.api_group_list(self._visible_resources()))
        if route.target == 'group':
            document = discovery.api_group(self._visible_resources(), route.group)
        elif route.target == 'resources':
            document = discovery.api_resource_list(self._visible_resources(), route.group, route.version)
        elif route.target == 'get':
            item = self.store.item(resource, route.namespace, route.name)
            if item is None:
                raise errors.object_not_found(resource, route.name)
            return item.body
        else:
            return self._list(resource, route, query)
        if document is None:
            raise errors.path_not_found()
        return to_json(document)

    def _list(self, resource: ResourceType, route: Route, query: dict[str, str], fault: str | None = None) -> bytes:
        """One page of a list; `fault` ('repeat-continue' or 'overlap') breaks a continued page on purpose."""
        namespace = route.namespace if resource.namespaced else None
        try:
            limit = int(query.get('limit') or 0)
        except ValueError:
            raise errors.bad_request(f'limit: Invalid value: "{query["limit"]}": must be an integer') from None
        try:
            selector = parse_label_selector(query.get('labelSelector'))
        except SelectorError as error:
            raise errors.bad_request(f'unable to parse requirement: {error}') from None
        token = query.get('continue')
        if token:
            if query.get('resourceVersion'):
                raise errors.bad_request('specifying resource version is not allowed when using continue')
            list_version, snapshot, start_key = self._continue_from(resource, token, namespace)
        else:
            list_version, snapshot = self.store.list_snapshot(resource)
            start_key = None
        low, high = snapshot.bounds(namespace)
        start = low if start_key is None else snapshot.index_after(start_key, low, high)
        if fault == 'overlap':
            start = max(low, start - 1)
        items, next_index = self._page(snapshot, start, high, limit, selector)
        metadata = {'resourceVersion': str(list_version)}
        if fault == 'repeat-continue':
            metadata['continue'] = token
        elif next_index < high:
            last_key = self._key_text(snapshot.keys[next_index - 1], namespace)
            metadata['continue'] = encode_continue(list_version, last_key)
            if selector is None:
                metadata['remainingItemCount'] = high - next_index
        return b'{"apiVersion":%s,"kind":%s,"metadata":%s,"items":[%s]}' % (
            to_json(f'{resource.group}/{route.version}'),
            to_json(resource.list_kind),
            to_json(metadata),
            b','.join(items),
        )

    @staticmethod
    def _page(snapshot: Snapshot, start: int, high: int, limit: int, selector) -> tuple[list[bytes], int]:
        """The bodies of one page and the index after the last item looked at."""
        end = high if limit <= 0 else min(high, start + limit)
        if selector is None:
            return [item.body for item in snapshot.items[start:end]], end
        bodies = []
        index = start
        while index < high and (limit <= 0 or len(bodies) < limit):
            item = snapshot.items[index]
            if selector(item.labels):
                bodies.append(item.body)
            index += 1
        return bodies, index

    @staticmethod
    def _key_text(key: tuple[str, str], namespace: str | None) -> str:
        """A key as the token spells it: relative to the namespace of a namespaced list, else `namespace/name`."""
        item_namespace, name = key
        return name if namespace is not None or not item_namespace else f'{item_namespace}/{name}'

    @staticmethod
    def _key_from_text(text: str, namespace: str | None, resource: ResourceType) -> tuple[str, str]:
        text = text.rstrip('\x00')
        if namespace is not None:
            return namespace, text
        if not resource.namespaced:
            return '', text
        item_namespace, _, name = text.partition('/')
        return item_namespace, name

    def _continue_from(
        self, resource: ResourceType, token: str, namespace: str | None
    ) -> tuple[int, Snapshot, tuple[str, str]]:
        try:
            position = decode_continue(token)
        except InvalidContinueToken as error:
            raise errors.bad_request(f'invalid continue token: {error}') from None
        start_key = self._key_from_text(position.start_key, namespace, resource)
        if position.resource_version == LATEST:
            list_version, snapshot = self.store.list_snapshot(resource)
            return list_version, snapshot, start_key
        snapshot = self.store.snapshot_at(resource, position.resource_version)
        if snapshot is None:
            raise errors.continue_expired(encode_continue(LATEST, position.start_key.rstrip('\x00')), None)
        return position.resource_version, snapshot, start_key
