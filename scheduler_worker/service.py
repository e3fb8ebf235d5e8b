"""
The scheduler process: contend for leadership, and while leading keep the job store in step and run the jobs.

Leading goes: bind the run registry to the leader lock -> start APScheduler paused -> recover syncs a dead process
left "syncing" -> reconcile every fabric against the job store -> bring forward slots a former leader took but never
started -> apply pending notices -> resume. Then, until stopped or until the leader lock is lost, one loop applies
notices (woken by NOTIFY, polling as the fallback), reconciles periodically and beats. Stopping lets running syncs
finish within the grace period and hands every "sync now" that never started back to the notice table.
"""

import logging
import signal
import threading
import time
from datetime import UTC

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from django.db import DatabaseError, close_old_connections

from netbox_hedgehog import __version__
from netbox_hedgehog.choices import SchedulerRoleChoices
from netbox_hedgehog.scheduling.job_ids import parse_job_id
from netbox_hedgehog.sync import mark_interrupted, recover_interrupted_syncs

from .connections import create_job_store_engine, refresh_django_connection
from .executors import SyncExecutor
from .heartbeat import Heartbeat
from .jobs import requeue_sync_now, runs
from .leader import LeaderLock
from .notices import NoticeListener, apply_pending_notices, prune_processed_notices
from .reconcile import JobReconciler
from .store import JOB_STORE, FabricJobStore, shut_down

__all__ = ('SchedulerService',)

logger = logging.getLogger('scheduler_worker.service')

# A standby asks for the lock this often, so it takes over within seconds of the leader dying.
STANDBY_RETRY_SECONDS = 1
# The leader verifies its lock connection at least this often.
LEADER_CHECK_SECONDS = 1


class SchedulerService:
    def __init__(self, settings):
        self.settings = settings
        self.executor = SyncExecutor(settings.executor, settings.thread_pool_size)
        self.stopping = threading.Event()
        self.leader = LeaderLock()
        self.heartbeat = Heartbeat()
        self.engine = None
        self.store = None
        self.next_beat = 0
        self.unrestorable = set()
        self.unrestorable_guard = threading.Lock()

    def run(self):
        """Run until SIGTERM or SIGINT; return the fabric ids whose syncs had to be cut off."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.request_stop)
        logger.info(
            'Scheduler starting on %s (pid %s, version %s, %s)',
            self.heartbeat.hostname, self.heartbeat.pid, __version__, self.executor.describe(),
        )
        self.engine = create_job_store_engine(self.settings.thread_pool_size)
        cut_off = set()
        standby_logged = False
        try:
            while not self.stopping.is_set():
                if self.leader.try_acquire():
                    standby_logged = False
                    cut_off |= self.lead()
                    continue
                if not standby_logged and self.leader.connect_error is None:
                    logger.info('Standby: another scheduler holds the leadership; waiting to take over')
                    standby_logged = True
                self.beat_when_due(SchedulerRoleChoices.STANDBY)
                self.stopping.wait(STANDBY_RETRY_SECONDS)
        finally:
            self.finish()
        return cut_off

    def request_stop(self, signum, frame):
        self.stopping.set()

    def lead(self):
        logger.info('Leadership acquired: this scheduler now runs the fabric syncs')
        scheduler = self.build_scheduler()
        reconciler = JobReconciler(scheduler, self.store)
        listener = NoticeListener(self.stopping) if self.settings.listen else None
        runs.bind(self.leader, self.stopping)
        try:
            refresh_django_connection()
            scheduler.start(paused=True)
            self.heartbeat.beat(SchedulerRoleChoices.LEADER, self.store.count_jobs())
            self.next_beat = time.monotonic() + self.settings.heartbeat_interval
            self.heartbeat.retire_others()
            recovered = recover_interrupted_syncs()
            if recovered:
                logger.warning('Marked %d sync run(s) left running by a stopped scheduler as interrupted', recovered)
            reconciler.reconcile_all()
            reconciler.run_missed_slots()
            self.hand_on_undelivered()
            apply_pending_notices(reconciler)
            scheduler.resume()
            logger.info('Scheduling resumed')
            self.keep_in_step(reconciler, listener)
        except Exception as exc:
            logger.exception('Scheduling failed: %s; giving up leadership and starting over', exc)
            self.stopping.wait(STANDBY_RETRY_SECONDS)
        finally:
            if scheduler.running:
                scheduler.pause()
            cut_off = self.drain() if self.stopping.is_set() else set()
            if scheduler.running:
                # Running syncs are not waited for here: drain() did that, or leadership is gone and they are on
                # their own (the per-fabric sync lock keeps a new leader from overlapping them).
                shut_down(scheduler)
            if self.stopping.is_set():
                self.hand_on_unclaimed_requests()
            if listener is not None:
                listener.close()
            runs.unbind()
            self.leader.release()
            close_old_connections()
        return cut_off

    def build_scheduler(self):
        self.store = FabricJobStore(self.engine, self.on_unrestorable)
        scheduler = self.executor.scheduler_class(
            jobstores={JOB_STORE: self.store},
            executors={'default': self.executor.apscheduler_executor()},
            job_defaults={
                'coalesce': True,
                'max_instances': 1,
                # Every fabric job sets its own grace of one interval (reconcile.misfire_grace_time); this is
                # only the fallback, far above APScheduler's 1 s that would skip runs on any busy moment.
                'misfire_grace_time': 300,
            },
            timezone=UTC,
        )
        scheduler.add_listener(self.on_job_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        return scheduler

    def keep_in_step(self, reconciler, listener):
        now = time.monotonic()
        next_poll = now + self.settings.poll_interval
        next_reconcile = now + self.settings.reconcile_interval
        while not self.stopping.is_set():
            if not self.leader.confirm():
                reconciler.scheduler.pause()
                logger.error('Leadership lost: scheduling stopped')
                return
            timeout = min(next_poll, next_reconcile, self.next_beat) - time.monotonic()
            timeout = min(max(timeout, 0), LEADER_CHECK_SECONDS)
            if listener is not None:
                notified = listener.wait(timeout)
            else:
                self.stopping.wait(timeout)
                notified = False
            now = time.monotonic()
            if notified or now >= next_poll:
                self.hand_on_undelivered()
                self.attempt('apply notices', apply_pending_notices, reconciler)
                next_poll = now + self.settings.poll_interval
            if self.take_unrestorable() or now >= next_reconcile:
                self.attempt('reconcile', reconciler.reconcile_all)
                self.attempt('prune notices', prune_processed_notices)
                next_reconcile = now + self.settings.reconcile_interval
            self.beat_when_due(SchedulerRoleChoices.LEADER)
        logger.info('Stop requested: no new runs start from now on')

    def drain(self):
        """Let running syncs finish within the grace period; mark the rest interrupted."""
        running = runs.running_fabrics()
        if running:
            logger.info(
                'Waiting up to %s s for %d running sync(s) to finish: fabrics %s',
                self.settings.shutdown_grace_period, len(running), ', '.join(map(str, sorted(running))),
            )
        deadline = time.monotonic() + self.settings.shutdown_grace_period
        while (remaining := deadline - time.monotonic()) > 0:
            if not runs.wait_until_idle(min(remaining, self.settings.heartbeat_interval)):
                return set()
            self.beat_when_due(SchedulerRoleChoices.LEADER)
        cut_off = runs.wait_until_idle(0)
        for fabric_id in cut_off:
            self.mark_cut_off(fabric_id)
        return cut_off

    def hand_on_unclaimed_requests(self):
        """Every "sync now" accepted but not started goes back to the notice table, for whoever leads next."""
        for fabric_id in sorted(runs.take_unclaimed_requests()):
            self.attempt('hand on a sync now', requeue_sync_now, fabric_id)
        self.hand_on_undelivered()

    def hand_on_undelivered(self):
        """Write the "sync now" requests held while the database was unreachable (requeue_sync_now) as notices."""
        for fabric_id in sorted(runs.take_undelivered()):
            self.attempt('hand on a sync now', requeue_sync_now, fabric_id)

    def mark_cut_off(self, fabric_id):
        """
        Record a sync this process has to cut off as interrupted. recover_interrupted_syncs() would skip it, as this
        very process still holds its fabric's lock; the sync thread dies with the process right after.
        """
        try:
            mark_interrupted(fabric_id, lock_timeout='2s')
        except DatabaseError as exc:
            # The next leader's start-up recovery marks it once this process (and its lock) is gone.
            logger.warning('Could not mark the sync of fabric %s as interrupted: %s', fabric_id, exc)
            return
        logger.warning('Sync of fabric %s cut off by shutdown; marked interrupted', fabric_id)

    def attempt(self, what, step, *args):
        """Run one step of the loop like a request: fresh connections, and a failure is logged, not fatal."""
        try:
            refresh_django_connection()
            step(*args)
        except DatabaseError as exc:
            logger.warning('Could not %s (retrying): %s', what, exc)
        except Exception:
            logger.exception('Could not %s', what)
        finally:
            close_old_connections()

    def beat_when_due(self, role):
        if time.monotonic() < self.next_beat:
            return
        job_count = 0
        if role == SchedulerRoleChoices.LEADER:
            try:
                job_count = self.store.count_jobs()
            except Exception as exc:
                logger.warning('Could not count the jobs for the heartbeat: %s', exc)
        self.heartbeat.beat(role, job_count)
        self.next_beat = time.monotonic() + self.settings.heartbeat_interval
        if role == SchedulerRoleChoices.LEADER:
            self.attempt('watch the runs handed over', self.executor.watch)

    def on_unrestorable(self, job_ids):
        with self.unrestorable_guard:
            self.unrestorable.update(job_ids)

    def take_unrestorable(self):
        with self.unrestorable_guard:
            job_ids, self.unrestorable = self.unrestorable, set()
        return job_ids

    def on_job_event(self, event):
        fabric_id = parse_job_id(event.job_id)[1]
        if event.code == EVENT_JOB_MISSED:
            logger.warning('Run of fabric %s missed: due at %s, too late to start', fabric_id, event.scheduled_run_time)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            logger.warning('Run of fabric %s skipped: its previous run is still going', fabric_id)
        else:
            logger.error('Job %s raised %r', event.job_id, event.exception)

    def finish(self):
        for fabric_id in sorted(runs.take_undelivered()):
            logger.error('Sync now of fabric %s lost: the notice table could not be written before stopping', fabric_id)
        self.heartbeat.beat(SchedulerRoleChoices.STOPPED)
        self.leader.release()
        if self.engine is not None:
            self.engine.dispose()
        logger.info('Scheduler stopped')
