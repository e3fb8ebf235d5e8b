"""Marking syncs that a stopping scheduler had to cut off, while their threads still hold the fabric locks."""

import logging

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices
from netbox_hedgehog.models import HedgehogFabric, SyncRun
from netbox_hedgehog.run_record import SyncError
from netbox_hedgehog.sync.runner import INTERRUPTED_MESSAGE

__all__ = ('mark_cut_off',)

logger = logging.getLogger('scheduler_worker.recovery')


def mark_cut_off(fabric_ids):
    """
    Record the running syncs of these fabrics as interrupted, the same way recover_interrupted_syncs() records
    those of a dead process. That function skips fabrics whose lock is held, and here this very process still
    holds them; the threads die with the process right after.
    """
    for fabric_id in fabric_ids:
        now = timezone.now()
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # A sync thread may be inside its own transaction on these rows; do not wait on it forever.
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                for run in SyncRun.objects.filter(fabric_id=fabric_id, outcome=SyncOutcomeChoices.RUNNING):
                    run.outcome = SyncOutcomeChoices.INTERRUPTED
                    run.finished = now
                    run.duration = (now - run.started).total_seconds()
                    run.add_errors(SyncError(INTERRUPTED_MESSAGE))
                    run.save()
                HedgehogFabric.objects.filter(pk=fabric_id, sync_status=SyncStatusChoices.SYNCING).update(
                    sync_status=SyncStatusChoices.ERROR, sync_error=INTERRUPTED_MESSAGE
                )
        except DatabaseError as exc:
            # The next leader's start-up recovery marks it once this process (and its lock) is gone.
            logger.warning('Could not mark the sync of fabric %s as interrupted: %s', fabric_id, exc)
            continue
        logger.warning('Sync of fabric %s cut off by shutdown; marked interrupted', fabric_id)
