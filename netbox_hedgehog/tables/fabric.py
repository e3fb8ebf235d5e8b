from functools import cached_property

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from netbox.tables import PrimaryModelTable, columns

from ..choices import SchedulerJobKindChoices
from ..formatting import humanize_seconds, shorten
from ..kinds.counts import mirrored_object_counts
from ..models import HedgehogFabric
from ..scheduling.job_store import list_jobs
from ..templatetags.hedgehog import relative_time

__all__ = ('HedgehogFabricTable',)


class RelativeTimeColumn(tables.Column):
    """'3 min ago' / 'in 2 min', with the absolute time on hover; exports the ISO timestamp."""

    def render(self, value):
        return relative_time(value)

    def value(self, value):
        return value.isoformat() if value else ''


class HedgehogFabricTable(PrimaryModelTable):
    name = tables.Column(verbose_name=_('Name'), linkify=True)
    kubernetes_server = tables.Column(verbose_name=_('Server'))
    sync_enabled = columns.BooleanColumn(verbose_name=_('Enabled'))
    sync_interval = tables.Column(verbose_name=_('Interval'))
    sync_status = columns.ChoiceFieldColumn(verbose_name=_('Status'))
    last_sync = RelativeTimeColumn(verbose_name=_('Last sync'))
    last_successful_sync = RelativeTimeColumn(verbose_name=_('Last success'))
    next_sync = RelativeTimeColumn(verbose_name=_('Next sync'), accessor='pk', orderable=False)
    sync_error = tables.Column(verbose_name=_('Error'))
    object_count = tables.Column(verbose_name=_('Objects'), accessor='pk', orderable=False)
    tags = columns.TagColumn(url_name='plugins:netbox_hedgehog:hedgehogfabric_list')

    class Meta(PrimaryModelTable.Meta):
        model = HedgehogFabric
        fields = (
            'pk', 'id', 'name', 'description', 'kubernetes_server', 'kubernetes_namespace', 'sync_enabled',
            'sync_interval', 'sync_status', 'last_sync', 'next_sync', 'last_successful_sync', 'sync_error',
            'object_count', 'comments', 'tags', 'created', 'last_updated',
        )
        default_columns = (
            'pk', 'name', 'kubernetes_server', 'sync_enabled', 'sync_interval', 'sync_status', 'last_sync',
            'next_sync', 'sync_error', 'object_count',
        )

    def configure(self, request):
        self.user = request.user
        super().configure(request)

    @cached_property
    def object_counts(self):
        """Mirrored objects per fabric that the user may view, across every kind, in one query."""
        user = getattr(self, 'user', None)
        return mirrored_object_counts(user) if user is not None else {}

    def render_object_count(self, value):
        return self.object_counts.get(value, 0)

    def value_object_count(self, value):
        return self.object_counts.get(value, 0)

    @cached_property
    def next_sync_times(self):
        """Next run of each fabric's scheduled job, read once per table from the scheduler's job store."""
        return {
            job.fabric_id: job.next_run_time for job in list_jobs() if job.kind == SchedulerJobKindChoices.SCHEDULED
        }

    def render_next_sync(self, value):
        return relative_time(self.next_sync_times.get(value))

    def value_next_sync(self, value):
        moment = self.next_sync_times.get(value)
        return moment.isoformat() if moment else ''

    def render_sync_interval(self, value):
        return humanize_seconds(value)

    def render_sync_error(self, value):
        return shorten(value)
