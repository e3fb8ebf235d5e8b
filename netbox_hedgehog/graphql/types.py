from typing import Annotated

import strawberry
import strawberry_django
from netbox.graphql.types import BaseObjectType, PrimaryObjectType, register_type

from netbox_hedgehog import models

from .filters import HedgehogFabricFilter, SyncRunFilter

__all__ = ('HedgehogFabricType', 'SyncRunType')


@register_type(
    models.HedgehogFabric,
    # The token and the kubeconfig are write-only secrets and are never exposed.
    exclude=['kubernetes_token', 'kubeconfig'],
    filters=HedgehogFabricFilter,
    pagination=True,
)
class HedgehogFabricType(PrimaryObjectType):
    inventory_site: Annotated['SiteType', strawberry.lazy('dcim.graphql.types')] | None  # noqa: F821
    inventory_tenant: Annotated['TenantType', strawberry.lazy('tenancy.graphql.types')] | None  # noqa: F821
    sync_runs: list[Annotated['SyncRunType', strawberry.lazy('netbox_hedgehog.graphql.types')]]

    @strawberry_django.field
    def kubernetes_token_set(self) -> bool:
        return bool(self.kubernetes_token)

    @strawberry_django.field
    def kubeconfig_set(self) -> bool:
        return bool(self.kubeconfig)


@register_type(models.SyncRun, fields='__all__', filters=SyncRunFilter, pagination=True)
class SyncRunType(BaseObjectType):
    fabric: HedgehogFabricType
