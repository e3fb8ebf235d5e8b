from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from extras.dashboard.utils import register_widget
from extras.dashboard.widgets import DashboardWidget

from .choices import SyncStatusChoices
from .models import HedgehogFabric
from .scheduler_status import scheduler_outage

__all__ = ('FabricSyncWidget',)


@register_widget
class FabricSyncWidget(DashboardWidget):
    """Each fabric's sync state at a glance, fabrics in trouble first, and whether the scheduler runs."""

    default_title = _('Hedgehog fabrics')
    description = _('Show the sync state of every Hedgehog fabric and whether the scheduler is running.')
    template_name = 'netbox_hedgehog/widgets/fabric_sync.html'
    width = 4
    height = 3

    def render(self, request):
        if not request.user.has_perm('netbox_hedgehog.view_hedgehogfabric'):
            return render_to_string(self.template_name, {'permitted': False})
        fabrics = list(HedgehogFabric.objects.restrict(request.user, 'view'))
        # Errors first, then never-synced and syncing fabrics, then the healthy ones: what needs a look leads.
        order = [SyncStatusChoices.ERROR, SyncStatusChoices.NEVER_SYNCED, SyncStatusChoices.SYNCING,
                 SyncStatusChoices.IN_SYNC]
        fabrics.sort(key=lambda fabric: (order.index(fabric.sync_status), fabric.name))
        return render_to_string(self.template_name, {
            'permitted': True,
            'fabrics': fabrics,
            'outage': scheduler_outage(),
        })
