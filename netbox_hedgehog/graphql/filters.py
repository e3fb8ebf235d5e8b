import strawberry_django
from netbox.graphql.filters import BaseModelFilter, PrimaryModelFilter, register_filter
from strawberry_django import DatetimeFilterLookup, FilterLookup, StrFilterLookup

from netbox_hedgehog import models

__all__ = ('HedgehogFabricFilter', 'SyncRunFilter')


@register_filter(models.HedgehogFabric, lookups=True)
class HedgehogFabricFilter(PrimaryModelFilter):
    name: StrFilterLookup | None = strawberry_django.filter_field()
    kubernetes_server: StrFilterLookup | None = strawberry_django.filter_field()
    kubernetes_namespace: StrFilterLookup | None = strawberry_django.filter_field()
    sync_enabled: FilterLookup[bool] | None = strawberry_django.filter_field()
    sync_interval: FilterLookup[int] | None = strawberry_django.filter_field()
    sync_status: StrFilterLookup | None = strawberry_django.filter_field()
    last_sync: DatetimeFilterLookup | None = strawberry_django.filter_field()
    last_successful_sync: DatetimeFilterLookup | None = strawberry_django.filter_field()


@register_filter(models.SyncRun, lookups=True)
class SyncRunFilter(BaseModelFilter):
    fabric_id: FilterLookup[int] | None = strawberry_django.filter_field()
    trigger: StrFilterLookup | None = strawberry_django.filter_field()
    outcome: StrFilterLookup | None = strawberry_django.filter_field()
    started: DatetimeFilterLookup | None = strawberry_django.filter_field()
    finished: DatetimeFilterLookup | None = strawberry_django.filter_field()
