"""
Read-only views of the scheduler for people: the jobs in the store, the fabrics without one, and who is leading.

These read the job store table and the plugin's tables directly, so they work in any process (the web UI,
`netbox hedgehog_jobs`) whether or not a scheduler is running. Nothing here writes.
"""

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from netbox.plugins import get_plugin_config

from netbox_hedgehog.choices import SchedulerRoleChoices
from netbox_hedgehog.models import HedgehogFabric, SchedulerHeartbeat, SyncRun

from .jobs import REQUESTED_JOB_PREFIX, SCHEDULED_JOB_PREFIX, parse_job_id
from .leader import leader_backend_pid
from .store import JOB_TABLE

__all__ = ('FabricWithoutJob', 'JobInfo', 'SchedulerInstance', 'SchedulerState', 'fabrics_without_job', 'list_jobs',
           'scheduler_state')

JOB_KINDS = {SCHEDULED_JOB_PREFIX: 'scheduled', REQUESTED_JOB_PREFIX: 'sync now'}


@dataclass
class JobInfo:
    job_id: str
    kind: str  # 'scheduled', 'sync now' or 'unknown'
    fabric_id: int | None
    fabric_name: str | None  # None when the fabric is gone and the scheduler has not caught up yet
    interval: int | None  # seconds; None for a one-off "sync now" or a row that cannot be restored
    next_run_time: datetime | None
    restorable: bool
    last_run_started: datetime | None = None
    last_run_outcome: str | None = None
    last_run_duration: float | None = None

    @property
    def seconds_until_next_run(self):
        if self.next_run_time is None:
            return None
        return (self.next_run_time - timezone.now()).total_seconds()


@dataclass
class FabricWithoutJob:
    fabric_id: int
    fabric_name: str
    reason: str


@dataclass
class SchedulerInstance:
    hostname: str
    pid: int
    role: str
    started: datetime
    last_beat: datetime
    version: str
    job_count: int
    heartbeat_age: float  # seconds


@dataclass
class SchedulerState:
    leader: SchedulerInstance | None
    standbys: list = field(default_factory=list)
    # PostgreSQL backend holding the leader lock right now (None: nobody leads).
    lock_holder_pid: int | None = None
    ever_ran: bool = False
    healthy: bool = False
    problem: str = ''


def job_store_exists():
    with connection.cursor() as cursor:
        cursor.execute('SELECT to_regclass(%s) IS NOT NULL', [JOB_TABLE])
        return cursor.fetchone()[0]


def list_jobs():
    """Every job in the store, soonest first, with its fabric and the fabric's latest run."""
    if not job_store_exists():
        return []
    with connection.cursor() as cursor:
        # The table name is a module constant, not input.
        cursor.execute(f'SELECT id, next_run_time, job_state FROM {JOB_TABLE} ORDER BY next_run_time, id')
        rows = cursor.fetchall()
    jobs = [job_info(*row) for row in rows]
    fabric_ids = {job.fabric_id for job in jobs if job.fabric_id is not None}
    names = dict(HedgehogFabric.objects.filter(pk__in=fabric_ids).values_list('pk', 'name'))
    latest = {
        run.fabric_id: run
        for run in SyncRun.objects.filter(fabric_id__in=fabric_ids).order_by('fabric_id', '-started').distinct(
            'fabric_id'
        )
    }
    for job in jobs:
        job.fabric_name = names.get(job.fabric_id)
        if run := latest.get(job.fabric_id):
            job.last_run_started, job.last_run_outcome, job.last_run_duration = run.started, run.outcome, run.duration
    return jobs


def job_info(job_id, next_run_timestamp, job_state):
    prefix, fabric_id = parse_job_id(job_id)
    interval = None
    try:
        trigger = pickle.loads(job_state)['trigger']
        restorable = True
    except Exception:
        restorable = False
    else:
        if hasattr(trigger, 'interval'):
            interval = int(trigger.interval.total_seconds())
    next_run_time = None if next_run_timestamp is None else datetime.fromtimestamp(next_run_timestamp, UTC)
    return JobInfo(
        job_id=job_id,
        kind=JOB_KINDS.get(prefix, 'unknown'),
        fabric_id=fabric_id,
        fabric_name=None,
        interval=interval,
        next_run_time=next_run_time,
        restorable=restorable,
    )


def fabrics_without_job(jobs=None, state=None):
    """Every fabric that has no scheduled job, and why."""
    jobs = list_jobs() if jobs is None else jobs
    state = scheduler_state() if state is None else state
    scheduled = {job.fabric_id for job in jobs if job.kind == 'scheduled'}
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


def scheduler_state():
    """Who leads, who stands by, and whether the leader is healthy (fresh heartbeat and lock held)."""
    timeout = get_plugin_config('netbox_hedgehog', 'scheduler_heartbeat_timeout')
    now = timezone.now()
    with connection.cursor() as cursor:
        lock_holder_pid = leader_backend_pid(cursor)
    rows = list(SchedulerHeartbeat.objects.order_by('-last_beat'))
    fresh = [row for row in rows if row.last_beat >= now - timedelta(seconds=timeout)]
    leaders = [instance(row, now) for row in fresh if row.role == SchedulerRoleChoices.LEADER]
    state = SchedulerState(
        leader=leaders[0] if leaders else None,
        standbys=[instance(row, now) for row in fresh if row.role == SchedulerRoleChoices.STANDBY],
        lock_holder_pid=lock_holder_pid,
        ever_ran=bool(rows) or job_store_exists(),
    )
    if state.leader is None:
        latest_leader = next((row for row in rows if row.role == SchedulerRoleChoices.LEADER), None)
        if not rows:
            state.problem = 'no scheduler has ever reported a heartbeat'
        elif latest_leader is not None:
            state.problem = (
                f'the last leader ({latest_leader.hostname}:{latest_leader.pid}) has not beaten for '
                f'{(now - latest_leader.last_beat).total_seconds():.0f} s (limit {timeout} s)'
            )
        else:
            state.problem = f'no scheduler has reported itself as leader within {timeout} s'
    elif lock_holder_pid is None:
        state.problem = (
            f'{state.leader.hostname}:{state.leader.pid} reports itself leader but nobody holds the leader lock'
        )
    else:
        state.healthy = True
    return state


def instance(row, now):
    return SchedulerInstance(
        hostname=row.hostname,
        pid=row.pid,
        role=row.role,
        started=row.started,
        last_beat=row.last_beat,
        version=row.version,
        job_count=row.job_count,
        heartbeat_age=max((now - row.last_beat).total_seconds(), 0),
    )
