"""The job store bookkeeping in-process: reconcile, notices, unrestorable rows (no scheduler process, no runs)."""

import logging
from datetime import UTC, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from django.db import connection
from django.utils import timezone

from netbox_hedgehog.models import HedgehogFabric, SchedulerNotice
from netbox_hedgehog.scheduling.job_store import JOB_TABLE
from netbox_hedgehog.scheduling.notices import request_sync_now
from scheduler_worker.connections import create_job_store_engine
from scheduler_worker.jobs import runs
from scheduler_worker.notices import apply_pending_notices
from scheduler_worker.reconcile import FabricSchedule, JobReconciler, first_run_time
from scheduler_worker.store import FabricJobStore, shut_down

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

SERVER = 'http://127.0.0.1:9'


def drop_job_table():
    # The job table is not a Django model, so test-database flushes leave behind what earlier scheduler
    # processes (other test modules) stored in it.
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')


@pytest.fixture
def reconciler():
    """A JobReconciler over a paused scheduler (nothing runs) with the real job store in the test database."""
    drop_job_table()
    engine = create_job_store_engine(1)
    unrestorable = []
    store = FabricJobStore(engine, unrestorable.extend)
    scheduler = BackgroundScheduler(jobstores={'default': store}, timezone=UTC)
    scheduler.start(paused=True)
    reconciler = JobReconciler(scheduler, store)
    reconciler.unrestorable = unrestorable
    yield reconciler
    shut_down(scheduler)
    engine.dispose()
    drop_job_table()


def job(reconciler, fabric):
    return reconciler.scheduler.get_job(f'fabric-sync:{fabric.pk}')


def assert_close(actual, expected, tolerance=1.0):
    assert abs((actual - expected).total_seconds()) <= tolerance, f'{actual} is not within {tolerance} s of {expected}'


def test_first_run_time():
    now = timezone.now()
    never = HedgehogFabric(sync_interval=60)
    recent = HedgehogFabric(sync_interval=60, last_sync=now - timedelta(seconds=10))
    overdue = HedgehogFabric(sync_interval=60, last_sync=now - timedelta(seconds=100))
    assert first_run_time(never, now) == now
    assert first_run_time(recent, now) == now + timedelta(seconds=50)
    assert first_run_time(overdue, now) == now


def test_reconcile_derives_jobs_from_fabrics(reconciler):
    now = timezone.now()
    fresh = HedgehogFabric.objects.create(name='fresh', kubernetes_server=SERVER, sync_interval=60)
    recent = HedgehogFabric.objects.create(
        name='recent', kubernetes_server=SERVER, sync_interval=60, last_sync=now - timedelta(seconds=10)
    )
    disabled = HedgehogFabric.objects.create(name='disabled', kubernetes_server=SERVER, sync_enabled=False)
    unconnected = HedgehogFabric.objects.create(name='unconnected')
    # Orphans: a job whose fabric is gone and a row that belongs to nobody.
    reconciler.scheduler.add_job(print, 'interval', seconds=60, id='fabric-sync:999999')
    reconciler.scheduler.add_job(print, 'interval', seconds=60, id='something-else')

    assert reconciler.reconcile_all() == {'added': 2, 'changed': 0, 'removed': 2}
    reconciled = timezone.now()
    assert {item.id for item in reconciler.scheduler.get_jobs()} == {
        f'fabric-sync:{fresh.pk}', f'fabric-sync:{recent.pk}'
    }
    # "At once" is the moment of the reconcile, however long a loaded machine took to get there.
    assert now - timedelta(seconds=1) <= job(reconciler, fresh).next_run_time <= reconciled + timedelta(seconds=1)
    assert_close(job(reconciler, recent).next_run_time, recent.last_sync + timedelta(seconds=60))
    assert job(reconciler, fresh).misfire_grace_time == 60
    assert job(reconciler, disabled) is None and job(reconciler, unconnected) is None

    # A second pass changes nothing, and in particular keeps each job's next run time.
    kept = job(reconciler, fresh).next_run_time
    assert reconciler.reconcile_all() == {'added': 0, 'changed': 0, 'removed': 0}
    assert job(reconciler, fresh).next_run_time == kept

    # An interval changed behind the scheduler's back is fixed, rescheduled from the latest start.
    HedgehogFabric.objects.filter(pk=recent.pk).update(sync_interval=120)
    assert reconciler.reconcile_all()['changed'] == 1
    assert job(reconciler, recent).trigger.interval == timedelta(seconds=120)
    assert_close(job(reconciler, recent).next_run_time, recent.last_sync + timedelta(seconds=120))


def test_missing_jobs_are_added_in_bulk_beside_a_job_added_meanwhile(reconciler):
    fabrics = HedgehogFabric.objects.bulk_create([
        HedgehogFabric(name=f'bulk-{number}', kubernetes_server=SERVER, sync_interval=60 + number)
        for number in range(50)
    ])
    # One job is already stored, with another interval, when the bulk insert runs (a notice applied meanwhile).
    early = fabrics[0]
    reconciler.add(early)
    HedgehogFabric.objects.filter(pk=early.pk).update(sync_interval=600)
    assert reconciler.add_all(FabricSchedule.read(HedgehogFabric.objects.filter(name__startswith='bulk-'))).count(
        'added'
    ) == 49
    assert job(reconciler, early).trigger.interval == timedelta(seconds=600)
    for fabric in fabrics[1:]:
        stored = job(reconciler, fabric)
        assert stored.trigger.interval == timedelta(seconds=fabric.sync_interval)
        assert stored.misfire_grace_time == fabric.sync_interval and stored.name == f'Sync fabric {fabric.name}'
    assert reconciler.reconcile_all() == {'added': 0, 'changed': 0, 'removed': 0}


def test_shutting_down_takes_no_due_slot(caplog):
    """A job due when the scheduler shuts down stays due in the store, for whoever leads next."""
    drop_job_table()
    engine = create_job_store_engine(1)
    store = FabricJobStore(engine, lambda job_ids: None)
    scheduler = BackgroundScheduler(jobstores={'default': store}, timezone=UTC)
    scheduler.start(paused=True)
    fabric = HedgehogFabric.objects.create(name='due', kubernetes_server=SERVER, sync_interval=60)
    JobReconciler(scheduler, store).reconcile_all()
    due = job_row(fabric)

    with caplog.at_level(logging.INFO, logger='apscheduler'):
        shut_down(scheduler)
    engine.dispose()
    try:
        assert job_row(fabric) == due
        assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    finally:
        drop_job_table()


def job_row(fabric):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT next_run_time, job_state FROM {JOB_TABLE} WHERE id = %s', [f'fabric-sync:{fabric.pk}'])
        return cursor.fetchone()


def test_unrestorable_row_is_reported_loudly_and_recreated(reconciler, caplog):
    fabric = HedgehogFabric.objects.create(name='restorable', kubernetes_server=SERVER, sync_interval=60)
    reconciler.reconcile_all()
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {JOB_TABLE} SET job_state = %s WHERE id = %s', [b'not a pickle', f'fabric-sync:{fabric.pk}']
        )

    with caplog.at_level(logging.ERROR, logger='scheduler_worker.store'):
        reconciler.scheduler.get_jobs()
    assert reconciler.unrestorable == [f'fabric-sync:{fabric.pk}']
    assert any('cannot be restored' in record.getMessage() for record in caplog.records)

    assert reconciler.reconcile_all()['added'] == 1
    assert job(reconciler, fabric) is not None


def test_notices_are_applied_idempotently_and_marked(reconciler):
    fabric = HedgehogFabric.objects.create(name='noticed', kubernetes_server=SERVER, sync_interval=60)
    assert apply_pending_notices(reconciler) == 1
    assert job(reconciler, fabric) is not None
    assert not SchedulerNotice.objects.filter(processed__isnull=True).exists()
    assert apply_pending_notices(reconciler) == 0

    fabric.sync_interval = 90
    fabric.save()
    fabric.save()  # the same change twice is applied once
    assert apply_pending_notices(reconciler) == 2
    assert job(reconciler, fabric).trigger.interval == timedelta(seconds=90)

    # Two requests before the first one ran: one queued run covers both.
    request_sync_now(fabric)
    request_sync_now(fabric)
    apply_pending_notices(reconciler)
    assert [item.id for item in reconciler.scheduler.get_jobs() if item.id.startswith('fabric-sync-now:')] == [
        f'fabric-sync-now:{fabric.pk}'
    ]
    runs.drop_pending_request(fabric.pk)

    fabric.delete()
    apply_pending_notices(reconciler)
    assert reconciler.scheduler.get_jobs() == []
