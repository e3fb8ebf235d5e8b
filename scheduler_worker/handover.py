"""
The leader's clock under `sync_executor = "rq"`: each wake-up hands all the runs due by then to the RQ queue at once.

APScheduler 3 (BaseScheduler._process_jobs) takes the due jobs one at a time: for each, its executor's submit_job()
and then one UPDATE of the job's row. A hand-over costs Redis round trips of its own, so with 10,000 fabrics at a
60 s interval (167 slots a second) a leader working one job at a time falls behind its slots. HandOverScheduler
runs the same pass with the same meaning (the due jobs, coalesced run times, misfire grace, events, one-off jobs
removed once fired) but hands the whole pass over with RQHandOverExecutor.hand_over_due(), a few Redis round trips
in all, and writes the next run times of every job it took in one statement.

It also wakes up at most every BATCH_WINDOW_SECONDS: slots falling due meanwhile wait for the next pass, which so
carries many runs for the cost of one. Under `sync_executor = "thread"` the service keeps APScheduler's own
BackgroundScheduler, whose executor runs each job in a thread.
"""

import logging
import time
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_REMOVED, EVENT_JOB_SUBMITTED, JobEvent, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, TIMEOUT_MAX

__all__ = ('BATCH_LIMIT', 'BATCH_WINDOW_SECONDS', 'HandOverScheduler')

logger = logging.getLogger('scheduler_worker.handover')

# The shortest time between two passes: what a slot may wait for the pass that carries it, beyond the pass itself.
BATCH_WINDOW_SECONDS = 0.1
# The most jobs one pass takes (the most overdue first); the next pass follows at once with the rest. It bounds how
# long a pass holds the job stores' lock (which notices and reconciles wait for) after a long outage.
BATCH_LIMIT = 1000


class HandOverScheduler(BackgroundScheduler):
    """A BackgroundScheduler whose executors are RQHandOverExecutors, handing over every wake-up's due runs at once."""

    def _process_jobs(self):
        if self.state == STATE_PAUSED:
            return None
        woke = time.monotonic()
        now = datetime.now(self.timezone)
        next_wakeup = None
        events = []
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    store_wakeup = self.hand_over_due_jobs(alias, store, now, events)
                except Exception as exc:
                    # As APScheduler does when it cannot read the due jobs. Runs handed over before the failure
                    # are still due in the store: the next pass finds their slots taken and queues nothing twice.
                    logger.warning(
                        'Could not hand over the due runs of job store %r (retrying in %s s): %s',
                        alias, self.jobstore_retry_interval, exc,
                    )
                    store_wakeup = now + timedelta(seconds=self.jobstore_retry_interval)
                if store_wakeup is not None and (next_wakeup is None or store_wakeup < next_wakeup):
                    next_wakeup = store_wakeup.astimezone(self.timezone)
        for event in events:
            self._dispatch_event(event)
        if self.state == STATE_PAUSED or next_wakeup is None:
            # Paused, or no job at all: wait until resumed or until a job is added.
            return None
        until_due = next_wakeup.timestamp() - time.time()
        until_window_ends = woke + BATCH_WINDOW_SECONDS - time.monotonic()
        return min(max(until_due, until_window_ends, 0), TIMEOUT_MAX)

    def hand_over_due_jobs(self, alias, store, now, events):
        """One pass over one job store: hand over its due runs, advance its jobs; return its next run time."""
        due = {}
        for job in store.due_jobs(now, BATCH_LIMIT):
            try:
                executor = self._lookup_executor(job.executor)
            except KeyError:
                logger.error('Job %s names the executor %r, which this scheduler lacks; removing it', job.id,
                             job.executor)
                self.remove_job(job.id, alias)
                continue
            run_times = job._get_run_times(now)
            # Several slots missed at once are one run, the latest, for a job that coalesces (every fabric job).
            run_times = run_times[-1:] if run_times and job.coalesce else run_times
            if run_times:
                due.setdefault(executor, []).append((job, run_times))
        taken = [item for batch in due.values() for item in batch]
        for executor, batch in due.items():
            events += executor.hand_over_due(batch)
        events += [JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times) for job, run_times in taken]

        advanced, fired = [], []
        for job, run_times in taken:
            next_run_time = job.trigger.get_next_fire_time(run_times[-1], now)
            if next_run_time:
                job._modify(next_run_time=next_run_time)
                advanced.append(job)
            else:
                # A one-off job ("sync now") has fired.
                fired.append(job.id)
        store.update_jobs(advanced)
        store.remove_jobs(fired)
        events += [JobEvent(EVENT_JOB_REMOVED, job_id, alias) for job_id in fired]
        return store.get_next_run_time()
