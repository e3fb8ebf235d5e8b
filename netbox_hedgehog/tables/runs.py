import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from netbox.tables import NetBoxTable, columns

from ..formatting import humanize_duration, shorten, summarize_changes
from ..models import MirrorChange, SyncRun
from ..run_record import SyncError, error_count

__all__ = ('MirrorChangeTable', 'SyncRunTable')


class SyncRunTable(NetBoxTable):
    id = tables.Column(verbose_name=_('Run'), linkify=True)
    fabric = tables.Column(verbose_name=_('Fabric'), linkify=True)
    trigger = columns.ChoiceFieldColumn(verbose_name=_('Trigger'))
    outcome = columns.ChoiceFieldColumn(verbose_name=_('Outcome'))
    started = columns.DateTimeColumn(verbose_name=_('Started'))
    finished = columns.DateTimeColumn(verbose_name=_('Finished'))
    duration = tables.Column(verbose_name=_('Duration'))
    # An empty counts mapping still means something: the run changed nothing.
    changes = tables.Column(verbose_name=_('Changes'), accessor='counts', orderable=False, empty_values=())
    not_installed = tables.Column(verbose_name=_('Not installed'), orderable=False, empty_values=(None, []))
    errors = tables.Column(verbose_name=_('Errors'), orderable=False, empty_values=(None, []))
    # Runs are records of what happened: nothing to edit, only to look at.
    actions = columns.ActionsColumn(actions=())

    class Meta(NetBoxTable.Meta):
        model = SyncRun
        fields = (
            'pk', 'id', 'fabric', 'trigger', 'outcome', 'started', 'finished', 'duration', 'changes',
            'not_installed', 'errors',
        )
        default_columns = ('id', 'fabric', 'trigger', 'outcome', 'started', 'duration', 'changes', 'errors')

    def render_duration(self, value):
        return humanize_duration(value)

    def render_changes(self, value):
        return summarize_changes(value)

    def render_not_installed(self, value):
        return ', '.join(value)

    def render_errors(self, value):
        text = shorten(str(SyncError.from_dict(value[0])))
        count = error_count(value)
        return text if count == 1 else _('{first} (and {more} more)').format(first=text, more=count - 1)

    def value_changes(self, value):
        return summarize_changes(value)


class MirrorChangeTable(NetBoxTable):
    """A mirrored object's sync history: each run that created, updated or deleted it."""

    run = tables.Column(verbose_name=_('Run'), linkify=True)
    started = columns.DateTimeColumn(verbose_name=_('Time'), accessor='run__started')
    action = columns.ChoiceFieldColumn(verbose_name=_('Action'))
    trigger = columns.ChoiceFieldColumn(
        verbose_name=_('Trigger'), accessor='run__trigger', color=lambda change: change.run.get_trigger_color()
    )
    outcome = columns.ChoiceFieldColumn(
        verbose_name=_('Outcome'), accessor='run__outcome', color=lambda change: change.run.get_outcome_color()
    )
    # The name the object had then: the history of a deleted object outlives its row.
    name = tables.Column(verbose_name=_('Name'))
    actions = columns.ActionsColumn(actions=())

    class Meta(NetBoxTable.Meta):
        model = MirrorChange
        fields = ('pk', 'run', 'started', 'action', 'trigger', 'outcome', 'name')
        default_columns = ('run', 'started', 'action', 'trigger', 'outcome')

    def render_run(self, value):
        return f'#{value.pk}'
