"""
What runs when a job fires: one sync of one fabric.

Jobs in the store reference the two module-level functions below by name with the fabric's primary key as the
only argument, so a stored job stays restorable for as long as these names exist. Every run goes through
`dispatch_sync`, the one place that hands the work to the sync engine in this process. Under
`sync_executor = "rq"` these functions do not run here: executors.RQHandOverExecutor hands the same due runs to
NetBox's RQ workers.
"""

import logging
import threading
import time
from contextlib import contextmanager

from django.db import DatabaseError, close_old_connections, transaction

from netbox_hedgehog.choices import SchedulerNoticeActionChoices, SyncTriggerChoices
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.scheduling.notices import notify_scheduler
from netbox_hedgehog.sync import SyncAlreadyRunning, SyncNotStarted, sync_fabric

from .connections import refresh_django_connection

__all__ = ('dispatch_sync', 'requeue_sync_now', 'run_requested_sync', 'run_scheduled_sync', 'runs')

logger = logging.getLogger('scheduler_worker.jobs')

# How often a "sync now" that found another process syncing the fabric tries again.
BUSY_RETRY_SECONDS = 1
# A run due while the leader lock connection is being replaced (a terminated backend, a database restart) waits
# this long for this process to lead again; the slot was already taken off the job store and would be lost.
LEADERSHIP_GRACE_SECONDS = 5


class RunRegistry:
    """
    The process-wide state every run consults: may runs start, which fabrics are syncing right now, and one
    turn-taking lock per fabric.

    Runs may start only while a leading service is bound: the service binds its leader lock and its stop event
    when it starts leading and unbinds them when it stops (stored jobs call the module-level functions below, so
    this state cannot travel with the job).

    The per-fabric lock makes a "sync now" and a scheduled run of the same fabric take turns: whichever comes
    second waits for the first to finish and then runs, so neither is lost, duplicated or overlapped. A "sync now"
    counts as pending from the moment it is queued until its run takes its turn; a request arriving meanwhile is
    covered by that run and merged into it. A request still pending when the scheduler stops is handed back to the
    notice table (requeue_sync_now), so the next leader runs it: its notice was acknowledged when it was queued.
    A request that cannot be handed back because the database is unreachable is held here as undelivered until
    the service can write it (SchedulerService.hand_on_undelivered).
    """

    def __init__(self):
        # Set when the process stops; replaced by the service's own event on binding.
        self.stopping = threading.Event()
        self._leader = None
        self._turns = {}
        self._turns_guard = threading.Lock()
        self._pending_requests = set()
        self._undelivered = set()
        self._running = {}
        self._changed = threading.Condition()

    def bind(self, leader, stopping):
        """From now on runs start while `leader.confirm()` holds, and give up waiting once `stopping` is set."""
        self.stopping = stopping
        self._leader = leader

    def unbind(self):
        """Leadership ended: no run starts until a service binds again."""
        self._leader = None

    def may_start(self):
        leader = self._leader
        return leader is not None and leader.confirm()

    def turn(self, fabric_id):
        with self._turns_guard:
            return self._turns.setdefault(fabric_id, threading.Lock())

    def wait_for_leadership(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.may_start():
            if self.stopping.wait(min(1, max(deadline - time.monotonic(), 0))) or time.monotonic() >= deadline:
                return False
        return True

    def add_pending_request(self, fabric_id):
        with self._turns_guard:
            self._pending_requests.add(fabric_id)

    def has_pending_request(self, fabric_id):
        with self._turns_guard:
            return fabric_id in self._pending_requests

    def drop_pending_request(self, fabric_id):
        with self._turns_guard:
            self._pending_requests.discard(fabric_id)

    def claim_request(self, fabric_id):
        """
        The run of a "sync now" takes its turn: from here on a new request needs a run of its own. Refused once
        the scheduler is stopping, atomically with take_unclaimed_requests(), so that every request is either run
        here or handed on, never both and never neither.
        """
        with self._turns_guard:
            if self.stopping.is_set():
                return False
            self._pending_requests.discard(fabric_id)
            return True

    def take_unclaimed_requests(self):
        """The fabrics whose "sync now" was queued but never started; called once the scheduler is stopping."""
        with self._turns_guard:
            pending, self._pending_requests = self._pending_requests, set()
            return pending

    def keep_undelivered(self, fabric_id):
        with self._turns_guard:
            self._undelivered.add(fabric_id)

    def take_undelivered(self):
        """The fabrics whose "sync now" could not be handed back to the notice table yet."""
        with self._turns_guard:
            undelivered, self._undelivered = self._undelivered, set()
            return undelivered

    @contextmanager
    def running(self, fabric_id, trigger):
        with self._changed:
            self._running[fabric_id] = trigger
        try:
            yield
        finally:
            with self._changed:
                del self._running[fabric_id]
                self._changed.notify_all()

    def running_fabrics(self):
        with self._changed:
            return dict(self._running)

    def wait_until_idle(self, timeout):
        """Wait up to `timeout` seconds for running syncs to finish; return the fabric ids still running."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._running and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            return set(self._running)


runs = RunRegistry()


def run_scheduled_sync(fabric_id):
    run_sync(fabric_id, SyncTriggerChoices.SCHEDULED)


def run_requested_sync(fabric_id):
    run_sync(fabric_id, SyncTriggerChoices.MANUAL)


def run_sync(fabric_id, trigger):
    turn = runs.turn(fabric_id)
    while not turn.acquire(timeout=1):
        if runs.stopping.is_set():
            logger.info('Run of fabric %s (%s) dropped: the scheduler is stopping', fabric_id, trigger)
            return
    try:
        if trigger == SyncTriggerChoices.MANUAL and not runs.claim_request(fabric_id):
            # Still pending: the stopping service hands it on (SchedulerService.hand_on_unclaimed_requests).
            logger.info('Run of fabric %s (%s) not started: the scheduler is stopping', fabric_id, trigger)
            return
        if runs.stopping.is_set():
            # A scheduled slot missed this way runs when a scheduler leads again (JobReconciler.run_missed_slots).
            logger.info('Run of fabric %s (%s) dropped: the scheduler is stopping', fabric_id, trigger)
            return
        # Checked at the last moment: a run must not start once this process is no longer the leader.
        if not runs.wait_for_leadership(LEADERSHIP_GRACE_SECONDS):
            logger.warning('Run of fabric %s (%s) not started: this scheduler is not leading', fabric_id, trigger)
            if trigger == SyncTriggerChoices.MANUAL:
                requeue_sync_now(fabric_id)
            return
        with runs.running(fabric_id, trigger):
            refresh_django_connection()
            try:
                run_when_free(fabric_id, trigger)
            finally:
                close_old_connections()
    finally:
        turn.release()


def run_when_free(fabric_id, trigger):
    started = time.monotonic()
    logger.info('Run of fabric %s started (%s)', fabric_id, trigger)
    while True:
        try:
            run = dispatch_sync(fabric_id, trigger)
        except HedgehogFabric.DoesNotExist:
            logger.info('Run of fabric %s skipped: the fabric no longer exists', fabric_id)
            return
        except SyncAlreadyRunning:
            # Another process (a former leader, `netbox hedgehog_sync`) is syncing this fabric. That sync covers a
            # scheduled slot; an explicit request still deserves its own run once the other one is done.
            if trigger != SyncTriggerChoices.MANUAL:
                logger.warning('Run of fabric %s (%s) skipped: another process is syncing it', fabric_id, trigger)
                return
            if runs.stopping.wait(BUSY_RETRY_SECONDS):
                logger.info('Run of fabric %s (%s) not started: the scheduler is stopping', fabric_id, trigger)
                requeue_sync_now(fabric_id)
                return
            close_old_connections()
            continue
        except SyncNotStarted as exc:
            logger.warning('Run of fabric %s (%s) not started: %s', fabric_id, trigger, exc)
            # A scheduled run's next slot comes anyway; an explicit request would be lost, so it goes back.
            if trigger == SyncTriggerChoices.MANUAL:
                requeue_sync_now(fabric_id)
            return
        except Exception:
            logger.exception('Run of fabric %s (%s) failed', fabric_id, trigger)
            return
        logger.info(
            'Run of fabric %s finished: %s in %.2f s (run %s, %s)',
            fabric_id, run.outcome, time.monotonic() - started, run.pk, trigger,
        )
        return


def requeue_sync_now(fabric_id):
    """
    Hand a "sync now" this process accepted but will not run back to the notice table, for the next leader.

    Its notice was marked processed when the request was queued here. If the request's job is still in the job
    store, the next leader merges the two into one run. While the database cannot be written, the request is kept
    in this process as undelivered and written once it can.
    """
    try:
        refresh_django_connection()
        with transaction.atomic():
            notify_scheduler(fabric_id, SchedulerNoticeActionChoices.SYNC_NOW)
    except DatabaseError as exc:
        logger.warning('Sync now of fabric %s kept until the notice table can be written: %s', fabric_id, exc)
        runs.keep_undelivered(fabric_id)
        return False
    logger.info('Sync now of fabric %s handed back to the notice table for the next leader', fabric_id)
    return True


def dispatch_sync(fabric_id, trigger):
    """The seam between the clock and the work under the thread executor: the sync runs in this thread."""
    return sync_fabric(fabric_id, trigger)
