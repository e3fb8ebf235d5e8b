"""
Applying the web side's notices (netbox_hedgehog.scheduling.notices) to the job store.

Rows are taken with FOR UPDATE SKIP LOCKED inside one transaction and marked processed only after they were
applied; a crash in between leaves them pending and the next leader applies them again, which is harmless
because applying re-reads the fabric. A NOTIFY on a dedicated LISTEN connection wakes the service at once;
the service also polls, so a lost connection or a missed NOTIFY delays a notice but never loses it.
"""

import logging
from datetime import timedelta

import psycopg
from django.db import transaction
from django.utils import timezone
from psycopg import sql

from netbox_hedgehog.choices import SchedulerNoticeActionChoices
from netbox_hedgehog.models import SchedulerNotice
from netbox_hedgehog.scheduling.notices import NOTIFY_CHANNEL

from .connections import connect
from .sync_now import queue_sync_now

__all__ = ('NoticeListener', 'apply_pending_notices', 'prune_processed_notices')

logger = logging.getLogger('scheduler_worker.notices')

BATCH_SIZE = 500

# Processed notices stay visible for a while (for troubleshooting), then go.
PROCESSED_NOTICE_RETENTION = timedelta(hours=1)


def apply_pending_notices(reconciler):
    """Apply every pending notice; return how many were applied."""
    applied = 0
    while True:
        with transaction.atomic():
            notices = list(
                SchedulerNotice.objects.select_for_update(skip_locked=True)
                .filter(processed__isnull=True)
                .order_by('pk')[:BATCH_SIZE]
            )
            apply_notices(reconciler, notices)
            SchedulerNotice.objects.filter(pk__in=[notice.pk for notice in notices]).update(processed=timezone.now())
        applied += len(notices)
        if len(notices) < BATCH_SIZE:
            return applied


def apply_notices(reconciler, notices):
    # Changes first, each fabric once however often it was edited, then the "sync now" requests in order.
    changed = dict.fromkeys(
        notice.fabric_id for notice in notices if notice.action != SchedulerNoticeActionChoices.SYNC_NOW
    )
    for fabric_id in changed:
        reconciler.reconcile_fabric(fabric_id)
    for notice in notices:
        if notice.action == SchedulerNoticeActionChoices.SYNC_NOW:
            queue_sync_now(reconciler.scheduler, notice.fabric_id)


def prune_processed_notices():
    return SchedulerNotice.objects.filter(processed__lt=timezone.now() - PROCESSED_NOTICE_RETENTION).delete()[0]


class NoticeListener:
    """LISTEN on a dedicated connection; reconnects by itself after the connection is lost."""

    def __init__(self, stopping):
        self.stopping = stopping
        self.connection = None
        self.failing = False

    def wait(self, timeout):
        """
        Block up to `timeout` seconds for a notification.

        Returns True when notices may be pending: a NOTIFY arrived, or the connection was just (re)established
        and NOTIFYs sent while it was down are gone.
        """
        if self.connection is None:
            return self.listen(timeout)
        try:
            for _ in self.connection.notifies(timeout=timeout, stop_after=1):
                return True
        except psycopg.Error as exc:
            logger.warning('LISTEN connection lost (%s); polling until it is back', exc)
            self.close()
            return True
        return False

    def listen(self, timeout):
        try:
            self.connection = connect('listener')
            self.connection.execute(sql.SQL('LISTEN {}').format(sql.Identifier(NOTIFY_CHANNEL)))
        except psycopg.Error as exc:
            if not self.failing:
                logger.warning('Cannot LISTEN for notices (%s); polling until it works', exc)
            self.failing = True
            self.close()
            # Keep the caller's pace: the failed attempt must not turn its loop into a busy one.
            self.stopping.wait(timeout)
            return False
        if self.failing:
            logger.info('LISTEN for notices restored')
        self.failing = False
        return True

    def close(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = None
