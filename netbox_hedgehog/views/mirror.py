"""
Read-only list and detail pages of every mirrored kind, built from the kind registry (kinds/). The fabric is
the source of these objects, so the pages offer no add, edit, import or delete.
"""

from django.apps import apps
from django.db.models import Count, Value
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from netbox.object_actions import BulkExport
from netbox.registry import registry
from netbox.views import generic
from utilities.views import ViewTab, register_model_view

from .. import filtersets, forms, tables
from ..kinds import KINDS, MENU_ORDER
from ..kinds.display import as_yaml, field_html, field_label
from ..models import MirrorChange, SyncRun

__all__ = ('MirroredObjectListView', 'MirroredObjectSyncHistoryView', 'MirroredObjectView', 'fabric_kind_counts')

# Related objects listed on a detail page before it points to the full list.
RELATED_LIMIT = 25


def list_url(model_name, **params):
    url = reverse(f'plugins:netbox_hedgehog:{model_name.lower()}_list')
    return f'{url}?{urlencode(params)}' if params else url


def fabric_kind_counts(user, fabric):
    """
    Objects of each kind the user may view in the fabric, each with the link to that kind's list of them.
    One query for all kinds (a UNION ALL of per-kind counts): the fabric page refreshes this every few seconds.
    """
    kinds = [kind for kind in MENU_ORDER if user.has_perm(f'netbox_hedgehog.view_{kind.url_name}')]
    per_kind = [
        kind.model.objects.restrict(user, 'view').filter(fabric=fabric).order_by()
        .annotate(kind_index=Value(index)).values('kind_index').annotate(count=Count('pk'))
        for index, kind in enumerate(kinds)
    ]
    counted = {}
    if per_kind:
        counted = {row['kind_index']: row['count'] for row in per_kind[0].union(*per_kind[1:], all=True).order_by()}
    return [
        {
            'label': capfirst(kind.model._meta.verbose_name_plural),
            'count': counted.get(index, 0),
            'url': list_url(kind.model_name, fabric_id=fabric.pk),
        }
        for index, kind in enumerate(kinds)
    ]


def related_objects(user, instance, related):
    """One related panel: the objects the user may view, the first RELATED_LIMIT of them, and the link to all."""
    model = apps.get_model('netbox_hedgehog', related.model_name)
    queryset = model.objects.none()
    for accessor in related.accessors:
        queryset = queryset | getattr(instance, accessor).all()
    queryset = queryset.restrict(user, 'view').distinct().order_by('name')
    count = queryset.count()
    return {
        'title': related.title,
        'objects': [
            (obj, getattr(obj, related.note) if related.note else '') for obj in queryset[:RELATED_LIMIT]
        ],
        'count': count,
        'url': list_url(related.model_name, **{related.filter: instance.pk}) if related.filter else '',
    }


class MirroredObjectListView(generic.ObjectListView):
    template_name = 'netbox_hedgehog/object_list.html'
    actions = (BulkExport,)


class MirroredObjectView(generic.ObjectView):
    template_name = 'netbox_hedgehog/mirroredobject.html'
    actions = ()
    kind = None

    def get_extra_context(self, request, instance):
        return {
            'kind': self.kind,
            'list_url': list_url(self.kind.model_name),
            'attributes': [
                (field_label(field), field_html(instance, field))
                for field in self.kind.shown_fields
            ],
            'related': [
                related_objects(request.user, instance, related) for related in self.kind.related
                if request.user.has_perm(f'netbox_hedgehog.view_{related.model_name.lower()}')
            ],
            'spec_yaml': as_yaml(instance.spec),
            'status_yaml': as_yaml(instance.status),
        }


def sync_history(user, kind, instance):
    """The changes to a mirrored object (matched by uid) made by the runs the user may view, newest first."""
    return MirrorChange.objects.filter(
        fabric=instance.fabric_id,
        kind=kind.kind,
        uid=instance.uid,
        run__in=SyncRun.objects.restrict(user, 'view'),
    ).select_related('run')


class MirroredObjectSyncHistoryView(generic.ObjectChildrenView):
    """
    The Sync history tab, in place of NetBox's Changelog tab: the sync writes mirrored objects in bulk, so the change
    log never sees them, and the runs are what changed them.
    """

    child_model = MirrorChange
    table = tables.MirrorChangeTable
    actions = ()
    tab = ViewTab(label=_('Sync history'), permission='netbox_hedgehog.view_syncrun', weight=10000)
    # Besides view on the object: the tab lists runs.
    additional_permissions = ['netbox_hedgehog.view_syncrun']
    kind = None

    def get_children(self, request, parent):
        return sync_history(request.user, self.kind, parent)

    def get_extra_context(self, request, instance):
        # The page around the tab: the mirrored object's own header and breadcrumbs.
        return {'base_template': MirroredObjectView.template_name, 'list_url': list_url(self.kind.model_name)}


def replace_changelog_tab(model, history_view):
    """Register the Sync history tab of a mirrored model, and drop the Changelog tab NetBox gives every model."""
    views = registry['views'][model._meta.app_label][model._meta.model_name]
    views[:] = [view for view in views if view['name'] != 'changelog']
    register_model_view(model, 'sync_history', path='sync-history')(history_view)


def register_views(kind):
    list_view = type(f'{kind.model_name}ListView', (MirroredObjectListView,), {
        '__module__': __name__,
        'queryset': kind.queryset(),
        'filterset': getattr(filtersets, f'{kind.model_name}FilterSet'),
        'filterset_form': getattr(forms, f'{kind.model_name}FilterForm'),
        'table': getattr(tables, f'{kind.model_name}Table'),
    })
    detail_view = type(f'{kind.model_name}View', (MirroredObjectView,), {
        '__module__': __name__,
        'queryset': kind.queryset(),
        'kind': kind,
    })
    history_view = type(f'{kind.model_name}SyncHistoryView', (MirroredObjectSyncHistoryView,), {
        '__module__': __name__,
        'queryset': kind.queryset(),
        'kind': kind,
    })
    register_model_view(kind.model, 'list', path='', detail=False)(list_view)
    register_model_view(kind.model)(detail_view)
    replace_changelog_tab(kind.model, history_view)
    return list_view, detail_view, history_view


for _kind in KINDS:
    for _view in register_views(_kind):
        globals()[_view.__name__] = _view
