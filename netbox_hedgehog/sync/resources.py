"""
Read one listed Kubernetes object into the values of its mirror row, or say precisely why it is malformed.

The fields every kind has are read here; each kind's promoted fields are read by its declaration's promoter
(kinds/promoters.py). Every value is type-checked, so that bad input is reported by name and skipped instead of
failing the database write of a whole run.
"""

import json
from dataclasses import dataclass

import orjson

from ..kinds.promoters import ObjectMeta
from ..kinds.values import MISSING, NAME_LENGTH, MalformedObject, integer, string_map, text, timestamp
from ..run_record import clean_text

__all__ = ('ListedObject', 'MalformedObject', 'read_identity', 'read_object')

# Nesting deeper than this is no Hedgehog object; pages, the REST API and YAML rendering would recurse through it.
MAX_DEPTH = 64


@dataclass
class ListedObject:
    """A listed object read into the values of its mirror row (all model fields but the fabric and relations)."""

    uid: str
    name: str
    resource_version: str
    values: dict


def read_identity(item):
    """(uid, name, resourceVersion) of a listed object: all a sync needs to know about an unchanged one."""
    metadata = item.get('metadata') if isinstance(item, dict) else None
    if isinstance(metadata, dict):
        # Every well-formed object takes this path; the checks below only name what is wrong with the others.
        uid, name, resource_version = metadata.get('uid'), metadata.get('name'), metadata.get('resourceVersion')
        if (
            type(uid) is str and 0 < len(uid) <= 64
            and type(name) is str and 0 < len(name) <= NAME_LENGTH
            and type(resource_version) is str and 0 < len(resource_version) <= 64
        ):
            return uid, name, resource_version
    if not isinstance(item, dict):
        raise MalformedObject(f'the object is a {type(item).__name__}, not an object')
    if not isinstance(metadata, dict):
        raise MalformedObject('metadata is missing')
    identity = (
        text(metadata, 'uid', 'metadata', max_length=64),
        text(metadata, 'name', 'metadata', max_length=NAME_LENGTH),
        text(metadata, 'resourceVersion', 'metadata', max_length=64),
    )
    for field, value in zip(('uid', 'name', 'resourceVersion'), identity, strict=True):
        if not value:
            raise MalformedObject(f'metadata.{field} is missing')
    return identity


def _stored_spec(kind, spec):
    if kind.kept_spec_fields is None:
        return spec
    return {key: spec[key] for key in kind.kept_spec_fields if isinstance(spec.get(key), str)}


def _nesting_depth(value, limit):
    """How deep `value` nests lists and objects, counting no further than `limit`."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def check_storable(*documents):
    """Refuse what PostgreSQL cannot store or NetBox cannot show: runaway nesting, NUL, lone surrogates."""
    try:
        encoded = orjson.dumps(documents)
    except orjson.JSONEncodeError:
        # Too deep for orjson, or text that is no Unicode: the slower checks below say which, and where.
        encoded = None
    # A document cannot nest deeper than it has lists and objects, so only the few that have many are walked.
    if encoded is None or encoded.count(b'{') + encoded.count(b'[') > MAX_DEPTH + 1:
        # Depth first, without recursion: json.dumps() itself would raise RecursionError on what json.loads() took.
        if _nesting_depth(documents, MAX_DEPTH + 1) > MAX_DEPTH + 1:
            raise MalformedObject(f'it nests lists and objects more than {MAX_DEPTH} levels deep')
    if encoded is None:
        try:
            json.dumps(documents, ensure_ascii=False).encode('utf-8')
        except UnicodeEncodeError as exc:
            bad = clean_text(exc.object[max(exc.start - 20, 0):exc.end + 20], 60)
            raise MalformedObject(
                f'it holds text that is not valid Unicode, which PostgreSQL cannot store ("{bad}")'
            ) from None
        raise MalformedObject('it holds a value PostgreSQL cannot store')
    if b'\\u0000' in encoded:
        raise MalformedObject('it holds a NUL character, which PostgreSQL cannot store')


def read_object(kind, item, namespace):
    """
    Return the ListedObject of one object of a Kind listed in a namespace; raise MalformedObject when it cannot be
    mirrored.
    """
    uid, name, resource_version = read_identity(item)
    metadata = item['metadata']
    generation = integer(metadata, 'generation', 'metadata')
    spec = item.get('spec', MISSING)
    if spec is MISSING or spec is None:
        if not kind.spec_optional:
            raise MalformedObject('spec is missing')
        spec = {}
    if not isinstance(spec, dict):
        raise MalformedObject(f'spec must be an object, not {type(spec).__name__}')
    status = item.get('status') or {}
    if not isinstance(status, dict):
        raise MalformedObject(f'status must be an object, not {type(status).__name__}')
    values = {
        'name': name,
        'namespace': text(metadata, 'namespace', 'metadata', max_length=63) or namespace,
        'uid': uid,
        'resource_version': resource_version,
        'generation': generation,
        'labels': string_map(metadata, 'labels', 'metadata'),
        'annotations': string_map(metadata, 'annotations', 'metadata'),
        'spec': _stored_spec(kind, spec),
        'status': status,
        'kubernetes_created': timestamp(metadata, 'creationTimestamp', 'metadata'),
    }
    if kind.promote is not None:
        values.update(kind.promote(spec, status, ObjectMeta(name, generation)))
    check_storable(metadata, values['spec'], status)
    return ListedObject(uid=uid, name=name, resource_version=resource_version, values=values)
