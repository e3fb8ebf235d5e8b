import strawberry
import strawberry_django

from ..kinds import KINDS
from . import mirror
from .types import HedgehogFabricType, SyncRunType


def build_query():
    """hedgehog_<name> and hedgehog_<name>_list for the fabric, its runs and every mirrored kind."""
    object_types = {
        'fabric': HedgehogFabricType,
        'sync_run': SyncRunType,
        **{kind.name: getattr(mirror, f'{kind.model_name}Type') for kind in KINDS},
    }
    annotations = {}
    for name, object_type in object_types.items():
        annotations[f'hedgehog_{name}'] = object_type
        annotations[f'hedgehog_{name}_list'] = list[object_type]
    attrs = {name: strawberry_django.field() for name in annotations}
    query = type('HedgehogQuery', (), {'__annotations__': annotations, '__module__': __name__, **attrs})
    return strawberry.type(name='Query')(query)


HedgehogQuery = build_query()

schema = [HedgehogQuery]
