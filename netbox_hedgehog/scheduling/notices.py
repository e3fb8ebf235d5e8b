"""The web side's only channel to the scheduler: a notice row plus a NOTIFY, inside the caller's transaction."""

from django.db import connection, transaction

from ..choices import SchedulerNoticeActionChoices
from ..models import SchedulerNotice

__all__ = ('NOTIFY_CHANNEL', 'notify_scheduler', 'request_sync_now')

# PostgreSQL delivers a NOTIFY only when its transaction commits, so a rolled-back change wakes nobody.
NOTIFY_CHANNEL = 'netbox_hedgehog_scheduler'


def notify_scheduler(fabric_id, action, user=None):
    notice = SchedulerNotice.objects.create(
        fabric_id=fabric_id,
        action=action,
        requested_by=user if user is not None and user.is_authenticated else None,
    )
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_notify(%s, %s)', [NOTIFY_CHANNEL, str(notice.pk)])
    return notice


def request_sync_now(fabric, user=None):
    """Queue one immediate sync of a fabric; the scheduler runs it without overlapping a scheduled run."""
    with transaction.atomic():
        return notify_scheduler(fabric.pk, SchedulerNoticeActionChoices.SYNC_NOW, user)
