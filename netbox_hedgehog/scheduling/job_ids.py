"""The ids of the jobs in the job store: one per kind and fabric, so a job's id alone says what it is for."""

from ..choices import SchedulerJobKindChoices

__all__ = ('JOB_ID_PREFIXES', 'job_id', 'parse_job_id', 'scheduled_job_id', 'sync_now_job_id')

# Stored job rows carry these ids; changing a prefix orphans every job already in a store.
JOB_ID_PREFIXES = {
    SchedulerJobKindChoices.SCHEDULED: 'fabric-sync:',
    SchedulerJobKindChoices.SYNC_NOW: 'fabric-sync-now:',
}


def job_id(kind, fabric_id):
    return f'{JOB_ID_PREFIXES[kind]}{fabric_id}'


def scheduled_job_id(fabric_id):
    return job_id(SchedulerJobKindChoices.SCHEDULED, fabric_id)


def sync_now_job_id(fabric_id):
    return job_id(SchedulerJobKindChoices.SYNC_NOW, fabric_id)


def parse_job_id(value):
    """Return (kind, fabric_id) for one of the fabric jobs' ids, or (None, None) for anything else."""
    for kind, prefix in JOB_ID_PREFIXES.items():
        rest = value[len(prefix):]
        if value.startswith(prefix) and rest.isascii() and rest.isdigit():
            return kind, int(rest)
    return None, None
