import django_filters
from dcim.models import Site
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from netbox.filtersets import PrimaryModelFilterSet
from tenancy.models import Tenant
from utilities.filtersets import register_filterset

from ..choices import InventoryOrphanChoices, SyncStatusChoices
from ..models import HedgehogFabric

__all__ = ('HedgehogFabricFilterSet',)


@register_filterset
class HedgehogFabricFilterSet(PrimaryModelFilterSet):
    sync_status = django_filters.MultipleChoiceFilter(choices=SyncStatusChoices, distinct=False, null_value=None)
    inventory_orphans = django_filters.MultipleChoiceFilter(choices=InventoryOrphanChoices, distinct=False)
    inventory_site_id = django_filters.ModelMultipleChoiceFilter(queryset=Site.objects.all(), label=_('Site (ID)'))
    inventory_tenant_id = django_filters.ModelMultipleChoiceFilter(
        queryset=Tenant.objects.all(), label=_('Tenant (ID)')
    )

    class Meta:
        model = HedgehogFabric
        fields = (
            'id', 'name', 'description', 'kubernetes_server', 'kubernetes_namespace', 'kubernetes_skip_tls_verify',
            'sync_enabled', 'sync_interval', 'last_sync', 'last_successful_sync', 'inventory_sync',
            'inventory_adopt_existing',
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
