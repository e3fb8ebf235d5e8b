import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from netbox.filtersets import BaseFilterSet
from utilities.filtersets import register_filterset

from ..choices import SyncOutcomeChoices, SyncTriggerChoices
from ..models import HedgehogFabric, SyncRun

__all__ = ('SyncRunFilterSet',)


@register_filterset
class SyncRunFilterSet(BaseFilterSet):
    q = django_filters.CharFilter(method='search', label=_('Search'))
    fabric_id = django_filters.ModelMultipleChoiceFilter(queryset=HedgehogFabric.objects.all(), label=_('Fabric (ID)'))
    fabric = django_filters.ModelMultipleChoiceFilter(
        field_name='fabric__name', queryset=HedgehogFabric.objects.all(), to_field_name='name', label=_('Fabric (name)')
    )
    trigger = django_filters.MultipleChoiceFilter(choices=SyncTriggerChoices, distinct=False)
    outcome = django_filters.MultipleChoiceFilter(choices=SyncOutcomeChoices, distinct=False)
    started__before = django_filters.DateTimeFilter(field_name='started', lookup_expr='lte')
    started__after = django_filters.DateTimeFilter(field_name='started', lookup_expr='gte')

    class Meta:
        model = SyncRun
        fields = ('id', 'trigger', 'outcome', 'started', 'finished', 'duration')

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        # Errors are stored as JSON; a text search over them finds a message or an object name.
        return queryset.filter(Q(fabric__name__icontains=value) | Q(errors__icontains=value))
