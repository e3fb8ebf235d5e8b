"""
What the web side tells people about the scheduler: whether it runs, since when it does not, and when each fabric
syncs next. Everything comes from the read model of the job store and the heartbeat rows (netbox_hedgehog.scheduling);
the web side never writes the job store.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max
from django.utils.translation import gettext as _

from .choices import SchedulerJobKindChoices, SchedulerRoleChoices
from .models import SchedulerHeartbeat
from .scheduling.job_store import fabrics_without_job, list_jobs
from .scheduling.state import scheduler_state

__all__ = ('NextRun', 'SchedulerOutage', 'next_run', 'scheduler_outage', 'scheduler_status')


@dataclass(frozen=True)
class SchedulerOutage:
    """No leader's heartbeat is fresh. `since` is the leader's last sign of life, None if none ever ran."""

    since: datetime | None
    problem: str


def scheduler_outage(state=None):
    """The current outage, or None while a leader beats. Cheap enough to run on every plugin page."""
    state = scheduler_state() if state is None else state
    if state.leader is not None:
        return None
    # A standby never scheduled anything, so only a leader's (or a former leader's) last beat says since when
    # periodic sync has stood still.
    since = SchedulerHeartbeat.objects.exclude(role=SchedulerRoleChoices.STANDBY).aggregate(
        last=Max('last_beat')
    )['last']
    return SchedulerOutage(since=since, problem=state.problem)


def scheduler_status(state, jobs):
    """The scheduler's status as the REST API and `hedgehog_jobs --json` report it (SchedulerStatusSerializer)."""
    outage = scheduler_outage(state)
    return {
        'running': state.leader is not None,
        'healthy': state.healthy,
        'problem': state.problem,
        'stopped_since': outage.since if outage else None,
        'heartbeat_age': state.leader.heartbeat_age if state.leader else None,
        'leader': state.leader,
        'standbys': state.standbys,
        'job_count': len(jobs),
    }


@dataclass(frozen=True)
class NextRun:
    """When a fabric syncs next, or why it will not. `requested` marks a "sync now" that has not started yet."""

    time: datetime | None
    reason: str
    requested: bool = False


def next_run(fabric, state=None, jobs=None):
    state = scheduler_state() if state is None else state
    jobs = list_jobs() if jobs is None else jobs
    own = [job for job in jobs if job.fabric_id == fabric.pk]
    requested = any(job.kind == SchedulerJobKindChoices.SYNC_NOW for job in own)
    scheduled = next((job for job in own if job.kind == SchedulerJobKindChoices.SCHEDULED), None)
    if scheduled is not None and scheduled.next_run_time is not None:
        reason = '' if state.leader is not None else _('no scheduler is running, so the job will not fire')
        return NextRun(time=scheduled.next_run_time, reason=reason, requested=requested)
    if scheduled is not None:
        return NextRun(time=None, reason=_('the job is paused'), requested=requested)
    without = next((entry for entry in fabrics_without_job(jobs, state) if entry.fabric_id == fabric.pk), None)
    return NextRun(time=None, reason=without.reason if without else _('no job yet'), requested=requested)
