"""A sync attempt's life cycle: lock, fabric state, run record, pruning. The mirroring itself is in engine.py."""

import gc
import logging
from contextlib import ExitStack
from functools import cache

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from netbox.plugins import get_plugin_config

from ..choices import SyncOutcomeChoices, SyncStatusChoices
from ..inventory.sync import sync_inventory
from ..models import HedgehogFabric, SyncRun
from ..models.deletion import delete_sync_runs
from ..run_record import SyncError, summarize_errors
from ..timing import phase
from .engine import mirror_fabric
from .lock import SyncAlreadyRunning, fabric_sync_lock

logger = logging.getLogger('netbox_hedgehog.sync')

INTERRUPTED_MESSAGE = 'interrupted: scheduler stopped during sync'
INVENTORY_FAILED = (
    'the NetBox inventory was not updated: an unexpected error; the mirror is up to date, and the NetBox log '
    '("netbox_hedgehog.sync") has the details'
)
# What a run reports for an exception nobody expected: its text may hold anything, so it goes only to the log.
UNEXPECTED_MESSAGE = 'the sync failed with an unexpected error; the NetBox log ("netbox_hedgehog.sync") has the details'


@cache
def mirror_step():
    """
    The step that mirrors a fabric's resources into NetBox: the engine's, read once per process.

    The setting `sync_mirror_step` (development and tests only) names another function(fabric, run) instead, so
    a scheduler under test goes through the real runner (lock, run record, fabric state) without a cluster.
    """
    path = get_plugin_config('netbox_hedgehog', 'sync_mirror_step')
    return import_string(path) if path else mirror_fabric


@cache
def freeze_loaded_objects():
    """
    Take what the process has loaded so far (NetBox, the plugin: hundreds of thousands of long-lived objects) out
    of the cyclic garbage collector's reach, once per process. A sync allocates tens of thousands of objects and so
    sets off full collections, and each of them would walk all of NetBox too: 0.2 to 0.3 s of every sync of the
    benchmark fabric (bench/sync_bench.py prints the collector's share).
    """
    gc.freeze()


class SyncNotStarted(Exception):
    """The database failed before the run record was written: no run took place, and none is recorded."""


def sync_fabric(fabric_id, trigger):
    """
    Run one sync of a fabric and return its SyncRun.

    Raises SyncAlreadyRunning at once (without waiting) when another sync of the fabric is in progress,
    HedgehogFabric.DoesNotExist when the fabric is gone, and SyncNotStarted when the database failed before the
    run was recorded, so that a caller holding an explicit request knows it is still owed a run.
    """
    freeze_loaded_objects()
    with ExitStack() as held:
        try:
            fabric = HedgehogFabric.objects.get(pk=fabric_id)
            held.enter_context(fabric_sync_lock(fabric.pk))
            run = start_run(fabric, trigger)
        except DatabaseError as exc:
            raise SyncNotStarted(f'sync of fabric {fabric_id} not started: {exc}') from exc
        logger.info('Sync of fabric %s started (run %s, %s)', fabric.name, run.pk, trigger)
        try:
            mirror_step()(fabric, run)
        except Exception:
            logger.exception('Sync of fabric %s failed (run %s)', fabric.name, run.pk)
            run.outcome = SyncOutcomeChoices.FAILED
            run.add_errors(SyncError(UNEXPECTED_MESSAGE))
        else:
            update_inventory(fabric, run)
        with phase('run record'):
            finish_run(fabric, run)
    return run


def start_run(fabric, trigger):
    started = timezone.now()
    # Together, so nobody sees a running run beside a fabric that is not "syncing". update() rather than save():
    # sync state is not a user change, so no change log entry and no notice.
    with transaction.atomic():
        run = SyncRun.objects.create(fabric=fabric, trigger=trigger, started=started)
        HedgehogFabric.objects.filter(pk=fabric.pk).update(sync_status=SyncStatusChoices.SYNCING, last_sync=started)
    return run


def update_inventory(fabric, run):
    """The inventory step, after a mirror that listed something; its failure is the run's error, not its end."""
    if not fabric.inventory_sync or fabric.inventory_site_id is None or run.outcome == SyncOutcomeChoices.FAILED:
        return
    try:
        with phase('inventory'):
            sync_inventory(fabric, run)
    except Exception:
        logger.exception('Inventory of fabric %s failed (run %s)', fabric.name, run.pk)
        run.add_errors(SyncError(INVENTORY_FAILED))


def finish_run(fabric, run):
    """Stamp the run's end and carry its outcome onto the fabric."""
    run.finished = timezone.now()
    run.duration = (run.finished - run.started).total_seconds()
    if run.outcome == SyncOutcomeChoices.RUNNING:
        run.outcome = SyncOutcomeChoices.PARTIAL if run.errors else SyncOutcomeChoices.SUCCESS
    with transaction.atomic():
        run.save()
        if run.outcome == SyncOutcomeChoices.SUCCESS:
            HedgehogFabric.objects.filter(pk=fabric.pk).update(
                sync_status=SyncStatusChoices.IN_SYNC, last_successful_sync=run.started, sync_error=''
            )
        else:
            HedgehogFabric.objects.filter(pk=fabric.pk).update(
                sync_status=SyncStatusChoices.ERROR, sync_error=summarize_errors(run.errors)
            )
    prune_runs(fabric)
    logger.info(
        'Sync of fabric %s finished: %s in %.2f s (run %s)', fabric.name, run.outcome, run.duration, run.pk
    )


def prune_runs(fabric):
    """Keep the fabric's newest sync_run_retention runs; the object changes older runs recorded go with them."""
    keep = get_plugin_config('netbox_hedgehog', 'sync_run_retention')
    delete_sync_runs(SyncRun.objects.filter(fabric=fabric).order_by('-started', '-pk')[keep:])


def recover_interrupted_syncs():
    """
    Mark runs and fabrics left "syncing" by a process that died as interrupted errors.

    A fabric whose lock is still held is being synced by a live process and is left alone. The lock is held while
    marking, so a sync starting meanwhile (on an RQ worker, say) cannot have its fresh run marked by mistake.
    Returns the number of runs marked.
    """
    stuck_fabric_ids = set(
        SyncRun.objects.filter(outcome=SyncOutcomeChoices.RUNNING).values_list('fabric_id', flat=True)
    ) | set(HedgehogFabric.objects.filter(sync_status=SyncStatusChoices.SYNCING).values_list('pk', flat=True))
    marked = 0
    for fabric_id in stuck_fabric_ids:
        try:
            with fabric_sync_lock(fabric_id):
                marked += mark_interrupted(fabric_id)
        except SyncAlreadyRunning:
            continue
    return marked


def mark_interrupted(fabric_id, lock_timeout=None):
    """
    Record the running runs of a fabric as interrupted, and the fabric as failed by the interruption.

    Used for the runs of a process that died (recover_interrupted_syncs) and by a stopping scheduler for the runs
    it cuts off, whose threads may still be inside a transaction on these rows: `lock_timeout` ("2s") then keeps
    this from waiting on them forever. Returns the number of runs marked.
    """
    now = timezone.now()
    marked = 0
    with transaction.atomic():
        if lock_timeout is not None:
            with connection.cursor() as cursor:
                cursor.execute('SELECT set_config(%s, %s, true)', ['lock_timeout', lock_timeout])
        for run in SyncRun.objects.filter(fabric_id=fabric_id, outcome=SyncOutcomeChoices.RUNNING):
            run.outcome = SyncOutcomeChoices.INTERRUPTED
            run.finished = now
            run.duration = (now - run.started).total_seconds()
            run.add_errors(SyncError(INTERRUPTED_MESSAGE))
            run.save()
            marked += 1
        HedgehogFabric.objects.filter(pk=fabric_id, sync_status=SyncStatusChoices.SYNCING).update(
            sync_status=SyncStatusChoices.ERROR, sync_error=INTERRUPTED_MESSAGE
        )
    return marked
