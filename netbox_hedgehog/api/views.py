from netbox.api.viewsets import NetBoxModelViewSet

from .. import filtersets
from ..models import HedgehogFabric
from .serializers import HedgehogFabricSerializer

__all__ = ('HedgehogFabricViewSet',)


class HedgehogFabricViewSet(NetBoxModelViewSet):
    queryset = HedgehogFabric.objects.all()
    serializer_class = HedgehogFabricSerializer
    filterset_class = filtersets.HedgehogFabricFilterSet
