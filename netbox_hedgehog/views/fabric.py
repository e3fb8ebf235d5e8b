from netbox.views import generic
from utilities.views import register_model_view

from .. import filtersets, forms, tables
from ..models import HedgehogFabric

__all__ = (
    'HedgehogFabricBulkDeleteView',
    'HedgehogFabricBulkEditView',
    'HedgehogFabricDeleteView',
    'HedgehogFabricEditView',
    'HedgehogFabricListView',
    'HedgehogFabricView',
)


@register_model_view(HedgehogFabric, 'list', path='', detail=False)
class HedgehogFabricListView(generic.ObjectListView):
    queryset = HedgehogFabric.objects.all()
    filterset = filtersets.HedgehogFabricFilterSet
    filterset_form = forms.HedgehogFabricFilterForm
    table = tables.HedgehogFabricTable


@register_model_view(HedgehogFabric)
class HedgehogFabricView(generic.ObjectView):
    queryset = HedgehogFabric.objects.all()


@register_model_view(HedgehogFabric, 'add', detail=False)
@register_model_view(HedgehogFabric, 'edit')
class HedgehogFabricEditView(generic.ObjectEditView):
    queryset = HedgehogFabric.objects.all()
    form = forms.HedgehogFabricForm


@register_model_view(HedgehogFabric, 'delete')
class HedgehogFabricDeleteView(generic.ObjectDeleteView):
    queryset = HedgehogFabric.objects.all()


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
