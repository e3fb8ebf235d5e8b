from netbox.object_actions import BulkExport
from netbox.views import generic
from utilities.views import register_model_view

from .. import filtersets, forms, tables
from ..formatting import change_totals
from ..models import SyncRun
from ..run_record import CHANGE_ACTIONS, INVENTORY_ACTIONS

__all__ = ('SyncRunListView', 'SyncRunView')


@register_model_view(SyncRun, 'list', path='', detail=False)
class SyncRunListView(generic.ObjectListView):
    queryset = SyncRun.objects.select_related('fabric')
    filterset = filtersets.SyncRunFilterSet
    filterset_form = forms.SyncRunFilterForm
    table = tables.SyncRunTable
    template_name = 'netbox_hedgehog/object_list.html'
    # Runs are written only by the sync engine.
    actions = (BulkExport,)


@register_model_view(SyncRun)
class SyncRunView(generic.ObjectView):
    queryset = SyncRun.objects.select_related('fabric')
    actions = ()

    def get_extra_context(self, request, instance):
        kinds = sorted(set(instance.counts) | set(instance.changes))
        return {
            'totals': change_totals(instance.counts),
            'inventory_actions': INVENTORY_ACTIONS,
            'kinds': [
                {
                    'kind': kind,
                    'counts': instance.counts.get(kind, {}),
                    'changes': [
                        (action, instance.changes.get(kind, {}).get(action, [])) for action in CHANGE_ACTIONS
                    ],
                }
                for kind in kinds
            ],
        }
