import strawberry
import strawberry_django

from .types import HedgehogFabricType, SyncRunType


@strawberry.type(name='Query')
class HedgehogQuery:
    hedgehog_fabric: HedgehogFabricType = strawberry_django.field()
    hedgehog_fabric_list: list[HedgehogFabricType] = strawberry_django.field()
    hedgehog_sync_run: SyncRunType = strawberry_django.field()
    hedgehog_sync_run_list: list[SyncRunType] = strawberry_django.field()


schema = [HedgehogQuery]
