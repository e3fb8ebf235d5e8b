"""
The one read model of the scheduler's job store: which jobs wait, for which fabric, and when they fire next.

Only the `id` and `next_run_time` columns are read, with plain SQL: the pickled job state is the scheduler's
business, so no process but the scheduler loads APScheduler or unpickles a row. A scheduled job's interval is the
fabric's (the scheduler keeps the two in step). Nothing here writes.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

from ..choices import SchedulerJobKindChoices
from ..models import HedgehogFabric, SyncRun
from .job_ids import parse_job_id

__all__ = ('JOB_TABLE', 'FabricWithoutJob', 'JobInfo', 'fabrics_without_job', 'job_store_exists', 'list_jobs')

# APScheduler's SQLAlchemy job store, created by the scheduler in NetBox's database.
JOB_TABLE = 'hedgehog_scheduler_jobs'


@dataclass
class JobInfo:
    job_id: str
    kind: str | None  # a SchedulerJobKindChoices value; None for a row that belongs to no fabric
    fabric_id: int | None
    fabric_name: str | None  # None when the fabric is gone and the scheduler has not caught up yet
    interval: int | None  # seconds; None for a one-off "sync now"
    next_run_time: datetime | None  # None while the job is paused
    last_run_started: datetime | None = None
    last_run_outcome: str | None = None
    last_run_duration: float | None = None

    @property
    def seconds_until_next_run(self):
        if self.next_run_time is None:
            return None
        return (self.next_run_time - timezone.now()).total_seconds()

    def get_kind_display(self):
        return dict(SchedulerJobKindChoices)[self.kind] if self.kind else ''


@dataclass
class FabricWithoutJob:
    fabric_id: int
    fabric_name: str
    reason: str


def job_store_exists():
    with connection.cursor() as cursor:
        cursor.execute('SELECT to_regclass(%s) IS NOT NULL', [JOB_TABLE])
        return cursor.fetchone()[0]


def list_jobs():
    """Every job in the store, soonest first, with its fabric, the fabric's interval and its latest run."""
    if not job_store_exists():
        return []
    with connection.cursor() as cursor:
        # The table name is a module constant, not input.
        cursor.execute(f'SELECT id, next_run_time FROM {JOB_TABLE} ORDER BY next_run_time, id')
        jobs = [job_info(*row) for row in cursor.fetchall()]
    fabric_ids = {job.fabric_id for job in jobs if job.fabric_id is not None}
    fabrics = {
        pk: (name, interval)
        for pk, name, interval in HedgehogFabric.objects.filter(pk__in=fabric_ids).values_list(
            'pk', 'name', 'sync_interval'
        )
    }
    latest = {
        run.fabric_id: run
        for run in SyncRun.objects.filter(fabric_id__in=fabric_ids).order_by('fabric_id', '-started').distinct(
            'fabric_id'
        )
    }
    for job in jobs:
        if job.fabric_id in fabrics:
            job.fabric_name, interval = fabrics[job.fabric_id]
            if job.kind == SchedulerJobKindChoices.SCHEDULED:
                job.interval = interval
        if run := latest.get(job.fabric_id):
            job.last_run_started, job.last_run_outcome, job.last_run_duration = run.started, run.outcome, run.duration
    return jobs


def job_info(job_id, next_run_timestamp):
    kind, fabric_id = parse_job_id(job_id)
    return JobInfo(
        job_id=job_id,
        kind=kind,
        fabric_id=fabric_id,
        fabric_name=None,
        interval=None,
        next_run_time=None if next_run_timestamp is None else datetime.fromtimestamp(next_run_timestamp, UTC),
    )


def fabrics_without_job(jobs, state):
    """Every fabric that has no scheduled job, and why; `state` is the scheduler's (state.scheduler_state())."""
    scheduled = {job.fabric_id for job in jobs if job.kind == SchedulerJobKindChoices.SCHEDULED}
    result = []
    for fabric in HedgehogFabric.objects.exclude(pk__in=scheduled).order_by('name'):
        if not fabric.sync_enabled:
            reason = 'sync disabled'
        elif not fabric.has_connection:
            reason = 'no connection configured'
        elif not state.ever_ran:
            reason = 'scheduler never ran'
        elif state.leader is None:
            reason = 'no scheduler is leading'
        else:
            reason = 'not yet applied by the scheduler'
        result.append(FabricWithoutJob(fabric.pk, fabric.name, reason))
    return result
