from dcim.api.serializers import SiteSerializer
from netbox.api.fields import ChoiceField
from netbox.api.serializers import PrimaryModelSerializer
from rest_framework import serializers
from tenancy.api.serializers import TenantSerializer

from ...choices import InventoryOrphanChoices, SyncStatusChoices
from ...models import HedgehogFabric
from ...validators import SYNC_INTERVAL_MAX, SYNC_INTERVAL_MIN

__all__ = ('HedgehogFabricSerializer',)


class HedgehogFabricSerializer(PrimaryModelSerializer):
    # Secrets are write-only. Omitting them on update keeps the stored value; sending "" clears it.
    kubernetes_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=True, style={'input_type': 'password'}
    )
    kubeconfig = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False)
    kubernetes_token_set = serializers.SerializerMethodField(read_only=True)
    kubeconfig_set = serializers.SerializerMethodField(read_only=True)
    sync_interval = serializers.IntegerField(
        required=False,
        min_value=SYNC_INTERVAL_MIN,
        max_value=SYNC_INTERVAL_MAX,
        error_messages={
            'min_value': f'The sync interval must be at least {SYNC_INTERVAL_MIN} seconds.',
            'max_value': f'The sync interval must be at most {SYNC_INTERVAL_MAX} seconds (one week).',
            'invalid': 'The sync interval must be a whole number of seconds.',
        },
    )
    sync_status = ChoiceField(choices=SyncStatusChoices, read_only=True)
    inventory_site = SiteSerializer(nested=True, required=False, allow_null=True)
    inventory_tenant = TenantSerializer(nested=True, required=False, allow_null=True)
    inventory_orphans = ChoiceField(choices=InventoryOrphanChoices, required=False)

    class Meta:
        model = HedgehogFabric
        fields = (
            'id', 'url', 'display_url', 'display', 'name', 'description', 'kubernetes_server', 'kubernetes_token',
            'kubernetes_token_set', 'kubernetes_ca_cert', 'kubernetes_skip_tls_verify', 'kubeconfig',
            'kubeconfig_set', 'kubernetes_namespace', 'sync_enabled', 'sync_interval', 'inventory_sync',
            'inventory_site', 'inventory_tenant', 'inventory_orphans', 'inventory_adopt_existing', 'sync_status',
            'last_sync',
            'last_successful_sync', 'sync_error', 'owner', 'comments', 'tags', 'custom_fields', 'created',
            'last_updated',
        )
        read_only_fields = ('last_sync', 'last_successful_sync', 'sync_error')
        brief_fields = ('id', 'url', 'display', 'name', 'description', 'sync_status')

    def get_kubernetes_token_set(self, obj) -> bool:
        return bool(obj.kubernetes_token)

    def get_kubeconfig_set(self, obj) -> bool:
        return bool(obj.kubeconfig)
