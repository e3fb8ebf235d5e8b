"""
sync_executor = "rq": the leader hands each wake-up's due runs to the RQ queue as one batch (queued.hand_over_all,
handover.HandOverScheduler), in this process, against the real tasks Redis database and the real job store.

A batch must mean what handing its runs over one by one means: each slot queued once, at most one run per fabric
waiting, a slot later than its grace missed, several missed slots one run, a "sync now" removed once handed over
and given back to the notice table if it cannot be.
"""

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import (
    EVENT_ALL,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.triggers.interval import IntervalTrigger
from django.db import connection
from django.utils import timezone
from rq.worker import SimpleWorker

from netbox_hedgehog.choices import SchedulerNoticeActionChoices, SyncTriggerChoices
from netbox_hedgehog.models import SchedulerNotice
from netbox_hedgehog.scheduling.job_ids import scheduled_job_id, sync_now_job_id
from netbox_hedgehog.scheduling.job_store import JOB_TABLE, list_jobs
from netbox_hedgehog.sync.queued import (
    SLOT_KEY_PREFIX,
    DueRun,
    HandOver,
    hand_over,
    hand_over_all,
    rq_job_id,
    sync_queue,
)
from scheduler_worker.config import SchedulerSettings
from scheduler_worker.connections import create_job_store_engine
from scheduler_worker.handover import HandOverScheduler
from scheduler_worker.jobs import run_scheduled_sync, runs
from scheduler_worker.service import SchedulerService
from scheduler_worker.store import JOB_STORE, shut_down
from scheduler_worker.sync_now import queue_sync_now

from .scheduler_harness import drop_job_table, wait_for
from .test_scheduler_service import make_fabric

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

SCHEDULED = SyncTriggerChoices.SCHEDULED
MANUAL = SyncTriggerChoices.MANUAL


def work_off_the_queue():
    """A worker takes every waiting run (fabrics that do not exist: each run is skipped at once)."""
    queue = sync_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.count == 0


def test_a_batch_queues_each_slot_once_and_one_run_per_fabric(rq_executor):
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later, last = slot + timedelta(seconds=60), slot + timedelta(seconds=120)
    queue = sync_queue()
    batch = [
        DueRun(7, SCHEDULED, slot, 60),
        # The same slot twice in one batch, then a "sync now" of a fabric whose run this batch queues.
        DueRun(7, SCHEDULED, slot, 60),
        DueRun(7, MANUAL, later, None),
        DueRun(8, SCHEDULED, slot, 60),
    ]
    first, second = rq_job_id(7, SCHEDULED, slot), rq_job_id(8, SCHEDULED, slot)
    assert hand_over_all(batch) == [
        (HandOver.QUEUED, first), (HandOver.DUPLICATE, first), (HandOver.COALESCED, first), (HandOver.QUEUED, second),
    ]
    assert sorted(queue.job_ids) == sorted([first, second])
    # The same batch again (a new leader firing what the old one fired before the store recorded it): nothing new.
    assert [outcome for outcome, _ in hand_over_all(batch)] == [
        HandOver.DUPLICATE, HandOver.DUPLICATE, HandOver.COALESCED, HandOver.DUPLICATE,
    ]
    assert queue.count == 2

    # Once the runs have left the queue, a later slot gets a run of its own and the old slot stays done.
    work_off_the_queue()
    assert hand_over_all([DueRun(7, SCHEDULED, slot, 60), DueRun(7, SCHEDULED, later, 60)]) == [
        (HandOver.DUPLICATE, first), (HandOver.QUEUED, rq_job_id(7, SCHEDULED, later)),
    ]
    # A fabric whose first run in the batch finds its slot taken: its next run in the same batch is queued instead.
    work_off_the_queue()
    outcomes = hand_over_all([DueRun(7, SCHEDULED, slot, 60), DueRun(7, SCHEDULED, last, 60)])
    assert [outcome for outcome, _ in outcomes] == [HandOver.DUPLICATE, HandOver.QUEUED]
    assert queue.job_ids == [rq_job_id(7, SCHEDULED, last)]
    # hand_over() is a batch of one.
    assert hand_over(7, SCHEDULED, last + timedelta(seconds=60), 60)[0] == HandOver.COALESCED


@pytest.fixture
def handover_scheduler(rq_executor):
    """The leader's scheduler as the service builds it under sync_executor = "rq", paused, with every event kept."""
    drop_job_table()
    service = SchedulerService(SchedulerSettings.from_plugin_config())
    service.engine = create_job_store_engine(1)
    scheduler = service.build_scheduler()
    assert isinstance(scheduler, HandOverScheduler)
    scheduler.events = []
    scheduler.add_listener(scheduler.events.append, EVENT_ALL)
    scheduler.start(paused=True)
    yield scheduler
    shut_down(scheduler)
    service.engine.dispose()
    runs.take_unclaimed_requests()
    drop_job_table()


def add_fabric_job(scheduler, fabric, interval, first_slot, grace):
    scheduler.add_job(
        run_scheduled_sync, IntervalTrigger(seconds=interval, start_date=first_slot, timezone=UTC), args=(fabric.pk,),
        id=scheduled_job_id(fabric.pk), next_run_time=first_slot, misfire_grace_time=grace, jobstore=JOB_STORE,
    )


def events_of(scheduler, code):
    return [event for event in scheduler.events if event.code == code]


def run_one_pass(scheduler, submitted):
    """Resume until the pass has submitted `submitted` jobs in all, then pause again."""
    scheduler.resume()
    wait_for(lambda: len(events_of(scheduler, EVENT_JOB_SUBMITTED)) >= submitted, f'{submitted} submitted jobs')
    scheduler.pause()


def stored_rows():
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, next_run_time, job_state FROM {JOB_TABLE}')
        return cursor.fetchall()


def restore_rows(rows):
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM {JOB_TABLE}')
        for row in rows:
            cursor.execute(f'INSERT INTO {JOB_TABLE} (id, next_run_time, job_state) VALUES (%s, %s, %s)', row)


def assert_store(expected):
    """The job store's next run times are those expected (to the float column's precision)."""
    stored = {job.job_id: job.next_run_time for job in list_jobs()}
    assert stored.keys() == expected.keys()
    for job_id, next_run_time in expected.items():
        assert abs(stored[job_id] - next_run_time) < timedelta(milliseconds=1), (job_id, stored[job_id], next_run_time)


def test_one_pass_hands_over_every_due_job_and_advances_the_store(handover_scheduler):
    scheduler = handover_scheduler
    queue = sync_queue()
    now = timezone.now()
    behind, late, covered, requested = (make_fabric(name) for name in ('behind', 'late', 'covered', 'requested'))
    # Four slots missed, the latest within the grace: one run, for the latest slot.
    add_fabric_job(scheduler, behind, 60, now - timedelta(seconds=200), grace=120)
    # Its only slot two minutes late against a grace of one: missed.
    add_fabric_job(scheduler, late, 3600, now - timedelta(seconds=120), grace=60)
    # A run of this fabric still waits in the queue: it covers the slot.
    waiting = hand_over(covered.pk, SCHEDULED, now - timedelta(hours=1), 3600)[1]
    add_fabric_job(scheduler, covered, 3600, now - timedelta(seconds=2), grace=3600)
    # A "sync now" in the same pass as the fabric's slot: the run queued for the slot covers it.
    add_fabric_job(scheduler, requested, 3600, now - timedelta(seconds=1), grace=3600)
    assert queue_sync_now(scheduler, requested.pk)
    before = stored_rows()

    run_one_pass(scheduler, 5)

    behind_slot = now - timedelta(seconds=20)
    requested_slot = now - timedelta(seconds=1)
    expected_queue = sorted([
        rq_job_id(behind.pk, SCHEDULED, behind_slot), waiting, rq_job_id(requested.pk, SCHEDULED, requested_slot),
    ])
    assert sorted(queue.job_ids) == expected_queue
    assert [event.job_id for event in events_of(scheduler, EVENT_JOB_MISSED)] == [scheduled_job_id(late.pk)]
    assert sorted(event.job_id for event in events_of(scheduler, EVENT_JOB_EXECUTED)) == sorted([
        *(scheduled_job_id(fabric.pk) for fabric in (behind, covered, requested)), sync_now_job_id(requested.pk),
    ])
    assert [event.job_id for event in events_of(scheduler, EVENT_JOB_REMOVED)] == [sync_now_job_id(requested.pk)]
    assert not runs.has_pending_request(requested.pk)
    # Every job moved on to its next slot after the one taken; the fired "sync now" is gone.
    hour = timedelta(hours=1)
    expected_store = {
        scheduled_job_id(behind.pk): behind_slot + timedelta(seconds=60),
        scheduled_job_id(late.pk): now - timedelta(seconds=120) + hour,
        scheduled_job_id(covered.pk): now - timedelta(seconds=2) + hour,
        scheduled_job_id(requested.pk): requested_slot + hour,
    }
    assert_store(expected_store)

    # A second leader taking the same slots (the store as it was before the pass): nothing is queued twice.
    restore_rows(before)
    run_one_pass(scheduler, 10)
    assert sorted(queue.job_ids) == expected_queue
    assert len(events_of(scheduler, EVENT_JOB_MISSED)) == 2
    assert_store(expected_store)


def test_a_sync_now_that_cannot_be_handed_over_goes_back_to_the_notice_table(handover_scheduler):
    scheduler = handover_scheduler
    queue = sync_queue()
    fabric = make_fabric('unqueueable')
    SchedulerNotice.objects.all().delete()
    assert queue_sync_now(scheduler, fabric.pk)
    # The queue's key of the wrong type: Redis refuses the enqueue (WRONGTYPE), a real failure of the hand-over.
    queue.connection.set(queue.key, 'not a list')
    try:
        run_one_pass(scheduler, 1)
    finally:
        queue.connection.delete(queue.key)

    assert [event.job_id for event in events_of(scheduler, EVENT_JOB_ERROR)] == [sync_now_job_id(fabric.pk)]
    assert list_jobs() == []
    assert not runs.has_pending_request(fabric.pk)
    assert SchedulerNotice.objects.filter(
        fabric_id=fabric.pk, action=SchedulerNoticeActionChoices.SYNC_NOW, processed__isnull=True,
    ).count() == 1
    # The slot it did not queue is free for the next leader to hand over.
    assert not queue.connection.keys(f'{SLOT_KEY_PREFIX}*')
