"""The objects the stand-in serves, with the server-side metadata bookkeeping of a real API server.

Every write takes the next value of one global resourceVersion counter (like etcd's revision). Each object is
kept as its serialised JSON, because serving lists is the hot path: a list page is the concatenation of
pre-serialised items. Per kind, a sorted immutable snapshot is built on the first list after a change and reused
by every page until the next change; continue tokens point at the snapshot they started on, so a paginated list
stays consistent while writes happen, and a token whose snapshot was evicted (or `compact`ed) is expired.
"""

import json
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from k8s_standin.crds import ApiRegistry, ResourceType

DEFAULT_NAMESPACE = 'default'
# Uids are derived from this namespace and the object's identity, so a restarted stand-in serves the same uids.
UID_NAMESPACE = uuid.UUID('6f1c7a52-3d0e-4c1b-9a57-2b8e0c4d9f31')
# Parts of an object that are not its desired state: changing only these leaves metadata.generation alone.
_NOT_SPEC = frozenset({'apiVersion', 'kind', 'metadata', 'status'})


class UnknownKind(LookupError):
    """The object's apiVersion/kind has no installed CRD (the server says `no matches for kind`)."""


class ObjectNotFound(LookupError):
    pass


_timestamp_cache = (0, '')


def now_rfc3339() -> str:
    # Bulk loads stamp thousands of objects within the same second; format each second once.
    global _timestamp_cache
    second = int(time.time())
    if _timestamp_cache[0] != second:
        _timestamp_cache = (second, datetime.fromtimestamp(second, UTC).strftime('%Y-%m-%dT%H:%M:%SZ'))
    return _timestamp_cache[1]


def to_json(document) -> bytes:
    try:
        return json.dumps(document, separators=(',', ':'), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate (planted by a test) travels as a \ud800 escape, as a hostile API server may send it.
        return json.dumps(document, separators=(',', ':')).encode()


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: dicts merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class StoredItem:
    key: tuple[str, str]  # (namespace or '' for cluster-scoped kinds, name)
    labels: dict = field(compare=False)
    body: bytes = field(compare=False)

    def load(self) -> dict:
        return json.loads(self.body)


@dataclass(frozen=True)
class Snapshot:
    """A kind's objects sorted by (namespace, name) at one moment."""

    keys: list[tuple[str, str]]
    items: list[StoredItem]

    def bounds(self, namespace: str | None) -> tuple[int, int]:
        """Index range of one namespace's items (they are contiguous), or of all items."""
        if namespace is None:
            return 0, len(self.items)
        return bisect_left(self.keys, (namespace, '')), bisect_left(self.keys, (namespace + '\x00', ''))

    def index_after(self, key: tuple[str, str], low: int, high: int) -> int:
        return bisect_right(self.keys, key, low, high)


class ObjectStore:
    def __init__(self, registry: ApiRegistry, *, first_resource_version: int = 1000, snapshots_per_kind: int = 64):
        self._registry = registry
        self._lock = threading.RLock()
        self._resource_version = first_resource_version
        self._snapshots_per_kind = snapshots_per_kind
        self._items: dict[str, dict[tuple[str, str], StoredItem]] = defaultdict(dict)
        self._current: dict[str, Snapshot] = {}
        self._history: dict[str, OrderedDict[int, Snapshot]] = defaultdict(OrderedDict)
        # Deletions per (resource, namespace, name): an object created again after a deletion is a new object.
        self._deletions: dict[tuple[str, str, str], int] = defaultdict(int)

    @property
    def resource_version(self) -> int:
        return self._resource_version

    def _bump(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def _changed(self, resource: ResourceType):
        self._current.pop(resource.name, None)

    def resolve(self, obj: dict) -> ResourceType:
        resource = self._registry.for_object(obj.get('apiVersion'), obj.get('kind'))
        if resource is None:
            raise UnknownKind(f'no matches for kind "{obj.get("kind")}" in version "{obj.get("apiVersion")}"')
        return resource

    @staticmethod
    def _key(resource: ResourceType, namespace: str | None, name: str) -> tuple[str, str]:
        return (namespace or DEFAULT_NAMESPACE) if resource.namespaced else '', name

    def _uid(self, resource: ResourceType, key: tuple[str, str]) -> str:
        """
        The uid of an object created now: derived from its kind, namespace and name, so that the same fixtures
        loaded again (a restart) keep their uids, and from its deletions so far, so that an object created again
        after a deletion gets a new uid, as on a real server.
        """
        deletions = self._deletions[(resource.name, *key)]
        # Names are hostile in tests (lone surrogates): hash their code points, whatever they are.
        name = f'{resource.name}/{key[0]}/{key[1]}#{deletions}'.encode('utf-8', 'surrogatepass')
        return str(uuid.uuid5(UID_NAMESPACE, name))

    def _store(self, resource: ResourceType, obj: dict) -> StoredItem:
        metadata = obj['metadata']
        key = self._key(resource, metadata.get('namespace'), metadata['name'])
        item = StoredItem(key, dict(metadata.get('labels') or {}), to_json(obj))
        self._items[resource.name][key] = item
        self._changed(resource)
        return item

    def upsert(self, obj: dict) -> dict:
        """Create or replace an object the way a create or update would, returning the stored object.

        Create: uid, creationTimestamp and resourceVersion are assigned, generation starts at 1 (a generation
        in the input is kept, so fixtures can pin it), the namespace defaults to `default`. Replace: uid and
        creationTimestamp stay, generation goes up by one when anything outside metadata and status changed,
        and an identical object is a no-op that leaves the resourceVersion alone, as on the real server.
        """
        resource = self.resolve(obj)
        obj = json.loads(to_json(obj))  # a private deep copy, fast even for thousands of objects
        metadata = obj.setdefault('metadata', {})
        if not metadata.get('name'):
            raise ValueError(f'{resource.kind} without metadata.name')
        if resource.namespaced:
            metadata['namespace'] = metadata.get('namespace') or DEFAULT_NAMESPACE
        else:
            metadata.pop('namespace', None)
        with self._lock:
            key = self._key(resource, metadata.get('namespace'), metadata['name'])
            existing = self._items[resource.name].get(key)
            if existing is None:
                metadata['uid'] = metadata.get('uid') or self._uid(resource, key)
                metadata['creationTimestamp'] = metadata.get('creationTimestamp') or now_rfc3339()
                metadata['generation'] = int(metadata.get('generation') or 1)
            else:
                previous = existing.load()
                self._carry_over_metadata(previous, obj)
                if obj == previous:
                    return previous
            metadata['resourceVersion'] = self._bump()
            self._store(resource, obj)
        return obj

    @staticmethod
    def _carry_over_metadata(previous: dict, obj: dict):
        old, new = previous['metadata'], obj['metadata']
        new['uid'] = old['uid']
        new['creationTimestamp'] = old['creationTimestamp']
        spec_changed = {k: v for k, v in obj.items() if k not in _NOT_SPEC} != {
            k: v for k, v in previous.items() if k not in _NOT_SPEC
        }
        new['generation'] = old.get('generation', 1) + (1 if spec_changed else 0)
        new['resourceVersion'] = old['resourceVersion']

    def upsert_many(self, objects, *, skip_unknown: bool = False) -> list[str]:
        """Upsert each object; returns `apiVersion/kind` of the objects skipped for lack of a CRD."""
        skipped = []
        for obj in objects:
            try:
                self.upsert(obj)
            except UnknownKind:
                if not skip_unknown:
                    raise
                skipped.append(f'{obj.get("apiVersion")}/{obj.get("kind")}')
        return skipped

    def patch(
        self,
        resource: ResourceType,
        name: str,
        namespace: str | None = DEFAULT_NAMESPACE,
        *,
        spec=None,
        status=None,
        labels=None,
        annotations=None,
    ) -> dict:
        """JSON-merge-patch parts of an object (None leaves a part alone; a None value inside deletes a key)."""
        with self._lock:
            item = self._items[resource.name].get(self._key(resource, namespace, name))
            if item is None:
                raise ObjectNotFound(f'{resource.name} "{name}" not found')
            obj = item.load()
            if spec is not None:
                obj['spec'] = merge_patch(obj.get('spec'), spec)
            if status is not None:
                obj['status'] = merge_patch(obj.get('status'), status)
            if labels is not None:
                obj['metadata']['labels'] = merge_patch(obj['metadata'].get('labels'), labels)
            if annotations is not None:
                obj['metadata']['annotations'] = merge_patch(obj['metadata'].get('annotations'), annotations)
            return self.upsert(obj)

    def delete(self, resource: ResourceType, name: str, namespace: str | None = DEFAULT_NAMESPACE) -> dict:
        """Remove an object; the deletion takes a resourceVersion of its own, as on the real server."""
        with self._lock:
            key = self._key(resource, namespace, name)
            item = self._items[resource.name].pop(key, None)
            if item is None:
                raise ObjectNotFound(f'{resource.name} "{name}" not found')
            self._deletions[(resource.name, *key)] += 1
            obj = item.load()
            obj['metadata']['resourceVersion'] = self._bump()
            self._changed(resource)
        return obj

    def put_raw(self, resource: ResourceType, namespace: str | None, name: str, body: bytes):
        """
        Serve `body` verbatim as the item `name` of a kind's lists, however malformed: for testing clients against
        objects that a real server might send but this store would never produce.
        """
        with self._lock:
            key = self._key(resource, namespace, name)
            self._items[resource.name][key] = StoredItem(key, {}, bytes(body))
            self._bump()
            self._changed(resource)

    def drop_kind(self, resource: ResourceType):
        """Forget every object of a kind (its CRD was uninstalled) and the snapshots of its lists."""
        with self._lock:
            if self._items.pop(resource.name, None):
                self._bump()
            self._current.pop(resource.name, None)
            self._history.pop(resource.name, None)

    def item(self, resource: ResourceType, namespace: str | None, name: str) -> StoredItem | None:
        with self._lock:
            return self._items[resource.name].get(self._key(resource, namespace, name))

    def objects(self, resource: ResourceType) -> list[dict]:
        """Private copies of a kind's objects, sorted by namespace and name."""
        with self._lock:
            items = sorted(self._items[resource.name].items())
        return [item.load() for _, item in items]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {name: len(items) for name, items in self._items.items() if items}

    def list_snapshot(self, resource: ResourceType) -> tuple[int, Snapshot]:
        """The current snapshot of a kind and the resourceVersion a list served from it reports."""
        with self._lock:
            snapshot = self._current.get(resource.name)
            if snapshot is None:
                ordered = sorted(self._items[resource.name].items())
                snapshot = Snapshot([key for key, _ in ordered], [item for _, item in ordered])
                self._current[resource.name] = snapshot
            list_version = self._resource_version
            history = self._history[resource.name]
            history[list_version] = snapshot
            history.move_to_end(list_version)
            while len(history) > self._snapshots_per_kind:
                history.popitem(last=False)
        return list_version, snapshot

    def snapshot_at(self, resource: ResourceType, list_version: int) -> Snapshot | None:
        with self._lock:
            return self._history[resource.name].get(list_version)

    def compact(self):
        """Forget all list snapshots, like etcd compaction: every outstanding continue token expires."""
        with self._lock:
            self._history.clear()
