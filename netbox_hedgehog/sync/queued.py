"""
Syncs handed to NetBox's RQ workers (`sync_executor = "rq"`): the leader's side, `hand_over_all()` (and
`hand_over()`, the same for one run), and the worker's side, `run_queued_sync()`.

An RQ job carries only the fabric's id, the trigger and the slot (the time the run fell due). Its id is derived
from those, so handing the same slot over twice (a standby taking over before the store recorded the slot) queues
it once. A run still waiting in the queue covers any later slot of its fabric, so when the workers fall behind
each fabric has at most one run waiting and runs coalesce instead of piling up. Which jobs are queued, running or
done is RQ's business; what a run did is recorded, as with every executor, in the plugin's own SyncRun rows.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.db import close_old_connections
from django_rq import get_queue
from rq.job import Job, JobStatus
from rq.worker import Worker

from ..choices import SyncTriggerChoices
from ..models import HedgehogFabric
from .lock import SyncAlreadyRunning
from .runner import SyncNotStarted, sync_fabric

__all__ = (
    'QUEUE',
    'QUEUE_NAME',
    'DueRun',
    'HandOver',
    'hand_over',
    'hand_over_all',
    'live_workers',
    'rq_job_id',
    'run_queued_sync',
    'sync_queue',
    'waiting_count',
)

logger = logging.getLogger('netbox_hedgehog.sync')

# The plugin's queue as declared in PluginConfig.queues; NetBox prefixes it with the plugin's name.
QUEUE = 'sync'
QUEUE_NAME = f'netbox_hedgehog.{QUEUE}'

# Prefixes of the plugin's own Redis keys beside RQ's.
SLOT_KEY_PREFIX = 'netbox_hedgehog:sync:slot:'
WAITING_KEY_PREFIX = 'netbox_hedgehog:sync:waiting:'
# How long a slot is remembered after it was handed over, beyond the job's own grace: a slot is only ever handed
# over again within its grace (a new leader firing what the old one fired just before dying).
SLOT_MEMORY_MARGIN = 300
# A "sync now" has no grace (it is honoured however late); remembered for a day.
UNBOUNDED_SLOT_MEMORY = 24 * 3600
# A finished job is not kept (the run record is the result); a failed one is kept for a day for diagnosis.
FAILURE_TTL = 24 * 3600
# The longest a run may take on a worker before RQ stops it; far above any real sync.
JOB_TIMEOUT = 6 * 3600
# How often a "sync now" that found another sync of its fabric running tries again.
BUSY_RETRY_SECONDS = 1
# How long a "sync now" whose sync could not reach the database keeps trying on its worker (a database restart
# takes seconds); after that it fails, and stays in RQ's failed registry for FAILURE_TTL.
NOT_STARTED_RETRY_SECONDS = 120
# RQ states in which a job has not started yet.
WAITING_STATES = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


class HandOver:
    QUEUED = 'queued'
    DUPLICATE = 'duplicate'
    COALESCED = 'coalesced'


@cache
def sync_queue():
    """
    The plugin's queue, one per process: django_rq's get_queue() builds a new Redis client, with a pool of its own,
    on every call, so each hand-over would open new connections. redis-py's pool is thread-safe and starts afresh
    in a forked child (an RQ worker's work horse).
    """
    return get_queue(QUEUE_NAME)


def rq_job_id(fabric_id, trigger, slot):
    """One id per fabric, trigger and slot (to the millisecond): the same slot handed over twice is one job."""
    return f'hedgehog-sync-{fabric_id}-{trigger}-{int(slot.timestamp() * 1000)}'


@dataclass(frozen=True, slots=True)
class DueRun:
    """One slot of one fabric to hand over. `grace`: how late, in seconds, it may still be handed over (None: any)."""

    fabric_id: int
    trigger: str
    slot: datetime
    grace: int | None

    @property
    def job_id(self):
        return rq_job_id(self.fabric_id, self.trigger, self.slot)


def hand_over(fabric_id, trigger, slot, grace):
    """Queue one run of a fabric for the slot `slot`, as hand_over_all() does; returns (HandOver outcome, RQ job id)."""
    return hand_over_all([DueRun(fabric_id, trigger, slot, grace)])[0]


def hand_over_all(runs):
    """
    Queue the DueRuns given, in that order, in a few Redis round trips whatever their number; return one
    (HandOver outcome, RQ job id) per run.

    Each run is queued unless its slot was handed over already (DUPLICATE) or a run of its fabric is still waiting,
    queued earlier or earlier in `runs`, which then covers it (COALESCED). The outcomes are those of handing the
    runs over one after the other. Raises if Redis fails: then none of the runs is queued. A failed enqueue frees
    the slots it was to queue, to be handed over again; a failure before it may leave a slot taken, which is then
    missed rather than ever run twice.
    """
    if not runs:
        return []
    queue = sync_queue()
    redis = queue.connection
    waiting = waiting_runs({run.fabric_id for run in runs}, redis)
    outcomes = {}
    unclaimed = []
    claiming = set()
    for index, run in enumerate(runs):
        job_id = run.job_id
        waiting_job_id, status = waiting.get(run.fabric_id, (None, None))
        if run.fabric_id in claiming:
            # An earlier run of the fabric may be queued in this batch and cover this one: decided in turn.
            unclaimed.append(index)
        elif waiting_job_id == job_id:
            outcomes[index] = (HandOver.DUPLICATE, job_id)
        elif status in WAITING_STATES:
            outcomes[index] = (HandOver.COALESCED, waiting_job_id)
        else:
            unclaimed.append(index)
            claiming.add(run.fabric_id)
    queued = claim_slots(runs, unclaimed, outcomes, redis)
    if queued:
        enqueue(queue, [runs[index] for index in queued])
    return [outcomes[index] for index in range(len(runs))]


def waiting_runs(fabric_ids, redis):
    """{fabric id: (RQ job id, RQ status)} of the run each fabric last had queued: two round trips."""
    fabric_ids = list(fabric_ids)
    markers = redis.mget([f'{WAITING_KEY_PREFIX}{fabric_id}' for fabric_id in fabric_ids])
    job_ids = {fabric_id: marker.decode() for fabric_id, marker in zip(fabric_ids, markers) if marker is not None}
    if not job_ids:
        return {}
    with redis.pipeline(transaction=False) as pipeline:
        for job_id in job_ids.values():
            pipeline.hget(Job.key_for(job_id), 'status')
        # A job gone (expired, deleted by an operator) has no status: it is not waiting.
        statuses = [status.decode() if status else None for status in pipeline.execute()]
    return {fabric_id: (job_id, status) for (fabric_id, job_id), status in zip(job_ids.items(), statuses)}


def claim_slots(runs, unclaimed, outcomes, redis):
    """
    Set the slot marker (SET NX) of each run in `unclaimed` (indexes into `runs`, in order) whose fabric has no
    run waiting; fill in `outcomes` and return the indexes of the runs to queue, one per fabric at most.

    The first run of a fabric to win its marker is queued and covers that fabric's later runs; so the later ones
    claim only in a next round, which a batch needs only when a fabric's first run lost its marker.
    """
    queued = {}
    while unclaimed:
        claiming, later, fabrics = [], [], set()
        for index in unclaimed:
            run = runs[index]
            if run.fabric_id in queued:
                covering = runs[queued[run.fabric_id]].job_id
                duplicate = covering == run.job_id
                outcomes[index] = (HandOver.DUPLICATE if duplicate else HandOver.COALESCED, covering)
            elif run.fabric_id in fabrics:
                later.append(index)
            else:
                fabrics.add(run.fabric_id)
                claiming.append(index)
        with redis.pipeline(transaction=False) as pipeline:
            for index in claiming:
                run = runs[index]
                memory = UNBOUNDED_SLOT_MEMORY if run.grace is None else int(run.grace) + SLOT_MEMORY_MARGIN
                pipeline.set(f'{SLOT_KEY_PREFIX}{run.job_id}', 1, nx=True, ex=memory)
            claimed = pipeline.execute()
        for index, won in zip(claiming, claimed):
            if won:
                queued[runs[index].fabric_id] = index
            outcomes[index] = (HandOver.QUEUED if won else HandOver.DUPLICATE, runs[index].job_id)
        unclaimed = later
    return sorted(queued.values())


def enqueue(queue, runs):
    """The RQ jobs of `runs` and their fabrics' waiting markers in one transaction, one round trip."""
    redis = queue.connection
    try:
        with redis.pipeline() as pipeline:
            for run in runs:
                queue.enqueue(
                    run_queued_sync,
                    run.fabric_id,
                    run.trigger,
                    run.slot.timestamp(),
                    job_id=run.job_id,
                    description=f'Sync fabric {run.fabric_id} ({run.trigger})',
                    job_timeout=JOB_TIMEOUT,
                    result_ttl=0,
                    failure_ttl=FAILURE_TTL,
                    pipeline=pipeline,
                )
                pipeline.set(f'{WAITING_KEY_PREFIX}{run.fabric_id}', run.job_id, ex=UNBOUNDED_SLOT_MEMORY)
            pipeline.execute()
    except Exception:
        # Not queued after all: the slots may be handed over again.
        redis.delete(*(f'{SLOT_KEY_PREFIX}{run.job_id}' for run in runs))
        raise


def run_queued_sync(fabric_id, trigger, slot_timestamp):
    """The RQ job: one sync of one fabric, on whichever worker took it."""
    slot = datetime.fromtimestamp(slot_timestamp, UTC)
    lateness = time.time() - slot_timestamp
    logger.info('Queued run of fabric %s (%s, due %s) started %.3f s after its slot', fabric_id, trigger,
                slot.isoformat(), lateness)
    give_up = time.monotonic() + NOT_STARTED_RETRY_SECONDS
    try:
        while True:
            try:
                run = sync_fabric(fabric_id, trigger)
            except SyncNotStarted as exc:
                # A scheduled slot's next one comes anyway; an explicit request is owed its run.
                if trigger != SyncTriggerChoices.MANUAL or time.monotonic() > give_up:
                    raise
                logger.warning('Queued run of fabric %s (%s) waiting for the database: %s', fabric_id, trigger, exc)
                close_old_connections()
                time.sleep(BUSY_RETRY_SECONDS)
                continue
            except HedgehogFabric.DoesNotExist:
                logger.info('Queued run of fabric %s skipped: the fabric no longer exists', fabric_id)
                return None
            except SyncAlreadyRunning:
                # The sync running elsewhere covers a scheduled slot; an explicit request waits for its own run.
                if trigger != SyncTriggerChoices.MANUAL:
                    logger.warning('Queued run of fabric %s (%s) skipped: another sync of it is running',
                                   fabric_id, trigger)
                    return None
                close_old_connections()
                time.sleep(BUSY_RETRY_SECONDS)
                continue
            return run.outcome
    finally:
        close_old_connections()


def live_workers(queue=None):
    """The RQ workers registered on the plugin's queue whose registration has not expired."""
    queue = sync_queue() if queue is None else queue
    return Worker.all(queue=queue)


def waiting_count(queue=None):
    queue = sync_queue() if queue is None else queue
    return queue.count
