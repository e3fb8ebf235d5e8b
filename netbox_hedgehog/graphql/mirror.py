"""GraphQL types and filters of the mirrored kinds, one of each per kind, built from the kind registry (kinds/)."""

from typing import Annotated

import strawberry
import strawberry_django
from django.contrib.postgres.fields import ArrayField
from django.db import models
from netbox.graphql.filters import NetBoxModelFilter, register_filter
from netbox.graphql.types import NetBoxObjectType, register_type
from strawberry.scalars import JSON
from strawberry_django import DatetimeFilterLookup, FilterLookup, StrFilterLookup

from ..kinds import KINDS
from .types import HedgehogFabricType

__all__ = (
    *(f'{kind.model_name}Filter' for kind in KINDS),
    *(f'{kind.model_name}Type' for kind in KINDS),
)

HERE = 'netbox_hedgehog.graphql.mirror'
FABRIC_TYPE = HedgehogFabricType


def lazy_type(model):
    return Annotated[f'{model.__name__}Type', strawberry.lazy(HERE)]


def filter_lookup(field):
    if isinstance(field, models.BooleanField):
        return FilterLookup[bool]
    if isinstance(field, models.IntegerField):
        return FilterLookup[int]
    if isinstance(field, models.DateTimeField):
        return DatetimeFilterLookup
    return StrFilterLookup


def build_filter(kind):
    lookups = {'fabric_id': FilterLookup[int], 'name': StrFilterLookup, 'namespace': StrFilterLookup}
    for field in kind.promoted_fields:
        if isinstance(field, (models.ManyToManyField, ArrayField, models.JSONField)):
            continue
        if field.is_relation:
            lookups[f'{field.name}_id'] = FilterLookup[int]
        else:
            lookups[field.name] = filter_lookup(field)
    attrs = {name: strawberry_django.filter_field() for name in lookups}
    attrs['__annotations__'] = {name: lookup | None for name, lookup in lookups.items()}
    attrs['__module__'] = __name__
    cls = type(f'{kind.model_name}Filter', (NetBoxModelFilter,), attrs)
    return register_filter(kind.model, name=f'Hedgehog{kind.model_name}Filter', lookups=True)(cls)


def build_type(kind, filter_class):
    annotations = {'fabric': FABRIC_TYPE, 'labels': JSON, 'annotations': JSON, 'spec': JSON, 'status': JSON}
    for field in kind.promoted_fields:
        if isinstance(field, models.ManyToManyField):
            annotations[field.name] = list[lazy_type(field.related_model)]
        elif field.is_relation:
            annotations[field.name] = lazy_type(field.related_model) | None
    # Objects of other kinds that refer to this one (a switch's connections, a VPC's attachments).
    for relation in kind.model._meta.related_objects:
        if relation.related_model.__module__ == kind.model.__module__:
            target = lazy_type(relation.related_model)
            annotations[relation.get_accessor_name()] = target | None if relation.one_to_one else list[target]
    cls = type(f'{kind.model_name}Type', (NetBoxObjectType,), {'__annotations__': annotations, '__module__': __name__})
    # Prefixed: GraphQL type names share one namespace with NetBox and every other plugin.
    return register_type(
        kind.model, name=f'Hedgehog{kind.model_name}Type', fields='__all__', filters=filter_class, pagination=True
    )(cls)


for _kind in KINDS:
    globals()[f'{_kind.model_name}Filter'] = build_filter(_kind)
    globals()[f'{_kind.model_name}Type'] = build_type(_kind, globals()[f'{_kind.model_name}Filter'])
