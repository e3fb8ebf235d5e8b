"""
Read one listed Kubernetes object into the values of its mirror row, or say precisely why it is malformed.

The fields every kind has are read here; each kind's promoted fields are read by its declaration's promoter
(kinds/promoters.py). Every value is type-checked, so that bad input is reported by name and skipped instead of
failing the database write of a whole run.
"""

import json
from dataclasses import dataclass

from ..kinds.promoters import ObjectMeta
from ..kinds.values import MISSING, NAME_LENGTH, MalformedObject, integer, string_map, text, timestamp

__all__ = ('ListedObject', 'MalformedObject', 'read_identity', 'read_object')


@dataclass
class ListedObject:
    """A listed object read into the values of its mirror row (all model fields but the fabric and relations)."""

    uid: str
    name: str
    resource_version: str
    values: dict


def read_identity(item):
    """(uid, name, resourceVersion) of a listed object: all a sync needs to know about an unchanged one."""
    if not isinstance(item, dict):
        raise MalformedObject(f'the object is a {type(item).__name__}, not an object')
    metadata = item.get('metadata')
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
    if '\\u0000' in json.dumps([metadata, values['spec'], status]):
        raise MalformedObject('it holds a NUL character, which PostgreSQL cannot store')
    return ListedObject(uid=uid, name=name, resource_version=resource_version, values=values)
