"""The health probe behind `netbox hedgehog_scheduler --check` (compose health checks, monitoring)."""

from django.db import DatabaseError

from .executor_state import executor_state
from .joblist import scheduler_state

__all__ = ('check_health',)


def check_health():
    """
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
