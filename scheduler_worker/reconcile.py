"""
Deriving the job store from the fabric rows, which are the truth.

`JobReconciler.reconcile_fabric()` brings one fabric's job in line with its row (used for each notice);
`JobReconciler.reconcile_all()` does it for every fabric and removes orphans (used at start and periodically).
Both are idempotent: reconciling the same fabric twice changes nothing the second time.

A full reconcile must stay cheap with thousands of fabrics: it reads the fabrics as plain rows, not model instances,
reads the job store directly, without holding the scheduler's lock (which would stall due runs meanwhile), and adds
every missing job in one statement.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.interval import IntervalTrigger
from django.utils import timezone

from netbox_hedgehog.choices import SchedulerJobKindChoices
from netbox_hedgehog.formatting import moment_with_distance
from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.scheduling.job_ids import parse_job_id, scheduled_job_id, sync_now_job_id

from .jobs import run_scheduled_sync

__all__ = (
    'SCHEDULE_FIELDS',
    'FabricSchedule',
    'JobReconciler',
    'first_run_time',
    'misfire_grace_time',
    'scheduled_job',
    'unschedulable_reason',
)

logger = logging.getLogger('scheduler_worker.reconcile')

# The fabric columns the schedule depends on; a full reconcile reads only these.
SCHEDULE_FIELDS = ('pk', 'name', 'sync_enabled', 'sync_interval', 'kubernetes_server', 'kubeconfig', 'last_sync')


@dataclass(frozen=True, slots=True)
class FabricSchedule:
    """A fabric's SCHEDULE_FIELDS as a plain row: 10,000 of them load in a fraction of the model instances' time."""

    pk: int
    name: str
    sync_enabled: bool
    sync_interval: int
    kubernetes_server: str
    kubeconfig: str
    last_sync: datetime | None

    # The model's own rules, so that a row and its fabric never disagree on them.
    has_connection = HedgehogFabric.has_connection
    is_schedulable = HedgehogFabric.is_schedulable

    @classmethod
    def read(cls, fabrics):
        return [cls(*values) for values in fabrics.values_list(*SCHEDULE_FIELDS)]


def first_run_time(fabric, now):
    """Never synced: now. Otherwise one interval after the latest attempt started, or now if that has passed."""
    if fabric.last_sync is None:
        return now
    return max(fabric.last_sync + timedelta(seconds=fabric.sync_interval), now)


def misfire_grace_time(interval):
    """
    A run may start up to one interval late (a busy thread pool, a slow restart) and still counts.

    Any later and the next slot is due anyway; coalescing then runs the fabric once rather than twice.
    """
    return interval


def job_interval(job):
    return int(job.trigger.interval.total_seconds())


def scheduled_job(fabric, now):
    """
    Everything a fabric's scheduled job is made of, as keyword arguments of scheduler.add_job() and of Job().

    coalesce, max_instances and executor are the values every scheduler of this project has always given these
    jobs (the service's job defaults, and APScheduler's); they are spelled out because a Job built for the bulk
    path gets no defaults from a scheduler.
    """
    next_run = first_run_time(fabric, now)
    return {
        'func': run_scheduled_sync,
        'trigger': IntervalTrigger(seconds=fabric.sync_interval, start_date=next_run, timezone=UTC),
        'executor': 'default',
        'args': (fabric.pk,),
        'kwargs': {},
        'id': scheduled_job_id(fabric.pk),
        'name': f'Sync fabric {fabric.name}',
        'misfire_grace_time': misfire_grace_time(fabric.sync_interval),
        'coalesce': True,
        'max_instances': 1,
        'next_run_time': next_run,
    }


def unschedulable_reason(fabric):
    if fabric is None:
        return 'fabric deleted'
    if not fabric.sync_enabled:
        return 'sync disabled'
    return 'no connection configured'


class JobReconciler:
    """Adds, changes and removes the scheduled jobs of a scheduler so that they match the fabric rows."""

    def __init__(self, scheduler, store):
        self.scheduler = scheduler
        # The scheduler's one job store (scheduler.add_jobstore(store, JOB_STORE)), read and filled in bulk.
        self.store = store

    def reconcile_fabric(self, fabric_id):
        """Re-read one fabric and add, change or remove its job to match."""
        fabric = next(iter(FabricSchedule.read(HedgehogFabric.objects.filter(pk=fabric_id))), None)
        job = self.scheduler.get_job(scheduled_job_id(fabric_id))
        if fabric is None:
            self.remove(sync_now_job_id(fabric_id), 'fabric deleted')
        return self.fit(fabric_id, fabric, job)

    def fit(self, fabric_id, fabric, job):
        """Return what was done: 'added', 'changed', 'removed' or None."""
        if fabric is None or not fabric.is_schedulable:
            if job is not None and self.remove(job.id, unschedulable_reason(fabric)):
                return 'removed'
            return None
        if job is None:
            return self.add(fabric)
        return self.update(fabric, job)

    def add(self, fabric):
        return self.add_all([fabric])[0]

    def add_all(self, fabrics):
        """Add the jobs of many fabrics in one statement; return what was done to each, as fit() does."""
        now = timezone.now()
        jobs = {fabric.pk: Job(self.scheduler, **scheduled_job(fabric, now)) for fabric in fabrics}
        present = self.store.add_jobs(list(jobs.values()))
        # The scheduler computed its next wake-up without these jobs.
        self.scheduler.wakeup()
        actions = []
        for fabric in fabrics:
            job = jobs[fabric.pk]
            if job.id in present:
                # Added meanwhile (a notice and a reconcile racing); fit the existing job instead.
                actions.append(self.update(fabric, self.scheduler.get_job(job.id)))
                continue
            logger.info(
                'Added job %s for fabric %s: every %d s, first run %s',
                job.id, fabric.name, fabric.sync_interval, moment_with_distance(job.next_run_time, now),
            )
            actions.append('added')
        return actions

    def update(self, fabric, job):
        if job_interval(job) != fabric.sync_interval:
            # An interval edit restarts the phase from the latest attempt, not from the edit.
            now = timezone.now()
            next_run = first_run_time(fabric, now)
            self.scheduler.modify_job(
                job.id,
                trigger=IntervalTrigger(seconds=fabric.sync_interval, start_date=next_run, timezone=UTC),
                next_run_time=next_run,
                misfire_grace_time=misfire_grace_time(fabric.sync_interval),
                name=f'Sync fabric {fabric.name}',
            )
            logger.info(
                'Changed job %s for fabric %s: every %d s (was %d s), next run %s',
                job.id, fabric.name, fabric.sync_interval, job_interval(job), moment_with_distance(next_run, now),
            )
            return 'changed'
        if job.name != f'Sync fabric {fabric.name}':
            # A rename keeps the schedule; only the label in logs and listings follows.
            self.scheduler.modify_job(job.id, name=f'Sync fabric {fabric.name}')
            logger.info('Changed job %s: fabric renamed to %s', job.id, fabric.name)
            return 'changed'
        return None

    def remove(self, job_id, reason):
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            return False
        logger.info('Removed job %s (%s)', job_id, reason)
        return True

    def reconcile_all(self):
        """Make the job store match every fabric row: add missing jobs, remove orphans, fix intervals."""
        fabrics = {fabric.pk: fabric for fabric in FabricSchedule.read(HedgehogFabric.objects.all())}
        scheduled = {}
        counts = {'added': 0, 'changed': 0, 'removed': 0}
        for job in self.store.get_all_jobs():
            kind, fabric_id = parse_job_id(job.id)
            if kind == SchedulerJobKindChoices.SCHEDULED:
                scheduled[fabric_id] = job
            elif kind == SchedulerJobKindChoices.SYNC_NOW:
                if fabric_id not in fabrics and self.remove(job.id, 'fabric deleted'):
                    counts['removed'] += 1
            elif self.remove(job.id, 'not a fabric job'):
                logger.warning('Job %s in the job store belongs to no fabric; removed it', job.id)
                counts['removed'] += 1
        missing = []
        actions = []
        for fabric_id in scheduled.keys() | fabrics.keys():
            fabric, job = fabrics.get(fabric_id), scheduled.get(fabric_id)
            if job is None and fabric is not None and fabric.is_schedulable:
                missing.append(fabric)
            else:
                actions.append(self.fit(fabric_id, fabric, job))
        actions += self.add_all(missing)
        for action in filter(None, actions):
            counts[action] += 1
        kept = sum(1 for fabric in fabrics.values() if fabric.is_schedulable) - counts['added'] - counts['changed']
        logger.info(
            'Reconciled %d fabrics with the job store: %d added, %d changed, %d removed, %d unchanged',
            len(fabrics), counts['added'], counts['changed'], counts['removed'], kept,
        )
        return counts

    def run_missed_slots(self):
        """
        Run once, now, each scheduled job whose latest slot never started; return how many there were.

        A leader takes a slot off the job store (advancing the job to its next slot) just before the run starts.
        If it stops, dies or loses leadership in between, the store says "next slot" while the fabric never synced
        for the last one. A new leader, before it resumes, finds such jobs by the fabric's last_sync (stamped when a
        run starts): older than the slot before the job's next one. Missed slots collapse into one run, as
        APScheduler coalesces them; the schedule then continues one interval after it.
        """
        now = timezone.now()
        fabrics = {fabric.pk: fabric for fabric in FabricSchedule.read(HedgehogFabric.objects.all())}
        missed = 0
        for job in self.store.get_all_jobs():
            kind, fabric_id = parse_job_id(job.id)
            fabric = fabrics.get(fabric_id)
            if kind != SchedulerJobKindChoices.SCHEDULED or fabric is None or job.next_run_time is None:
                continue
            if job.next_run_time <= now:
                continue  # due anyway
            slot = job.next_run_time - job.trigger.interval
            if fabric.last_sync is not None and fabric.last_sync >= slot:
                continue
            self.scheduler.modify_job(job.id, next_run_time=now)
            logger.warning(
                'Run of fabric %s due %s never started (the scheduler stopped or leadership moved); running it now',
                fabric.name, moment_with_distance(slot, now),
            )
            missed += 1
        return missed
