"""
Queueing a "sync now": one immediate run of a fabric, as a one-off job in the persistent job store.

The web side asks through a notice (netbox_hedgehog.scheduling.notices.request_sync_now); applying that notice
queues the run here. jobs.RunRegistry decides how it takes turns with the fabric's scheduled runs.
"""

import logging
from datetime import UTC

from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.triggers.date import DateTrigger
from django.utils import timezone

from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.scheduling.job_ids import sync_now_job_id

from .jobs import run_requested_sync, runs
from .reconcile import SCHEDULE_FIELDS, unschedulable_reason

__all__ = ('queue_sync_now',)

logger = logging.getLogger('scheduler_worker.sync_now')


def queue_sync_now(scheduler, fabric_id):
    """
    Queue one immediate "sync now" as a one-off job in the persistent store.

    A request still pending (queued, not yet started) already covers a new one, so it is merged. A request
    made while the fabric is syncing gets its own run after that sync (see jobs.RunRegistry).
    """
    fabric = HedgehogFabric.objects.only(*SCHEDULE_FIELDS).filter(pk=fabric_id).first()
    if fabric is None or not fabric.has_connection:
        logger.info('Sync now of fabric %s ignored: %s', fabric_id, unschedulable_reason(fabric))
        return False
    job_id = sync_now_job_id(fabric_id)
    if runs.has_pending_request(fabric_id) or scheduler.get_job(job_id) is not None:
        logger.info('Sync now of fabric %s merged into the request already queued', fabric.name)
        return False
    now = timezone.now()
    runs.add_pending_request(fabric_id)
    try:
        scheduler.add_job(
            run_requested_sync,
            trigger=DateTrigger(run_date=now, timezone=UTC),
            args=(fabric_id,),
            id=job_id,
            name=f'Sync fabric {fabric.name} now',
            next_run_time=now,
            # However late it gets to run (a restart in between), an explicit request is honoured once.
            misfire_grace_time=None,
            # One may run while the next one waits for its turn; see RunRegistry.
            max_instances=2,
        )
    except ConflictingIdError:
        logger.info('Sync now of fabric %s merged into the request already queued', fabric.name)
        return False
    except Exception:
        # Not queued after all; the notice stays pending and is applied again.
        runs.drop_pending_request(fabric_id)
        raise
    logger.info('Added job %s: sync fabric %s now', job_id, fabric.name)
    return True
