from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from netbox.api.authentication import IsAuthenticatedOrLoginNotRequired
from netbox.api.viewsets import NetBoxModelViewSet, NetBoxReadOnlyModelViewSet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import filtersets
from ..kinds import KINDS
from ..kube.connection import test_connection
from ..models import HedgehogFabric, SyncRun
from ..permissions import may_act_on_fabric
from ..scheduler_status import scheduler_status
from ..scheduling.job_store import list_jobs
from ..scheduling.state import scheduler_state
from ..sync_requests import CannotSync, queue_sync
from . import serializers
from .permissions import FabricActionPermission
from .serializers import (
    ConnectionReportSerializer,
    HedgehogFabricSerializer,
    SchedulerStatusSerializer,
    SyncRequestSerializer,
    SyncRunSerializer,
)

__all__ = ('MIRROR_VIEWSETS', 'HedgehogFabricViewSet', 'MirroredObjectViewSet', 'SchedulerStatusView', 'SyncRunViewSet')

# Detail actions that need the sync or change permission rather than the add permission a POST maps to.
FABRIC_ACTIONS = ('sync', 'test_connection')


class HedgehogFabricViewSet(NetBoxModelViewSet):
    queryset = HedgehogFabric.objects.all()
    serializer_class = HedgehogFabricSerializer
    filterset_class = filtersets.HedgehogFabricFilterSet

    def get_permissions(self):
        if self.action in FABRIC_ACTIONS:
            return [FabricActionPermission()]
        return super().get_permissions()

    def get_actionable_fabric(self, request, pk):
        # The queryset was restricted for "add" (what a POST usually means), so the fabric is looked up afresh.
        fabric = get_object_or_404(HedgehogFabric.objects.restrict(request.user, 'view'), pk=pk)
        if not may_act_on_fabric(request.user, fabric):
            raise PermissionDenied('You may not sync or test this fabric (needs the sync or change permission).')
        return fabric

    @extend_schema(request=None, responses={202: SyncRequestSerializer})
    @action(detail=True, methods=['post'])
    def sync(self, request, pk):
        """Queue one immediate sync through the scheduler and return at once."""
        fabric = self.get_actionable_fabric(request, pk)
        try:
            queued = queue_sync(fabric, request.user)
        except CannotSync as exc:
            raise ValidationError({'detail': str(exc)})
        serializer = SyncRequestSerializer(
            {'detail': queued.message, 'scheduler_running': queued.scheduler_running, 'fabric': fabric,
             'notice': queued.notice},
            context={'request': request},
        )
        return Response(serializer.data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: ConnectionReportSerializer})
    @action(detail=True, methods=['post'], url_path='test-connection')
    def test_connection(self, request, pk):
        """Reach the fabric's Kubernetes API: server version, installed Hedgehog kinds, list permission per kind."""
        fabric = self.get_actionable_fabric(request, pk)
        return Response(ConnectionReportSerializer(test_connection(fabric).as_dict()).data)


class SyncRunViewSet(NetBoxReadOnlyModelViewSet):
    queryset = SyncRun.objects.select_related('fabric')
    serializer_class = SyncRunSerializer
    filterset_class = filtersets.SyncRunFilterSet


class SchedulerStatusView(APIView):
    """Who schedules: the leader and the standbys with their heartbeat ages, and how many jobs the store holds."""

    permission_classes = [IsAuthenticatedOrLoginNotRequired]

    def get_view_name(self):
        return 'Scheduler'

    @extend_schema(responses={200: SchedulerStatusSerializer})
    def get(self, request):
        if not request.user.has_perm('netbox_hedgehog.view_schedulerheartbeat'):
            raise PermissionDenied('You may not view the scheduler status.')
        serializer = SchedulerStatusSerializer(scheduler_status(scheduler_state(), list_jobs()))
        return Response(serializer.data)


class MirroredObjectViewSet(NetBoxReadOnlyModelViewSet):
    """Mirrored objects are written only by the sync: list and retrieve, nothing else."""


def build_mirror_viewset(kind):
    return type(f'{kind.model_name}ViewSet', (MirroredObjectViewSet,), {
        '__module__': __name__,
        'queryset': kind.queryset(),
        'serializer_class': getattr(serializers, f'{kind.model_name}Serializer'),
        'filterset_class': getattr(filtersets, f'{kind.model_name}FilterSet'),
    })


MIRROR_VIEWSETS = {kind.slug: build_mirror_viewset(kind) for kind in KINDS}
