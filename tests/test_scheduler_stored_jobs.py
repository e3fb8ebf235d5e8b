"""
Jobs already in a job store keep working across releases: a row stored by the scheduler as it is shipped today is
restored by the current code, and running it syncs its fabric; and the current code stores that very row.

The rows below are the pickled job states exactly as the scheduler stores them (APScheduler's SQLAlchemy store
pickles Job.__getstate__()), for fabric 4242: its scheduled job and a queued "sync now". They name the job
functions by path (scheduler_worker.jobs:run_scheduled_sync and :run_requested_sync), so renaming or moving those
functions breaks every store in the field; this test fails first.
"""

import base64
import pickle
from datetime import UTC

import pytest
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from django.db import connection

from netbox_hedgehog.choices import SyncTriggerChoices
from netbox_hedgehog.models import HedgehogFabric, SyncRun
from netbox_hedgehog.scheduling.job_store import JOB_TABLE
from scheduler_worker import jobs
from scheduler_worker.connections import create_job_store_engine
from scheduler_worker.reconcile import FabricSchedule, scheduled_job
from scheduler_worker.store import FabricJobStore, shut_down

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

FABRIC_ID = 4242
STORED_JOBS = {
    'fabric-sync:4242': (
        'gAWV1AEAAAAAAAB9lCiMB3ZlcnNpb26USwGMAmlklIwQZmFicmljLXN5bmM6NDI0MpSMBGZ1bmOUjChzY2hlZHVsZXJfd29ya2VyLmpvYnM6'
        'cnVuX3NjaGVkdWxlZF9zeW5jlIwHdHJpZ2dlcpSMHWFwc2NoZWR1bGVyLnRyaWdnZXJzLmludGVydmFslIwPSW50ZXJ2YWxUcmlnZ2VylJOU'
        'KYGUfZQoaAFLAowIdGltZXpvbmWUjAhkYXRldGltZZSMCHRpbWV6b25llJOUaA2MCXRpbWVkZWx0YZSTlEsASwBLAIeUUpSFlFKUjApzdGFy'
        'dF9kYXRllGgNjAhkYXRldGltZZSTlEMKB+oMAgEDFwiupJRoFYaUUpSMCGVuZF9kYXRllE6MCGludGVydmFslGgRSwBNLAFLAIeUUpSMBmpp'
        'dHRlcpROdWKMCGV4ZWN1dG9ylIwHZGVmYXVsdJSMBGFyZ3OUTZIQhZSMBmt3YXJnc5R9lIwEbmFtZZSME1N5bmMgZmFicmljIHBpY2tsZWSU'
        'jBJtaXNmaXJlX2dyYWNlX3RpbWWUTSwBjAhjb2FsZXNjZZSIjA1tYXhfaW5zdGFuY2VzlEsBjA1uZXh0X3J1bl90aW1llGgbdS4='
    ),
    'fabric-sync-now:4242': (
        'gAWVlQEAAAAAAAB9lCiMB3ZlcnNpb26USwGMAmlklIwUZmFicmljLXN5bmMtbm93OjQyNDKUjARmdW5jlIwoc2NoZWR1bGVyX3dvcmtlci5q'
        'b2JzOnJ1bl9yZXF1ZXN0ZWRfc3luY5SMB3RyaWdnZXKUjBlhcHNjaGVkdWxlci50cmlnZ2Vycy5kYXRllIwLRGF0ZVRyaWdnZXKUk5QpgZR9'
        'lChoAUsBjAhydW5fZGF0ZZSMCGRhdGV0aW1llIwIZGF0ZXRpbWWUk5RDCgfqAQEABQAAAACUaA2MCHRpbWV6b25llJOUaA2MCXRpbWVkZWx0'
        'YZSTlEsASwBLAIeUUpSFlFKUhpRSlHVijAhleGVjdXRvcpSMB2RlZmF1bHSUjARhcmdzlE2SEIWUjAZrd2FyZ3OUfZSMBG5hbWWUjBdTeW5j'
        'IGZhYnJpYyBwaWNrbGVkIG5vd5SMEm1pc2ZpcmVfZ3JhY2VfdGltZZROjAhjb2FsZXNjZZSIjA1tYXhfaW5zdGFuY2VzlEsCjA1uZXh0X3J1'
        'bl90aW1llGgadS4='
    ),
}


class Leading:
    """The leadership a running service binds: this process leads for the whole test."""

    def confirm(self):
        return True


def drop_job_table():
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')


@pytest.fixture
def stored_scheduler():
    """A paused scheduler over the real job store holding the stored rows; runs may start (bound leadership)."""
    drop_job_table()
    engine = create_job_store_engine(1)
    unrestorable = []
    scheduler = BackgroundScheduler(jobstores={'default': FabricJobStore(engine, unrestorable.extend)}, timezone=UTC)
    scheduler.start(paused=True)
    with connection.cursor() as cursor:
        for job_id, state in STORED_JOBS.items():
            job_state = base64.b64decode(state)
            next_run_time = pickle.loads(job_state)['next_run_time'].timestamp()
            cursor.execute(
                f'INSERT INTO {JOB_TABLE} (id, next_run_time, job_state) VALUES (%s, %s, %s)',
                [job_id, next_run_time, job_state],
            )
    jobs.runs.bind(Leading(), jobs.runs.stopping)
    yield scheduler
    jobs.runs.unbind()
    # Due rows left in the store would be handed to the executor as the scheduler shuts down.
    scheduler.remove_all_jobs()
    scheduler.shutdown(wait=False)
    engine.dispose()
    assert unrestorable == []
    drop_job_table()


def test_stored_jobs_restore_and_run(stored_scheduler):
    HedgehogFabric.objects.create(
        pk=FABRIC_ID, name='pickled', kubernetes_server='http://127.0.0.1:9', kubernetes_token='tok-stored-job'
    )
    restored = {job.id: job for job in stored_scheduler.get_jobs()}
    assert set(restored) == set(STORED_JOBS)
    scheduled, requested = restored['fabric-sync:4242'], restored['fabric-sync-now:4242']
    assert scheduled.func is jobs.run_scheduled_sync and scheduled.args == (FABRIC_ID,)
    assert scheduled.trigger.interval.total_seconds() == 300 and scheduled.misfire_grace_time == 300
    assert requested.func is jobs.run_requested_sync and requested.args == (FABRIC_ID,)
    assert requested.misfire_grace_time is None and requested.max_instances == 2

    # Run each the way the executor does; nothing listens on port 9, so each run fails fast, on its own record.
    scheduled.func(*scheduled.args)
    requested.func(*requested.args)
    runs = list(SyncRun.objects.filter(fabric_id=FABRIC_ID).order_by('started'))
    assert [run.trigger for run in runs] == [SyncTriggerChoices.SCHEDULED, SyncTriggerChoices.MANUAL]
    assert all(run.finished is not None for run in runs)


def test_a_job_added_in_bulk_is_the_stored_row_byte_for_byte():
    """The reconciler's bulk insert writes exactly the row the scheduler stored for fabric 4242, pickle and all."""
    stored = pickle.loads(base64.b64decode(STORED_JOBS['fabric-sync:4242']))
    slot = stored['next_run_time']
    interval = stored['trigger'].interval
    fabric = FabricSchedule(
        pk=FABRIC_ID, name='pickled', sync_enabled=True, sync_interval=int(interval.total_seconds()),
        kubernetes_server='http://127.0.0.1:9', kubeconfig='', last_sync=slot - interval,
    )
    drop_job_table()
    engine = create_job_store_engine(1)
    store = FabricJobStore(engine, lambda job_ids: None)
    scheduler = BackgroundScheduler(jobstores={'default': store}, timezone=UTC)
    scheduler.start(paused=True)
    try:
        # What JobReconciler.add_all() does, at a moment before the fabric's slot (so that the slot is its first run).
        assert store.add_jobs([Job(scheduler, **scheduled_job(fabric, slot - interval / 2))]) == set()
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT id, next_run_time, job_state FROM {JOB_TABLE}')
            rows = cursor.fetchall()
    finally:
        shut_down(scheduler)
        engine.dispose()
        drop_job_table()
    assert rows == [('fabric-sync:4242', slot.timestamp(), base64.b64decode(STORED_JOBS['fabric-sync:4242']))]
