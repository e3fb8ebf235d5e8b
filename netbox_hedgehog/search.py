from netbox.search import SearchIndex, register_search

from .kinds import KINDS
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


def build_search_index(kind):
    """Mirrored objects are found by name first, then by the kind's other identifying fields."""
    return register_search(type(f'{kind.model_name}Index', (SearchIndex,), {
        '__module__': __name__,
        'model': kind.model,
        'fields': (('name', 100), *((name, 300) for name in kind.search_fields)),
        'display_attrs': ('fabric', *kind.columns[:2]),
    }))


for _kind in KINDS:
    globals()[f'{_kind.model_name}Index'] = build_search_index(_kind)
