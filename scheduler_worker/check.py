"""The health probe behind `netbox hedgehog_scheduler --check` (compose health checks, monitoring)."""

from django.db import DatabaseError

from .joblist import scheduler_state

__all__ = ('check_health',)


def check_health():
    """Return (healthy, one line saying why). Healthy means a leader's heartbeat is fresh and it holds the lock."""
    try:
        state = scheduler_state()
    except DatabaseError as exc:
        return False, f'cannot read the scheduler state from the database: {exc}'.strip()
    if not state.healthy:
        return False, f'no healthy scheduler leader: {state.problem}'
    leader = state.leader
    standbys = len(state.standbys)
    return True, (
        f'scheduler leader {leader.hostname}:{leader.pid} (version {leader.version}) beat '
        f'{leader.heartbeat_age:.1f} s ago; {leader.job_count} jobs; {standbys} standby(s)'
    )
