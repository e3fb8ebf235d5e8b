"""Filter sets of the mirrored kinds: one base, and one class per kind built from the kind registry (kinds/)."""

from functools import reduce
from operator import or_

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from netbox.filtersets import NetBoxModelFilterSet
from utilities.filters import MultiValueCharFilter
from utilities.filtersets import register_filterset

from ..kinds import KINDS
from ..models import HedgehogFabric

__all__ = ('MirroredObjectFilterSet', 'label_query', *(f'{kind.model_name}FilterSet' for kind in KINDS))


def label_query(selector):
    """`key` matches objects carrying the label, `key=value` those where it has that value."""
    key, has_value, value = selector.partition('=')
    key = key.strip()
    if has_value:
        return Q(labels__contains={key: value.strip()})
    return Q(labels__has_key=key)


class MirroredObjectFilterSet(NetBoxModelFilterSet):
    fabric_id = django_filters.ModelMultipleChoiceFilter(
        queryset=HedgehogFabric.objects.all(), label=_('Fabric (ID)')
    )
    fabric = django_filters.ModelMultipleChoiceFilter(
        field_name='fabric__name', queryset=HedgehogFabric.objects.all(), to_field_name='name',
        label=_('Fabric (name)'),
    )
    label = MultiValueCharFilter(method='filter_labels', label=_('Label (key or key=value)'))

    def filter_labels(self, queryset, name, value):
        # Every selector must match, as in a Kubernetes label selector.
        for selector in value:
            if selector.strip():
                queryset = queryset.filter(label_query(selector))
        return queryset

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(namespace__icontains=value))


def relation_filters(kind, relation):
    """`<name>_id` by related object and `<name>` by referenced name, each OR-ed across the relation's fields."""

    def by_object(queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f'{field}__in': value}) for field in relation.fields))).distinct()

    def by_name(queryset, name, value):
        if not value:
            return queryset
        lookups = (
            Q(**{f'{raw}__overlap' if is_array else f'{raw}__in': value})
            for raw, is_array in kind.raw_name_lookups(relation)
        )
        return queryset.filter(reduce(or_, lookups)).distinct()

    target = kind.relation_target(relation)
    verbose = target._meta.verbose_name
    return {
        f'{relation.name}_id': django_filters.ModelMultipleChoiceFilter(
            queryset=target.objects.all(), method=by_object, label=_('{} (ID)').format(verbose)
        ),
        relation.name: MultiValueCharFilter(method=by_name, label=_('{} (name)').format(verbose)),
    }


def build_filterset(kind):
    attrs = {
        'Meta': type('Meta', (), {'model': kind.model, 'fields': ('id', 'name', 'namespace', *kind.scalar_filters)}),
        '__module__': __name__,
    }
    for relation in kind.relation_filters:
        attrs.update(relation_filters(kind, relation))
    return register_filterset(type(f'{kind.model_name}FilterSet', (MirroredObjectFilterSet,), attrs))


for _kind in KINDS:
    globals()[f'{_kind.model_name}FilterSet'] = build_filterset(_kind)
