"""
What a declaration of a mirrored Hedgehog kind holds, and the checks that every declaration is complete.

A kind is declared once (kinds/declarations.py): how the Kubernetes API serves it, the model that mirrors it, how
its promoted fields and references are read, and how NetBox presents it. The sync, the Kubernetes client, the
views, tables, filter sets, forms, serializers, GraphQL types, search indexes and menu are all derived from it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = (
    'HEALTH',
    'MENU_GROUPS',
    'VPC',
    'WIRING',
    'Kind',
    'Related',
    'Relation',
    'check_declarations',
    'check_models',
)

# Menu groups, in menu order.
WIRING = _('Wiring')
VPC = _('VPC')
HEALTH = _('Health')
MENU_GROUPS = (WIRING, VPC, HEALTH)


@dataclass(frozen=True)
class Relation:
    """
    A filter on one or more relations of a kind: `<name>_id` matches the related objects, `<name>` their names.
    Filtering by name uses the raw reference, so it also finds objects whose target is not mirrored.
    """

    name: str
    fields: tuple


@dataclass(frozen=True)
class Related:
    """Objects that refer to this one, listed as links on its page; `filter` opens them all in their list."""

    title: str
    accessors: tuple
    model_name: str
    filter: str = ''
    note: str = ''


@dataclass(frozen=True, eq=False)
class Kind:
    """One mirrored Hedgehog kind. Its model is named after it (kind "Switch", model netbox_hedgehog.Switch)."""

    # How the Kubernetes API serves it.
    kind: str
    group: str
    version: str
    plural: str
    # How a listed object is read: promote(spec, status, ObjectMeta) -> {model field: value} (kinds/promoters.py);
    # None when the kind promotes no fields.
    promote: Callable | None = None
    # {relation field: raw name field}. The sync resolves each relation from its raw field after every apply, so a
    # relation heals when its target appears later or is recreated with a new uid.
    references: dict = field(default_factory=dict)
    # The kind's spec fields are all optional, so an object written without a spec is still whole.
    spec_optional: bool = False
    # The only spec fields kept in the mirror; None keeps the whole spec.
    kept_spec_fields: tuple | None = None
    # What it becomes in NetBox's own inventory, when its fabric syncs one: inventory(MappingContext, rows)
    # (kinds/mappings.py); None when the kind maps to nothing.
    inventory: Callable | None = None

    # How NetBox presents it. Singular snake_case name: GraphQL fields (hedgehog_<name>, hedgehog_<name>_list).
    name: str = ''
    # URL segment of the list, in the UI and the REST API.
    slug: str = ''
    menu_group: str = ''
    # Place in its menu group, and on the fabric page.
    menu_position: int = 0
    # Menu label where the kind's plural alone would not say what the page shows.
    menu_label: str = ''
    columns: tuple = ()
    filters: tuple = ()
    related: tuple = ()
    # Extra templates for the detail page, each given the object and the view's context.
    panels: tuple = ()
    search_fields: tuple = ()

    def __str__(self):
        return self.kind

    @property
    def model_name(self):
        return self.kind

    @property
    def resource(self):
        """The name RBAC rules and kubectl use, for example "switches.wiring.githedgehog.com"."""
        return f'{self.plural}.{self.group}'

    @cached_property
    def model(self):
        return apps.get_model('netbox_hedgehog', self.model_name)

    @property
    def url_name(self):
        return self.model._meta.model_name

    @cached_property
    def promoted_fields(self):
        """The kind's own fields, in model order: what its table, detail page and API show besides the basics."""
        base = base_fields()
        forward = sorted((*self.model._meta.concrete_fields, *self.model._meta.many_to_many))
        return tuple(f for f in forward if f.name not in base)

    @cached_property
    def raw_reference_fields(self):
        """Raw reference names that back a relation; pages show the relation and fall back to the name."""
        return set(self.references.values())

    @cached_property
    def shown_fields(self):
        return tuple(f for f in self.promoted_fields if f.name not in self.raw_reference_fields)

    @cached_property
    def scalar_filters(self):
        return tuple(name for name in self.filters if isinstance(name, str))

    @cached_property
    def relation_filters(self):
        return tuple(entry for entry in self.filters if isinstance(entry, Relation))

    def relation_target(self, relation):
        return self.model._meta.get_field(relation.fields[0]).related_model

    def raw_name_lookups(self, relation):
        """
        (lookup, is_array) of the raw reference names behind a relation filter. A relation of objects that refer
        to this kind (a switch group's switches) has no raw names here, so it matches its mirrored objects' names.
        """
        lookups = []
        for name in relation.fields:
            if name not in self.references:
                lookups.append((f'{name}__name', False))
                continue
            raw = self.model._meta.get_field(self.references[name])
            lookups.append((raw.name, isinstance(raw, ArrayField)))
        return lookups

    @cached_property
    def select_related(self):
        return ['fabric'] + [f.name for f in self.promoted_fields if isinstance(f, models.ForeignKey)]

    @cached_property
    def prefetch_related(self):
        return [f.name for f in self.promoted_fields if isinstance(f, models.ManyToManyField)]

    def queryset(self):
        return self.model.objects.select_related(*self.select_related).prefetch_related(*self.prefetch_related)


def base_fields():
    """Fields every mirrored object has, shown in the same place on every page."""
    from ..models import MirroredObject

    return ('id', *(f.name for f in MirroredObject._meta.get_fields()))


def _duplicates(values):
    seen, repeated = set(), []
    for value in values:
        if value in seen:
            repeated.append(value)
        seen.add(value)
    return repeated


def check_declarations(kinds):
    """
    What the declarations alone say is missing or inconsistent, one message per problem; raised at import of the
    kinds package, so a half-declared kind never reaches a sync or a page.
    """
    problems = []
    for attribute in ('kind', 'name', 'slug', 'resource'):
        for value in _duplicates(getattr(kind, attribute) for kind in kinds):
            problems.append(f'two kinds have the {attribute} {value!r}')
    for value in _duplicates((kind.menu_group, kind.menu_position) for kind in kinds):
        problems.append(f'two kinds have the menu place {value[0]} {value[1]}')
    declared = {kind.kind for kind in kinds}
    for kind in kinds:
        for attribute in ('group', 'version', 'plural', 'name', 'slug', 'menu_group'):
            if not getattr(kind, attribute):
                problems.append(f'{kind.kind} declares no {attribute}')
        if kind.menu_group and kind.menu_group not in MENU_GROUPS:
            problems.append(f'{kind.kind} declares an unknown menu group {kind.menu_group!r}')
        if kind.promote is not None and not callable(kind.promote):
            problems.append(f'{kind.kind}: promote is not callable')
        if kind.inventory is not None and not callable(kind.inventory):
            problems.append(f'{kind.kind}: inventory is not callable')
        for related in kind.related:
            if related.model_name not in declared:
                problems.append(f'{kind.kind} lists related {related.model_name}, which is not a declared kind')
    if problems:
        raise ImproperlyConfigured('Incomplete Hedgehog kind declarations: ' + '; '.join(problems))


def _field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _model(kind):
    try:
        return kind.model
    except LookupError:
        return None


def _check_references(kind, order, problems):
    model = kind.model
    mirrored = {_model(k) for k in order} - {None}
    relations = {
        f.name for f in (*model._meta.concrete_fields, *model._meta.many_to_many)
        if f.is_relation and f.related_model in mirrored
    }
    for missing in sorted(relations - set(kind.references)):
        problems.append(f'{kind.kind}.{missing} relates to a mirrored kind but is not among its references')
    for relation_name, raw_name in kind.references.items():
        relation, raw = _field(model, relation_name), _field(model, raw_name)
        if relation is None or not relation.is_relation:
            problems.append(f'{kind.kind} references {relation_name}, which is not a relation of its model')
            continue
        if not isinstance(raw, (models.CharField, ArrayField)):
            problems.append(f'{kind.kind}.{relation_name} is resolved from {raw_name}, which is not a name field')
        target = next((k for k in order if _model(k) is relation.related_model), None)
        if target is not None and order.index(target) > order.index(kind):
            problems.append(f'{kind.kind} refers to {target.kind}, which is declared after it')


def check_models(kinds):
    """
    What the declarations say about models that do not match them, one message per problem; run when the plugin
    is ready (models cannot be read at import) and by the test suite.
    """
    from ..models import MirroredObject

    problems = []
    order = list(kinds)
    for kind in order:
        model = _model(kind)
        if model is None:
            problems.append(f'{kind.kind} has no model netbox_hedgehog.{kind.model_name}')
            continue
        if not issubclass(model, MirroredObject):
            problems.append(f'{kind.model_name} is not a MirroredObject')
            continue
        _check_references(kind, order, problems)
        for name in (*kind.columns, *kind.scalar_filters, *kind.search_fields):
            if _field(model, name) is None:
                problems.append(f'{kind.kind} presents {name}, which is not a field of its model')
        for relation in kind.relation_filters:
            for name in relation.fields:
                if not getattr(_field(model, name), 'is_relation', False):
                    problems.append(f'{kind.kind} filters by {name}, which is not a relation of its model')
        for related in kind.related:
            for accessor in related.accessors:
                if not hasattr(model, accessor):
                    problems.append(f'{kind.kind} lists related {accessor}, which its model does not have')
    declared = {kind.model_name for kind in order}
    for model in apps.get_app_config('netbox_hedgehog').get_models():
        if issubclass(model, MirroredObject) and model.__name__ not in declared:
            problems.append(f'the model {model.__name__} is mirrored but declares no kind')
    if problems:
        raise ImproperlyConfigured('Incomplete Hedgehog kind declarations: ' + '; '.join(problems))
