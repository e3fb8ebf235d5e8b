"""
Who schedules: the leader and the standbys from their heartbeat rows, checked against the leader lock.

Read by the web UI, the REST API, `netbox hedgehog_jobs` and the health probe `netbox hedgehog_scheduler --check`,
in any process, whether or not a scheduler runs. Nothing here writes.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.utils import timezone
from netbox.plugins import get_plugin_config

from ..choices import SchedulerRoleChoices
from ..models import SchedulerHeartbeat
from .executor import executor_state
from .job_store import job_store_exists
from .locks import leader_backend_pid

__all__ = ('SchedulerInstance', 'SchedulerState', 'check_health', 'scheduler_state')


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


def check_health():
    """
    The health probe behind `netbox hedgehog_scheduler --check` (compose health checks, monitoring).

    Return (healthy, one line saying why). Healthy means a leader's heartbeat is fresh, it holds the lock, and
    its runs have somewhere to go (under "rq", at least one live worker on the queue).
    """
    try:
        state = scheduler_state()
    except DatabaseError as exc:
        return False, f'cannot read the scheduler state from the database: {exc}'.strip()
    if not state.healthy:
        return False, f'no healthy scheduler leader: {state.problem}'
    executor = executor_state()
    if executor.problem:
        return False, executor.problem
    leader = state.leader
    standbys = len(state.standbys)
    workers = ''
    if executor.workers is not None:
        workers = f'; {executor.workers} RQ worker(s), {executor.waiting} run(s) waiting'
    return True, (
        f'scheduler leader {leader.hostname}:{leader.pid} (version {leader.version}) beat '
        f'{leader.heartbeat_age:.1f} s ago; {leader.job_count} jobs; {standbys} standby(s){workers}'
    )
