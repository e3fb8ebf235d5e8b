from netbox.search import SearchIndex, register_search

from .models import HedgehogFabric


@register_search
class HedgehogFabricIndex(SearchIndex):
    model = HedgehogFabric
    fields = (
        ('name', 100),
        ('kubernetes_server', 300),
        ('description', 500),
        ('comments', 5000),
    )
    display_attrs = ('kubernetes_server', 'sync_status', 'description')
