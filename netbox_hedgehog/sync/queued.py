"""
Syncs handed to NetBox's RQ workers (`sync_executor = "rq"`): the leader's side, `hand_over()`, and the worker's
side, `run_queued_sync()`.

An RQ job carries only the fabric's id, the trigger and the slot (the time the run fell due). Its id is derived
from those, so handing the same slot over twice (a standby taking over before the store recorded the slot) queues
it once. A run still waiting in the queue covers any later slot of its fabric, so when the workers fall behind
each fabric has at most one run waiting and runs coalesce instead of piling up. Which jobs are queued, running or
done is RQ's business; what a run did is recorded, as with every executor, in the plugin's own SyncRun rows.
"""

import logging
import time
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
    'HandOver',
    'hand_over',
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


def hand_over(fabric_id, trigger, slot, grace):
    """
    Queue one run of a fabric for the slot `slot`, unless that slot was handed over already or a run of the
    fabric is still waiting (which then covers this slot). `grace` is how late, in seconds, the slot may still be
    handed over (None: unbounded). Returns (HandOver outcome, RQ job id).
    """
    queue = sync_queue()
    redis = queue.connection
    job_id = rq_job_id(fabric_id, trigger, slot)
    waiting_key = f'{WAITING_KEY_PREFIX}{fabric_id}'
    waiting = redis.get(waiting_key)
    if waiting is not None:
        waiting = waiting.decode()
        if waiting == job_id:
            return HandOver.DUPLICATE, job_id
        if job_status(waiting, redis) in WAITING_STATES:
            return HandOver.COALESCED, waiting
    memory = UNBOUNDED_SLOT_MEMORY if grace is None else int(grace) + SLOT_MEMORY_MARGIN
    if not redis.set(f'{SLOT_KEY_PREFIX}{job_id}', 1, nx=True, ex=memory):
        return HandOver.DUPLICATE, job_id
    try:
        # The job and the fabric's waiting marker in one round trip.
        with redis.pipeline() as pipeline:
            queue.enqueue(
                run_queued_sync,
                fabric_id,
                trigger,
                slot.timestamp(),
                job_id=job_id,
                description=f'Sync fabric {fabric_id} ({trigger})',
                job_timeout=JOB_TIMEOUT,
                result_ttl=0,
                failure_ttl=FAILURE_TTL,
                pipeline=pipeline,
            )
            pipeline.set(waiting_key, job_id, ex=UNBOUNDED_SLOT_MEMORY)
            pipeline.execute()
    except Exception:
        # Not queued after all: the slot may be handed over again.
        redis.delete(f'{SLOT_KEY_PREFIX}{job_id}')
        raise
    return HandOver.QUEUED, job_id


def job_status(job_id, redis):
    try:
        return Job.fetch(job_id, connection=redis).get_status(refresh=False)
    except Exception:
        # Gone (expired, deleted by an operator) or unreadable: it is not waiting.
        return None


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
