import django_filters
from django.db.models import Q
from netbox.filtersets import PrimaryModelFilterSet
from utilities.filtersets import register_filterset

from ..choices import SyncStatusChoices
from ..models import HedgehogFabric

__all__ = ('HedgehogFabricFilterSet',)


@register_filterset
class HedgehogFabricFilterSet(PrimaryModelFilterSet):
    sync_status = django_filters.MultipleChoiceFilter(choices=SyncStatusChoices, distinct=False, null_value=None)

    class Meta:
        model = HedgehogFabric
        fields = (
            'id', 'name', 'description', 'kubernetes_server', 'kubernetes_namespace', 'kubernetes_skip_tls_verify',
            'sync_enabled', 'sync_interval', 'last_sync', 'last_successful_sync',
        )

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(description__icontains=value)
            | Q(kubernetes_server__icontains=value)
            | Q(sync_error__icontains=value)
            | Q(comments__icontains=value)
        )
