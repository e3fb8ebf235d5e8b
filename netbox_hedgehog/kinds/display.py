"""
How a mirrored object's fields read on a page: shared by the list tables and the detail pages, so that a value
looks the same in both. A reference to an object the fabric does not hold shows its name, marked as not mirrored.
"""

import yaml
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from netbox.tables.columns import BooleanColumn

from ..templatetags.hedgehog import relative_time
from . import kind_of

__all__ = ('as_yaml', 'field_html', 'field_label', 'field_text')

EMPTY = BooleanColumn.EMPTY_MARK


def field_label(field):
    """A promoted field's label; a relation to many objects is named after their kind ("VLAN namespaces")."""
    if isinstance(field, models.ManyToManyField):
        return capfirst(field.related_model._meta.verbose_name_plural)
    return capfirst(field.verbose_name)


def link(obj):
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj)


def unmirrored(name):
    return format_html(
        '{} <span class="text-muted small" title="{}">({})</span>',
        name, _('The fabric refers to this object, but does not hold it'), _('not mirrored'),
    )


def reference_html(obj, raw_name):
    if obj is not None:
        return link(obj)
    return unmirrored(raw_name) if raw_name else EMPTY


def references_html(objects, raw_names):
    """Each referenced name in the fabric's order, linked when the object is mirrored."""
    by_name = {obj.name: obj for obj in objects}
    names = list(raw_names) or sorted(by_name)
    if not names:
        return EMPTY
    return format_html_join(
        ', ', '{}', ((link(by_name[name]) if name in by_name else unmirrored(name),) for name in names)
    )


def raw_field(obj, field):
    raw = kind_of(type(obj)).references.get(field.name)
    return getattr(obj, raw) if raw else None


def field_html(obj, field):
    """One promoted field of a mirrored object as HTML."""
    if isinstance(field, models.ManyToManyField):
        return references_html(getattr(obj, field.name).all(), raw_field(obj, field) or ())
    if field.is_relation:
        return reference_html(getattr(obj, field.name), raw_field(obj, field))
    value = getattr(obj, field.name)
    if isinstance(field, models.BooleanField):
        return BooleanColumn().render(value)
    if isinstance(field, models.DateTimeField):
        return relative_time(value)
    if isinstance(field, ArrayField):
        return format_html_join(', ', '{}', ((item,) for item in value)) if value else EMPTY
    if value in ('', None):
        return EMPTY
    return format_html('{}', value)


def field_text(obj, field):
    """One promoted field as plain text, for exports."""
    if isinstance(field, models.ManyToManyField):
        return ', '.join(raw_field(obj, field) or sorted(o.name for o in getattr(obj, field.name).all()))
    if field.is_relation:
        target = getattr(obj, field.name)
        return target.name if target is not None else (raw_field(obj, field) or '')
    value = getattr(obj, field.name)
    if isinstance(field, models.DateTimeField):
        return value.isoformat() if value else ''
    if isinstance(field, ArrayField):
        return ', '.join(value)
    return '' if value is None else str(value)


def as_yaml(data):
    """A spec or status as block YAML in the order Kubernetes returned it; '' when there is nothing."""
    if not data:
        return ''
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
