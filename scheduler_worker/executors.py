"""
Where the leader's due runs go: the `sync_executor` setting.

- "thread": APScheduler's thread pool in this process runs each sync (jobs.run_scheduled_sync and friends).
- "rq": the leader is the clock only. Each due run is handed to the plugin's RQ queue (netbox_hedgehog.sync.queued)
  and NetBox's RQ workers, on any number of hosts, run it. The leader also watches for runs whose worker died.

Both executors fire the same stored jobs, so switching takes a scheduler restart and nothing else.
"""

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from netbox_hedgehog.choices import SchedulerJobKindChoices, SyncTriggerChoices
from netbox_hedgehog.scheduling.job_ids import parse_job_id
from netbox_hedgehog.sync import recover_interrupted_syncs
from netbox_hedgehog.sync.queued import QUEUE_NAME, DueRun, HandOver, hand_over_all

from .handover import HandOverScheduler
from .jobs import requeue_sync_now, runs

__all__ = ('RQHandOverExecutor', 'SyncExecutor')

logger = logging.getLogger('scheduler_worker.executors')

# The values of the sync_executor setting (netbox_hedgehog.settings validates it at start).
THREAD = 'thread'
RQ = 'rq'

TRIGGERS = {
    SchedulerJobKindChoices.SCHEDULED: SyncTriggerChoices.SCHEDULED,
    SchedulerJobKindChoices.SYNC_NOW: SyncTriggerChoices.MANUAL,
}


class SyncExecutor:
    """The configured executor as the scheduler service uses it."""

    def __init__(self, name, thread_pool_size):
        self.name = name
        self.thread_pool_size = thread_pool_size

    @property
    def runs_here(self):
        return self.name == THREAD

    def describe(self):
        if self.runs_here:
            return f'{self.thread_pool_size} sync threads'
        return f'syncs handed to RQ workers on queue {QUEUE_NAME}'

    def apscheduler_executor(self):
        if self.runs_here:
            return ThreadPoolExecutor(max_workers=self.thread_pool_size)
        return RQHandOverExecutor()

    @property
    def scheduler_class(self):
        """APScheduler's own under "thread"; under "rq" the one that hands each wake-up's due runs over at once."""
        return BackgroundScheduler if self.runs_here else HandOverScheduler

    def watch(self):
        """
        Called by the leader on every heartbeat. A worker that died mid-sync (SIGKILL, a lost host) took its
        session and with it the fabric's lock, but left the run "running" and the fabric "syncing"; mark them
        interrupted so the fabric is not shown stuck and its next slot runs normally.
        """
        if self.runs_here:
            return
        marked = recover_interrupted_syncs()
        if marked:
            logger.warning('Marked %d sync run(s) whose worker is gone as interrupted', marked)


class RQHandOverExecutor(BaseExecutor):
    """
    An APScheduler executor that queues due runs on the plugin's RQ queue instead of running them.

    HandOverScheduler gives it all the runs due at a wake-up at once (hand_over_due); submit_job(), APScheduler's
    way, is the same for one job. Handing over takes milliseconds in the scheduler's own thread, so no instances are
    ever outstanding; overlapping runs of a fabric are prevented by coalescing in the queue and by the fabric's sync
    lock.
    """

    def submit_job(self, job, run_times):
        for event in self._do_submit_job(job, run_times):
            self._scheduler._dispatch_event(event)

    def _do_submit_job(self, job, run_times):
        return self.hand_over_due([(job, run_times)])

    def hand_over_due(self, due):
        """
        Hand the runs of `due`, [(job, run times)] in the order they fell due, to the RQ queue as one batch; return
        the events to dispatch: each job executed (handed over), missed (later than its grace) or failed.
        """
        events = []
        handing = []
        now = datetime.now(UTC)
        for job, run_times in due:
            # Several missed slots at once are one run: the latest.
            slot = run_times[-1]
            if job.misfire_grace_time is not None and now - slot > timedelta(seconds=job.misfire_grace_time):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, None, slot))
                continue
            kind, fabric_id = parse_job_id(job.id)
            if kind is None:
                logger.warning('Job %s belongs to no fabric; not handed over', job.id)
                continue
            handing.append((job, DueRun(fabric_id, TRIGGERS[kind], slot, job.misfire_grace_time)))
        try:
            outcomes = hand_over_all([run for _, run in handing])
        except Exception as exc:
            logger.error('Could not hand %d due run(s) to the RQ queue (fabrics %s): %s', len(handing),
                         ', '.join(str(run.fabric_id) for _, run in handing), exc)
            for job, run in handing:
                if run.trigger == SyncTriggerChoices.MANUAL:
                    # The job leaves the store with this event; the request goes back to the notice table to be
                    # retried.
                    runs.drop_pending_request(run.fabric_id)
                    requeue_sync_now(run.fabric_id)
                events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, None, run.slot, exception=exc))
            return events
        for (job, run), (outcome, rq_job_id) in zip(handing, outcomes, strict=True):
            if run.trigger == SyncTriggerChoices.MANUAL:
                # The request is in the queue now (or covered by the run waiting there); a new one gets its own run.
                runs.drop_pending_request(run.fabric_id)
            log_hand_over(run, outcome, rq_job_id)
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, None, run.slot))
        return events


def log_hand_over(run, outcome, rq_job_id):
    if outcome == HandOver.QUEUED:
        logger.info('Run of fabric %s due %s handed to the RQ queue as %s', run.fabric_id, run.slot, rq_job_id)
    elif outcome == HandOver.COALESCED:
        logger.info('Run of fabric %s due %s merged into its run still waiting in the queue (%s)',
                    run.fabric_id, run.slot, rq_job_id)
    else:
        logger.info('Run of fabric %s due %s was already handed over (%s)', run.fabric_id, run.slot, rq_job_id)
