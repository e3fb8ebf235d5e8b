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

from netbox_hedgehog.choices import SchedulerJobKindChoices, SyncTriggerChoices
from netbox_hedgehog.scheduling.job_ids import parse_job_id
from netbox_hedgehog.sync import recover_interrupted_syncs
from netbox_hedgehog.sync.queued import QUEUE_NAME, HandOver, hand_over

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
    An APScheduler executor that queues each due run on the plugin's RQ queue instead of running it.

    Handing over takes a few milliseconds in the scheduler's own thread, so no instances are ever outstanding;
    overlapping runs of a fabric are prevented by coalescing in the queue and by the fabric's sync lock.
    """

    def submit_job(self, job, run_times):
        for event in self._do_submit_job(job, run_times):
            self._scheduler._dispatch_event(event)

    def _do_submit_job(self, job, run_times):
        # Several missed slots at once are one run: the latest.
        slot = run_times[-1]
        if job.misfire_grace_time is not None:
            lateness = datetime.now(UTC) - slot
            if lateness > timedelta(seconds=job.misfire_grace_time):
                return [JobExecutionEvent(EVENT_JOB_MISSED, job.id, None, slot)]
        kind, fabric_id = parse_job_id(job.id)
        if kind is None:
            logger.warning('Job %s belongs to no fabric; not handed over', job.id)
            return []
        trigger = TRIGGERS[kind]
        try:
            outcome, rq_job_id = hand_over(fabric_id, trigger, slot, job.misfire_grace_time)
        except Exception as exc:
            logger.error('Could not hand the run of fabric %s due %s to the RQ queue: %s', fabric_id, slot, exc)
            if trigger == SyncTriggerChoices.MANUAL:
                # The job leaves the store with this event; the request goes back to the notice table to be retried.
                runs.drop_pending_request(fabric_id)
                requeue_sync_now(fabric_id)
            return [JobExecutionEvent(EVENT_JOB_ERROR, job.id, None, slot, exception=exc)]
        if trigger == SyncTriggerChoices.MANUAL:
            # The request is in the queue now (or covered by the run waiting there); a new one gets its own run.
            runs.drop_pending_request(fabric_id)
        if outcome == HandOver.QUEUED:
            logger.info('Run of fabric %s due %s handed to the RQ queue as %s', fabric_id, slot, rq_job_id)
        elif outcome == HandOver.COALESCED:
            logger.info('Run of fabric %s due %s merged into its run still waiting in the queue (%s)',
                        fabric_id, slot, rq_job_id)
        else:
            logger.info('Run of fabric %s due %s was already handed over (%s)', fabric_id, slot, rq_job_id)
        return [JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, None, slot)]
