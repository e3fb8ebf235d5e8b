import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from netbox.tables import PrimaryModelTable, columns

from ..formatting import humanize_seconds, shorten
from ..models import HedgehogFabric

__all__ = ('HedgehogFabricTable',)


class HedgehogFabricTable(PrimaryModelTable):
    name = tables.Column(verbose_name=_('Name'), linkify=True)
    kubernetes_server = tables.Column(verbose_name=_('Server'))
    sync_enabled = columns.BooleanColumn(verbose_name=_('Enabled'))
    sync_interval = tables.Column(verbose_name=_('Interval'))
    sync_status = columns.ChoiceFieldColumn(verbose_name=_('Status'))
    last_sync = columns.DateTimeColumn(verbose_name=_('Last sync'))
    last_successful_sync = columns.DateTimeColumn(verbose_name=_('Last success'))
    sync_error = tables.Column(verbose_name=_('Error'))
    tags = columns.TagColumn(url_name='plugins:netbox_hedgehog:hedgehogfabric_list')

    class Meta(PrimaryModelTable.Meta):
        model = HedgehogFabric
        fields = (
            'pk', 'id', 'name', 'description', 'kubernetes_server', 'kubernetes_namespace', 'sync_enabled',
            'sync_interval', 'sync_status', 'last_sync', 'last_successful_sync', 'sync_error', 'comments', 'tags',
            'created', 'last_updated',
        )
        default_columns = (
            'pk', 'name', 'kubernetes_server', 'sync_enabled', 'sync_interval', 'sync_status', 'last_sync',
            'sync_error',
        )

    def render_sync_interval(self, value):
        return humanize_seconds(value)

    def render_sync_error(self, value):
        return shorten(value)
