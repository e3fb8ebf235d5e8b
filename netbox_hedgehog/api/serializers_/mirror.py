"""Read-only serializers of the mirrored kinds, one per kind, built from the kind registry (kinds/)."""

from django.db import models
from netbox.api.serializers import NetBoxModelSerializer

from ...kinds import KINDS
from .fabric import HedgehogFabricSerializer

__all__ = ('MirroredObjectSerializer', *(f'{kind.model_name}Serializer' for kind in KINDS))

# NetBox's own fields of every model, and what Kubernetes says of every object, before the kind's own fields.
LEADING_FIELDS = ('id', 'url', 'display_url', 'display', 'fabric', 'name', 'namespace')
TRAILING_FIELDS = (
    'uid', 'resource_version', 'generation', 'kubernetes_created', 'labels', 'annotations', 'spec', 'status',
    'tags', 'custom_fields', 'created', 'last_updated',
)


class MirroredObjectSerializer(NetBoxModelSerializer):
    fabric = HedgehogFabricSerializer(nested=True, read_only=True)


def build_serializer(kind, serializers):
    """A kind's serializer; relations nest the serializers of kinds built before it (the sync order)."""
    attrs = {'__module__': __name__}
    for field in kind.promoted_fields:
        if field.is_relation:
            nested = serializers[field.related_model.__name__]
            many = isinstance(field, models.ManyToManyField)
            attrs[field.name] = nested(nested=True, read_only=True, many=many, allow_null=not many)
    own = tuple(f.name for f in kind.promoted_fields)
    attrs['Meta'] = type('Meta', (), {
        'model': kind.model,
        'fields': (*LEADING_FIELDS, *own, *TRAILING_FIELDS),
        'read_only_fields': (*LEADING_FIELDS, *own, *TRAILING_FIELDS),
        'brief_fields': ('id', 'url', 'display', 'name', 'namespace'),
    })
    return type(f'{kind.model_name}Serializer', (MirroredObjectSerializer,), attrs)


def build_serializers():
    # The sync order puts every kind after the kinds it refers to.
    built = {}
    for kind in KINDS:
        built[kind.model_name] = build_serializer(kind, built)
    return built


globals().update({f'{name}Serializer': serializer for name, serializer in build_serializers().items()})
