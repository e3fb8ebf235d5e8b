from django.utils.translation import gettext_lazy as _
from utilities.choices import ChoiceSet


class SyncStatusChoices(ChoiceSet):
    """The one vocabulary for a fabric's sync state."""

    NEVER_SYNCED = 'never_synced'
    SYNCING = 'syncing'
    IN_SYNC = 'in_sync'
    ERROR = 'error'

    CHOICES = [
        (NEVER_SYNCED, _('Never synced'), 'gray'),
        (SYNCING, _('Syncing'), 'blue'),
        (IN_SYNC, _('In sync'), 'green'),
        (ERROR, _('Error'), 'red'),
    ]


class SyncTriggerChoices(ChoiceSet):
    SCHEDULED = 'scheduled'
    MANUAL = 'manual'

    CHOICES = [
        (SCHEDULED, _('Scheduled'), 'blue'),
        (MANUAL, _('Manual'), 'purple'),
    ]


class SyncOutcomeChoices(ChoiceSet):
    RUNNING = 'running'
    SUCCESS = 'success'
    PARTIAL = 'partial'
    FAILED = 'failed'
    INTERRUPTED = 'interrupted'

    CHOICES = [
        (RUNNING, _('Running'), 'blue'),
        (SUCCESS, _('Success'), 'green'),
        (PARTIAL, _('Partial'), 'orange'),
        (FAILED, _('Failed'), 'red'),
        (INTERRUPTED, _('Interrupted'), 'red'),
    ]


class MirrorChangeActionChoices(ChoiceSet):
    """What a sync run did to a mirrored object."""

    CREATED = 'created'
    UPDATED = 'updated'
    DELETED = 'deleted'

    CHOICES = [
        (CREATED, _('Created'), 'green'),
        (UPDATED, _('Updated'), 'blue'),
        (DELETED, _('Deleted'), 'red'),
    ]


class SchedulerNoticeActionChoices(ChoiceSet):
    """What a notice asks the scheduler to do: re-read the fabric, or run it now."""

    FABRIC_CHANGED = 'fabric_changed'
    FABRIC_DELETED = 'fabric_deleted'
    SYNC_NOW = 'sync_now'

    CHOICES = [
        (FABRIC_CHANGED, _('Fabric changed')),
        (FABRIC_DELETED, _('Fabric deleted')),
        (SYNC_NOW, _('Sync now')),
    ]


class SchedulerRoleChoices(ChoiceSet):
    LEADER = 'leader'
    STANDBY = 'standby'
    STOPPED = 'stopped'

    CHOICES = [
        (LEADER, _('Leader'), 'green'),
        (STANDBY, _('Standby'), 'blue'),
        (STOPPED, _('Stopped'), 'gray'),
    ]


class InventoryOrphanChoices(ChoiceSet):
    """What the inventory sync does with an object it owns once the fabric no longer has it."""

    DELETE = 'delete'
    MARK = 'mark'

    CHOICES = [
        (DELETE, _('Delete'), 'red'),
        (MARK, _('Mark (keep, offline or deprecated, tagged hedgehog-orphan)'), 'orange'),
    ]
