"""Sync now, as the UI and the REST API offer it: validate, queue through the notice table, say what happens next."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import SchedulerNotice
from .scheduler_status import scheduler_outage
from .scheduling.notices import request_sync_now

__all__ = ('CannotSync', 'QueuedSync', 'queue_sync')


class CannotSync(Exception):
    """The request cannot lead to a run; the message says why in the user's terms."""


@dataclass(frozen=True)
class QueuedSync:
    notice: SchedulerNotice
    scheduler_running: bool
    message: str


def queue_sync(fabric, user):
    if not fabric.has_connection:
        # The scheduler drops such a request; refusing it here tells the user instead of queueing in vain.
        raise CannotSync(
            _('Fabric {fabric} has no Kubernetes connection (server or kubeconfig), so there is nothing to sync.')
            .format(fabric=fabric)
        )
    notice = request_sync_now(fabric, user)
    running = scheduler_outage() is None
    if running:
        message = _('Sync of {fabric} queued; the scheduler will start it within a few seconds.')
    else:
        message = _(
            'Sync of {fabric} queued, but no scheduler is running: it will not run until '
            '`netbox hedgehog_scheduler` is started.'
        )
    return QueuedSync(notice=notice, scheduler_running=running, message=message.format(fabric=fabric))
