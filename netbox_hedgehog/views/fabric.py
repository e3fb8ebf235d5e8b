from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from netbox.models.deletion import CountOnly
from netbox.views import generic
from netbox.views.generic.base import BaseObjectView
from utilities.views import GetReturnURLMixin, register_model_view

from .. import filtersets, forms, tables
from ..inventory.counts import inventory_counts, last_inventory_conflicts
from ..models import HedgehogFabric, SyncRun
from ..models.deletion import fabric_contents
from ..permissions import may_act_on_fabric
from ..scheduler_status import next_run
from ..sync_requests import CannotSync, queue_sync
from .mirror import fabric_kind_counts

__all__ = (
    'FabricActionView',
    'HedgehogFabricBulkDeleteView',
    'HedgehogFabricBulkEditView',
    'HedgehogFabricDeleteView',
    'HedgehogFabricEditView',
    'HedgehogFabricImportView',
    'HedgehogFabricListView',
    'HedgehogFabricLiveView',
    'HedgehogFabricSyncView',
    'HedgehogFabricView',
)

RECENT_RUNS = 10


def live_context(request, fabric):
    """What the fabric page refreshes while it is open: sync state, next run, recent runs and object counts."""
    runs = SyncRun.objects.restrict(request.user, 'view').filter(fabric=fabric).select_related('fabric')
    runs_table = tables.SyncRunTable(runs[:RECENT_RUNS], orderable=False, exclude=('fabric',))
    runs_table.configure(request)
    return {
        'next_run': next_run(fabric),
        'runs_table': runs_table,
        'run_count': runs.count(),
        'kind_counts': fabric_kind_counts(request.user, fabric),
    }


@register_model_view(HedgehogFabric, 'list', path='', detail=False)
class HedgehogFabricListView(generic.ObjectListView):
    queryset = HedgehogFabric.objects.all()
    filterset = filtersets.HedgehogFabricFilterSet
    filterset_form = forms.HedgehogFabricFilterForm
    table = tables.HedgehogFabricTable
    template_name = 'netbox_hedgehog/object_list.html'


@register_model_view(HedgehogFabric)
class HedgehogFabricView(generic.ObjectView):
    queryset = HedgehogFabric.objects.all()

    def get_extra_context(self, request, instance):
        return {
            'may_act': may_act_on_fabric(request.user, instance),
            'inventory_counts': inventory_counts(instance, request.user),
            'inventory_conflicts': last_inventory_conflicts(instance, request.user),
            **live_context(request, instance),
        }


@register_model_view(HedgehogFabric, 'live')
class HedgehogFabricLiveView(generic.ObjectView):
    """The live part of the fabric page alone, for HTMX to poll."""

    queryset = HedgehogFabric.objects.all()
    template_name = 'netbox_hedgehog/inc/fabric_live.html'

    def get_extra_context(self, request, instance):
        return live_context(request, instance)


class FabricActionView(GetReturnURLMixin, BaseObjectView):
    """
    A POST action on one fabric (Sync now, Test connection) that needs the sync or change permission on it.
    Subclasses implement act(request, fabric); a GET just leads back to the fabric's page.
    """

    queryset = HedgehogFabric.objects.all()

    def has_permission(self):
        # Model level first, as NetBox does: a user without any sync or change permission gets 403 outright.
        return may_act_on_fabric(self.request.user)

    def get(self, request, pk):
        return redirect(get_object_or_404(self.queryset.restrict(request.user, 'view'), pk=pk).get_absolute_url())

    def post(self, request, pk):
        # As in the REST API: a fabric the user may not view does not exist for them, whatever else they may do.
        fabric = get_object_or_404(self.queryset.restrict(request.user, 'view'), pk=pk)
        if not may_act_on_fabric(request.user, fabric):
            return self.handle_no_permission()
        return self.act(request, fabric)

    def act(self, request, fabric):
        raise NotImplementedError


@register_model_view(HedgehogFabric, 'sync')
class HedgehogFabricSyncView(FabricActionView):
    """Sync now: queue one immediate run through the scheduler's notice table and return at once."""

    def act(self, request, fabric):
        try:
            queued = queue_sync(fabric, request.user)
        except CannotSync as exc:
            messages.error(request, str(exc))
        else:
            (messages.success if queued.scheduler_running else messages.warning)(request, queued.message)
        return redirect(self.get_return_url(request, fabric))


@register_model_view(HedgehogFabric, 'add', detail=False)
@register_model_view(HedgehogFabric, 'edit')
class HedgehogFabricEditView(generic.ObjectEditView):
    queryset = HedgehogFabric.objects.all()
    form = forms.HedgehogFabricForm


@register_model_view(HedgehogFabric, 'delete')
class HedgehogFabricDeleteView(generic.ObjectDeleteView):
    queryset = HedgehogFabric.objects.all()

    def _get_dependent_objects(self, obj):
        # What the confirmation page lists: counted per model, as NetBox does for jobs, rather than every mirrored
        # object and run record loaded by Django's collector (a fabric can hold tens of thousands).
        return {model: CountOnly(count) for model, count in fabric_contents(obj).items()}


@register_model_view(HedgehogFabric, 'bulk_import', path='import', detail=False)
class HedgehogFabricImportView(generic.BulkImportView):
    queryset = HedgehogFabric.objects.all()
    model_form = forms.HedgehogFabricImportForm


@register_model_view(HedgehogFabric, 'bulk_edit', path='edit', detail=False)
class HedgehogFabricBulkEditView(generic.BulkEditView):
    queryset = HedgehogFabric.objects.all()
    filterset = filtersets.HedgehogFabricFilterSet
    table = tables.HedgehogFabricTable
    form = forms.HedgehogFabricBulkEditForm


@register_model_view(HedgehogFabric, 'bulk_delete', path='delete', detail=False)
class HedgehogFabricBulkDeleteView(generic.BulkDeleteView):
    queryset = HedgehogFabric.objects.all()
    filterset = filtersets.HedgehogFabricFilterSet
    table = tables.HedgehogFabricTable
