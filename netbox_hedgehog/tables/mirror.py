"""List tables of the mirrored kinds: one base, and one table per kind with a column for each promoted field."""

import django_tables2 as tables
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from netbox.tables import NetBoxTable, columns

from ..kinds import KINDS
from ..kinds.display import EMPTY, field_html, field_label, field_text
from .fabric import RelativeTimeColumn

__all__ = ('MirroredObjectTable', 'label_badges', *(f'{kind.model_name}Table' for kind in KINDS))

BASE_COLUMNS = ('pk', 'id', 'name', 'fabric', 'namespace')


def label_badges(labels):
    if not labels:
        return EMPTY
    return format_html_join(
        ' ', '<span class="badge text-bg-secondary">{}={}</span>', sorted((labels or {}).items())
    )


class PromotedFieldColumn(tables.Column):
    """A promoted field rendered as on the detail page: references linked, unmirrored ones named."""

    def __init__(self, field, **kwargs):
        self.field = field
        sortable = not isinstance(field, (models.ManyToManyField, ArrayField))
        super().__init__(
            verbose_name=field_label(field),
            accessor='pk',
            empty_values=(),
            orderable=sortable,
            order_by=(field.name,) if sortable else None,
            **kwargs,
        )

    def render(self, record):
        return field_html(record, self.field)

    def value(self, record):
        return field_text(record, self.field)


class MirroredObjectTable(NetBoxTable):
    name = tables.Column(verbose_name=_('Name'), linkify=True)
    fabric = tables.Column(verbose_name=_('Fabric'), linkify=True)
    namespace = tables.Column(verbose_name=_('Namespace'))
    labels = tables.Column(verbose_name=_('Labels'), orderable=False)
    resource_version = tables.Column(verbose_name=_('Resource version'))
    kubernetes_created = RelativeTimeColumn(verbose_name=_('Created in Kubernetes'))
    last_updated = RelativeTimeColumn(verbose_name=_('Last changed by sync'))
    # The fabric is the source of these objects: nothing to edit or delete here.
    actions = columns.ActionsColumn(actions=())

    def render_labels(self, value):
        return label_badges(value)

    def value_labels(self, value):
        return ', '.join(f'{key}={val}' for key, val in sorted(value.items()))


def build_table(kind):
    promoted = {f.name: PromotedFieldColumn(f) for f in kind.shown_fields}
    meta = type('Meta', (NetBoxTable.Meta,), {
        'model': kind.model,
        'fields': (
            *BASE_COLUMNS, *promoted, 'labels', 'resource_version', 'kubernetes_created', 'last_updated',
        ),
        'default_columns': ('name', 'fabric', *kind.columns),
    })
    attrs = {'Meta': meta, '__module__': __name__, **promoted}
    return type(f'{kind.model_name}Table', (MirroredObjectTable,), attrs)


for _kind in KINDS:
    globals()[f'{_kind.model_name}Table'] = build_table(_kind)
