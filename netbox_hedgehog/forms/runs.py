from django import forms
from django.utils.translation import gettext_lazy as _
from utilities.forms import FilterForm
from utilities.forms.fields import DynamicModelMultipleChoiceField
from utilities.forms.rendering import FieldSet
from utilities.forms.widgets import DateTimePicker

from ..choices import SyncOutcomeChoices, SyncTriggerChoices
from ..models import HedgehogFabric, SyncRun

__all__ = ('SyncRunFilterForm',)


class SyncRunFilterForm(FilterForm):
    model = SyncRun
    fieldsets = (
        FieldSet('q', 'filter_id'),
        FieldSet('fabric_id', 'trigger', 'outcome', name=_('Run')),
        FieldSet('started__after', 'started__before', name=_('Time')),
    )
    fabric_id = DynamicModelMultipleChoiceField(
        queryset=HedgehogFabric.objects.all(), required=False, label=_('Fabric')
    )
    trigger = forms.MultipleChoiceField(label=_('Trigger'), choices=SyncTriggerChoices, required=False)
    outcome = forms.MultipleChoiceField(label=_('Outcome'), choices=SyncOutcomeChoices, required=False)
    started__after = forms.DateTimeField(label=_('Started after'), required=False, widget=DateTimePicker())
    started__before = forms.DateTimeField(label=_('Started before'), required=False, widget=DateTimePicker())
