"""
What the web side tells people about the scheduler: whether it runs, since when it does not, and when each fabric
syncs next. Everything comes from the scheduler's own read-only listing (scheduler_worker.joblist) and the
heartbeat rows; the web side never writes the job store.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max
from django.utils.translation import gettext as _

from scheduler_worker.joblist import fabrics_without_job, list_jobs, scheduler_state

from .choices import SchedulerRoleChoices
from .models import SchedulerHeartbeat

__all__ = ('NextRun', 'SchedulerOutage', 'next_run', 'scheduler_outage')


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
    requested = any(job.kind == 'sync now' for job in own)
    scheduled = next((job for job in own if job.kind == 'scheduled'), None)
    if scheduled is not None and scheduled.next_run_time is not None:
        reason = '' if state.leader is not None else _('no scheduler is running, so the job will not fire')
        return NextRun(time=scheduled.next_run_time, reason=reason, requested=requested)
    if scheduled is not None:
        return NextRun(time=None, reason=_('the job is paused'), requested=requested)
    without = next((entry for entry in fabrics_without_job(jobs, state) if entry.fabric_id == fabric.pk), None)
    return NextRun(time=None, reason=without.reason if without else _('no job yet'), requested=requested)
