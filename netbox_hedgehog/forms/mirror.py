"""Filter forms of the mirrored kinds, built from the kind registry (kinds/). The kinds have no edit forms."""

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from netbox.forms import NetBoxModelFilterSetForm
from utilities.forms import BOOLEAN_WITH_BLANK_CHOICES
from utilities.forms.fields import DynamicModelMultipleChoiceField
from utilities.forms.rendering import FieldSet

from ..kinds import KINDS
from ..models import HedgehogFabric

__all__ = tuple(f'{kind.model_name}FilterForm' for kind in KINDS)

# Values offered per choice list; promoted text fields such as roles and types take only a handful of values.
CHOICES_LIMIT = 500


def existing_values(model, field_name):
    """Choices of the values a field holds across every fabric, read when the form renders."""

    def choices():
        values = (
            model.objects.exclude(**{field_name: ''}).order_by(field_name)
            .values_list(field_name, flat=True).distinct()[:CHOICES_LIMIT]
        )
        return [(value, value) for value in values]

    return choices


def scalar_form_field(kind, name):
    field = kind.model._meta.get_field(name)
    label = capfirst(field.verbose_name)
    if isinstance(field, models.BooleanField):
        return forms.NullBooleanField(
            label=label, required=False, widget=forms.Select(choices=BOOLEAN_WITH_BLANK_CHOICES)
        )
    if isinstance(field, (models.IntegerField, models.BigIntegerField, models.PositiveIntegerField)):
        return forms.IntegerField(label=label, required=False)
    return forms.MultipleChoiceField(label=label, required=False, choices=existing_values(kind.model, name))


def build_filter_form(kind):
    relation_fields = {
        f'{relation.name}_id': DynamicModelMultipleChoiceField(
            queryset=kind.relation_target(relation).objects.all(),
            required=False,
            label=capfirst(kind.relation_target(relation)._meta.verbose_name),
            query_params={'fabric_id': '$fabric_id'},
        )
        for relation in kind.relation_filters
    }
    attrs = {
        'model': kind.model,
        '__module__': __name__,
        'fabric_id': DynamicModelMultipleChoiceField(
            queryset=HedgehogFabric.objects.all(), required=False, label=_('Fabric')
        ),
        'label': forms.CharField(
            required=False, label=_('Label'), help_text=_('A label key, or key=value'),
        ),
        **{name: scalar_form_field(kind, name) for name in kind.scalar_filters},
        **relation_fields,
    }
    own = (*kind.scalar_filters, *relation_fields)
    attrs['fieldsets'] = (
        FieldSet('q', 'filter_id'),
        FieldSet('fabric_id', 'label', name=_('Kubernetes')),
        *([FieldSet(*own, name=capfirst(kind.model._meta.verbose_name))] if own else []),
    )
    return type(f'{kind.model_name}FilterForm', (NetBoxModelFilterSetForm,), attrs)


for _kind in KINDS:
    globals()[f'{_kind.model_name}FilterForm'] = build_filter_form(_kind)
