import strawberry_django
from netbox.graphql.types import PrimaryObjectType, register_type

from netbox_hedgehog import models

from .filters import HedgehogFabricFilter

__all__ = ('HedgehogFabricType',)


@register_type(
    models.HedgehogFabric,
    # The token and the kubeconfig are write-only secrets and are never exposed.
    exclude=['kubernetes_token', 'kubeconfig'],
    filters=HedgehogFabricFilter,
    pagination=True,
)
class HedgehogFabricType(PrimaryObjectType):
    @strawberry_django.field
    def kubernetes_token_set(self) -> bool:
        return bool(self.kubernetes_token)

    @strawberry_django.field
    def kubeconfig_set(self) -> bool:
        return bool(self.kubeconfig)
