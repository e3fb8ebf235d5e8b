"""
sync_executor = "rq": a real scheduler process hands due runs to real `netbox rqworker netbox_hedgehog.sync`
processes through the tasks Redis database.
"""

import io
import re
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone
from rq.worker import SimpleWorker

from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices, SyncTriggerChoices
from netbox_hedgehog.models import HedgehogFabric, SchedulerNotice, SyncRun
from netbox_hedgehog.scheduling.notices import request_sync_now
from netbox_hedgehog.sync.queued import HandOver, hand_over, rq_job_id, sync_queue

from .rq_harness import STARTUP_DEADLINE
from .scheduler_harness import DEADLINE, jobs_by_id, wait_for
from .sync_stub import stub_description
from .test_scheduler_service import finished_runs, make_fabric, runs_of

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

HANDED_OVER = re.compile(r'Run of fabric (\d+) due (\S+ \S+) handed to the RQ queue as (\S+)')
WORKER_STARTED = re.compile(r'Queued run of fabric (\d+) \((\w+), due (\S+)\) started')
WORKER_SKIPPED = re.compile(r'Queued run of fabric (\d+) \((\w+)\) skipped')
NO_WORKER = 'no RQ worker serves the queue netbox_hedgehog.sync'


def queue_is_idle():
    queue = sync_queue()
    return queue.count == 0 and queue.started_job_registry.count == 0


def check_output():
    """(exit code, output) of `netbox hedgehog_scheduler --check` in this process."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command('hedgehog_scheduler', check=True, stdout=out, stderr=err)
    except SystemExit as exit_info:
        return exit_info.code, err.getvalue()
    return 0, out.getvalue()


def jobs_output():
    out = io.StringIO()
    call_command('hedgehog_jobs', stdout=out)
    return out.getvalue()


def test_a_slot_is_queued_once_and_a_waiting_run_covers_later_slots(rq_executor):
    """hand_over() alone, against the real Redis; fabrics 7 and 8 do not exist, so a worker skips their runs."""
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = slot + timedelta(seconds=60)
    queue = sync_queue()

    assert hand_over(7, SyncTriggerChoices.SCHEDULED, slot, 60) == (
        HandOver.QUEUED, rq_job_id(7, SyncTriggerChoices.SCHEDULED, slot)
    )
    # The same slot again (a new leader firing what the old one fired): nothing new.
    assert hand_over(7, SyncTriggerChoices.SCHEDULED, slot, 60)[0] == HandOver.DUPLICATE
    # A later slot, and a "sync now", while the first run still waits: covered by it.
    assert hand_over(7, SyncTriggerChoices.SCHEDULED, later, 60)[0] == HandOver.COALESCED
    assert hand_over(7, SyncTriggerChoices.MANUAL, later, None)[0] == HandOver.COALESCED
    # Another fabric has its own run.
    assert hand_over(8, SyncTriggerChoices.SCHEDULED, slot, 60)[0] == HandOver.QUEUED
    assert queue.count == 2
    assert sorted(queue.job_ids) == sorted([
        rq_job_id(7, SyncTriggerChoices.SCHEDULED, slot), rq_job_id(8, SyncTriggerChoices.SCHEDULED, slot),
    ])

    # Once a worker has taken the waiting runs, the next slot gets a run of its own; the old slot stays done.
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.count == 0
    assert hand_over(7, SyncTriggerChoices.SCHEDULED, later, 60)[0] == HandOver.QUEUED
    assert hand_over(7, SyncTriggerChoices.SCHEDULED, slot, 60)[0] != HandOver.QUEUED


def test_every_slot_runs_exactly_once_across_two_workers(start_scheduler, start_worker):
    workers = [start_worker(), start_worker()]
    scheduler = start_scheduler(sync_executor='rq')
    for worker in workers:
        worker.wait_until_registered()
    scheduler.wait_until_leader(STARTUP_DEADLINE)
    fabrics = [make_fabric(f'rq-{index}', interval=4, sync_seconds=1) for index in range(4)]
    for fabric in fabrics:
        finished_runs(fabric, 4)

    scheduler.send(signal.SIGTERM)
    scheduler.wait_exit()
    wait_for(queue_is_idle, 'the queue to drain')
    wait_for(lambda: not SyncRun.objects.filter(outcome=SyncOutcomeChoices.RUNNING).exists(), 'the last runs to end')

    handed = {(int(fabric), slot, job) for fabric, slot, job in HANDED_OVER.findall(scheduler.log)}
    started = [match for worker in workers for match in WORKER_STARTED.findall(worker.log)]
    skipped = [match for worker in workers for match in WORKER_SKIPPED.findall(worker.log)]
    # Each slot was handed over once and started on exactly one worker.
    assert len({(fabric, slot) for fabric, slot, _ in handed}) == len(handed)
    assert len(started) == len(handed), (started, handed)
    assert len(set(started)) == len(started), Counter(started).most_common(3)
    assert all(WORKER_STARTED.search(worker.log) for worker in workers), 'both workers should have taken runs'
    # And every start is one run record (none is lost, none doubled).
    for fabric in fabrics:
        starts = sum(1 for fabric_id, _, _ in started if int(fabric_id) == fabric.pk)
        skips = sum(1 for fabric_id, _ in skipped if int(fabric_id) == fabric.pk)
        assert SyncRun.objects.filter(fabric=fabric).count() == starts - skips
        assert SyncRun.objects.filter(fabric=fabric, outcome=SyncOutcomeChoices.SUCCESS).count() >= 4


def test_sync_now_runs_exactly_once_on_the_workers(start_scheduler, start_worker):
    workers = [start_worker(), start_worker()]
    scheduler = start_scheduler(sync_executor='rq')
    for worker in workers:
        worker.wait_until_registered()
    scheduler.wait_until_leader(STARTUP_DEADLINE)
    fabric = make_fabric('rq-now', interval=3600)
    finished_runs(fabric, 1)
    wait_for(queue_is_idle, 'the first run to leave the queue')

    for expected in (1, 2):
        # With the workers paused, the first request's run cannot have started when the second is handed over, so
        # the second is merged into it (a request made once a run started gets its own run). A paused worker may
        # hold the job already (Redis hands it to its blocking pop), but it stays queued until the worker resumes.
        for worker in workers:
            worker.pause()
        request_sync_now(fabric)
        request_sync_now(fabric)
        wait_for(
            lambda: not SchedulerNotice.objects.filter(fabric_id=fabric.pk, processed__isnull=True).exists()
            and f'fabric-sync-now:{fabric.pk}' not in jobs_by_id(),
            'both requests to be handed over',
        )
        for worker in workers:
            worker.resume()
        finished_runs(fabric, expected, trigger=SyncTriggerChoices.MANUAL)
        wait_for(
            lambda: queue_is_idle() and f'fabric-sync-now:{fabric.pk}' not in jobs_by_id(),
            'the request to be consumed and the queue idle',
        )
        assert len(runs_of(fabric, trigger=SyncTriggerChoices.MANUAL)) == expected
    assert len(runs_of(fabric, trigger=SyncTriggerChoices.SCHEDULED)) == 1


def test_without_a_worker_runs_coalesce_and_every_status_says_so(start_scheduler, start_worker, admin_client):
    scheduler = start_scheduler(sync_executor='rq')
    scheduler.wait_until_leader(STARTUP_DEADLINE)
    fabrics = [make_fabric(f'rq-idle-{index}', interval=2) for index in range(2)]

    # Slot after slot falls due; each fabric keeps exactly one run waiting.
    for fabric in fabrics:
        scheduler.wait_for_log(f'Run of fabric {fabric.pk} due ')
        wait_for(
            lambda fabric=fabric: scheduler.log.count(f'Run of fabric {fabric.pk} due ') >= 4,
            f'several slots of {fabric.name}', timeout=DEADLINE,
        )
    queue = sync_queue()
    assert queue.count == 2
    assert sorted(int(job_id.split('-')[2]) for job_id in queue.job_ids) == sorted(fabric.pk for fabric in fabrics)
    assert 'merged into its run still waiting in the queue' in scheduler.log
    assert not SyncRun.objects.exists()

    code, output = check_output()
    assert code == 1 and NO_WORKER in output
    assert NO_WORKER in jobs_output()
    page = admin_client.get('/plugins/hedgehog/scheduler/')
    assert page.status_code == 200 and NO_WORKER in page.content.decode()

    worker = start_worker()
    worker.wait_until_registered()
    for fabric in fabrics:
        finished_runs(fabric, 1)
    code, output = check_output()
    assert code == 0 and '1 RQ worker(s)' in output, output
    assert NO_WORKER not in jobs_output()


def test_a_worker_killed_mid_sync_leaves_nothing_syncing(start_scheduler, start_worker):
    first = start_worker()
    scheduler = start_scheduler(sync_executor='rq', scheduler_heartbeat_timeout=30)
    first.wait_until_registered()
    scheduler.wait_until_leader(STARTUP_DEADLINE)
    fabric = make_fabric('rq-killed', interval=5, sync_seconds=600)
    stuck = wait_for(lambda: runs_of(fabric, outcome=SyncOutcomeChoices.RUNNING), 'the long sync to start')[0]

    first.kill()
    # The leader marks the run within scheduler_heartbeat_timeout.
    wait_for(
        lambda: SyncRun.objects.get(pk=stuck.pk).outcome == SyncOutcomeChoices.INTERRUPTED
        and HedgehogFabric.objects.get(pk=fabric.pk).sync_status != SyncStatusChoices.SYNCING,
        'the killed run to be marked interrupted', timeout=30,
    )
    assert HedgehogFabric.objects.get(pk=fabric.pk).sync_status == SyncStatusChoices.ERROR

    # The next slot runs normally on another worker.
    HedgehogFabric.objects.filter(pk=fabric.pk).update(description=stub_description(0))
    after = timezone.now()
    start_worker().wait_until_registered()
    wait_for(
        lambda: runs_of(fabric, outcome=SyncOutcomeChoices.SUCCESS, started__gte=after - timedelta(seconds=1)),
        'a successful run on the new worker',
    )
    wait_for(
        lambda: HedgehogFabric.objects.get(pk=fabric.pk).sync_status == SyncStatusChoices.IN_SYNC,
        'the fabric to be in sync again',
    )


def test_switching_the_executor_takes_a_restart_and_keeps_the_jobs(start_scheduler, start_worker):
    threaded = start_scheduler()
    worker = start_worker()
    threaded.wait_until_leader(STARTUP_DEADLINE)
    fabric = make_fabric('rq-switch', interval=3600)
    finished_runs(fabric, 1)
    job = wait_for(lambda: jobs_by_id().get(f'fabric-sync:{fabric.pk}'), 'the job of the fabric')
    threaded.send(signal.SIGTERM)
    threaded.wait_exit()

    queued = start_scheduler(sync_executor='rq')
    worker.wait_until_registered()
    queued.wait_until_leader(STARTUP_DEADLINE)
    queued.wait_for_log('Reconciled')
    assert jobs_by_id()[job.job_id].next_run_time == job.next_run_time
    # The store logs every row it cannot unpickle (store.FabricJobStore); the listing no longer unpickles rows.
    assert 'cannot be restored' not in queued.log

    request_sync_now(fabric)
    finished_runs(fabric, 1, trigger=SyncTriggerChoices.MANUAL)
    assert f'Queued run of fabric {fabric.pk} (manual' in worker.log
    assert not SyncRun.objects.filter(Q(fabric=fabric) & ~Q(outcome=SyncOutcomeChoices.SUCCESS)).exists()
