"""The scheduler as operators run it: real `netbox hedgehog_scheduler` processes against the test database."""

import signal
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices, SyncTriggerChoices
from netbox_hedgehog.models import HedgehogFabric, SyncRun
from netbox_hedgehog.scheduling.notices import request_sync_now
from netbox_hedgehog.scheduling.state import scheduler_state
from netbox_hedgehog.sync.runner import INTERRUPTED_MESSAGE

from .scheduler_harness import DEADLINE, jobs_by_id, terminate_backends, wait_for
from .sync_stub import stub_description

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

UNREACHABLE = 'http://127.0.0.1:9'
# "At once" next to an interval of an hour: generous for a loaded machine, still far from any scheduled slot.
AT_ONCE = timedelta(seconds=30)


def make_fabric(name, interval=3600, sync_seconds=0, **fields):
    return HedgehogFabric.objects.create(
        name=name,
        kubernetes_server=UNREACHABLE,
        sync_interval=interval,
        description=stub_description(sync_seconds),
        **fields,
    )


def runs_of(fabric, **filters):
    return list(SyncRun.objects.filter(fabric=fabric, **filters).order_by('started'))


def finished_runs(fabric, count, **filters):
    """Wait for `count` finished runs, allowing for every interval between them on top of the usual deadline."""
    return wait_for(
        lambda: len(runs := runs_of(fabric, finished__isnull=False, **filters)) >= count and runs,
        f'{count} finished run(s) of {fabric.name} {filters or ""}',
        timeout=DEADLINE + count * min(fabric.sync_interval, 60),
    )


def assert_close(actual, expected, tolerance=1.0):
    assert abs((actual - expected).total_seconds()) <= tolerance, f'{actual} is not within {tolerance} s of {expected}'


def test_check_fails_while_nothing_runs():
    with pytest.raises(SystemExit) as exit_info:
        call_command('hedgehog_scheduler', check=True)
    assert exit_info.value.code == 1


def test_fabric_lifecycle_drives_its_job(start_scheduler):
    scheduler = start_scheduler()
    scheduler.wait_until_leader()
    call_command('hedgehog_scheduler', check=True)  # passes while a leader runs

    created = timezone.now()
    fabric = make_fabric('lifecycle')
    job_id = f'fabric-sync:{fabric.pk}'
    wait_for(lambda: job_id in jobs_by_id(), 'the job of a new fabric')
    first = wait_for(lambda: runs_of(fabric), 'the first run')[0]
    assert first.trigger == SyncTriggerChoices.SCHEDULED
    assert first.started - created < AT_ONCE, 'first sync of a never-synced fabric must start at once'
    assert jobs_by_id()[job_id].interval == 3600

    # An interval edit reschedules from the latest start.
    fabric.refresh_from_db()
    fabric.sync_interval = 1800
    fabric.save()
    # The listing takes the interval from the fabric row at once; the next run time says the scheduler applied it.
    rescheduled = fabric.last_sync + timedelta(seconds=1800)
    job = wait_for(
        lambda: (job := jobs_by_id().get(job_id)) and abs((job.next_run_time - rescheduled).total_seconds()) <= 1
        and job,
        'the job rescheduled to the new interval',
    )
    assert job.interval == 1800
    assert_close(job.next_run_time, rescheduled)

    fabric.sync_enabled = False
    fabric.save()
    wait_for(lambda: job_id not in jobs_by_id(), 'the job of a disabled fabric to go')

    # Re-enabled: the job returns, keeping the phase of the latest attempt rather than running again at once.
    fabric.sync_enabled = True
    fabric.save()
    job = wait_for(lambda: jobs_by_id().get(job_id), 'the job of a re-enabled fabric')
    assert_close(job.next_run_time, fabric.last_sync + timedelta(seconds=1800))

    # "Sync now" on an idle fabric: one extra run at once, the schedule untouched.
    requested = timezone.now()
    request_sync_now(fabric)
    manual = finished_runs(fabric, 1, trigger=SyncTriggerChoices.MANUAL)
    assert manual[0].started - requested < AT_ONCE
    wait_for(lambda: f'fabric-sync-now:{fabric.pk}' not in jobs_by_id(), 'the sync-now job to be consumed')
    assert len(runs_of(fabric)) == 2
    assert jobs_by_id()[job_id].next_run_time == job.next_run_time

    fabric.delete()
    wait_for(lambda: job_id not in jobs_by_id(), 'the job of a deleted fabric to go')
    assert len(SyncRun.objects.filter(fabric_id=fabric.pk)) == 0  # cascaded
    for event in ('Added job', 'Changed job', 'Removed job', 'Run of fabric', 'Leadership acquired'):
        assert event in scheduler.log


def test_sync_now_runs_once_and_takes_turns_with_scheduled_runs(start_scheduler):
    scheduler = start_scheduler()
    scheduler.wait_until_leader()
    # Syncs of 8 s every 12 s: a "sync now" asked for during the first run keeps the fabric busy over the next slot
    # (8 s to 16 s), with 4 s to spare on each side however slowly a loaded machine starts a run.
    fabric = make_fabric('turns', interval=12, sync_seconds=8)
    wait_for(lambda: runs_of(fabric, outcome=SyncOutcomeChoices.RUNNING), 'the first scheduled run to start')
    request_sync_now(fabric)
    request_sync_now(fabric)  # still queued behind the running sync: merged into the first request

    runs = finished_runs(fabric, 4)[:4]
    assert [run.trigger for run in runs] == [
        SyncTriggerChoices.SCHEDULED, SyncTriggerChoices.MANUAL, SyncTriggerChoices.SCHEDULED,
        SyncTriggerChoices.SCHEDULED,
    ]
    for earlier, later in zip(runs, runs[1:]):
        assert later.started >= earlier.finished, 'two syncs of one fabric overlapped'
    assert len(runs_of(fabric, trigger=SyncTriggerChoices.MANUAL)) == 1
    assert 'merged' in scheduler.log


def test_restart_keeps_next_run_times_and_reconciles(start_scheduler):
    scheduler = start_scheduler()
    scheduler.wait_until_leader()
    kept = make_fabric('kept', interval=600)
    edited = make_fabric('edited', interval=600)
    deleted = make_fabric('deleted', interval=600)
    for fabric in (kept, edited, deleted):
        finished_runs(fabric, 1)
    before = wait_for(lambda: len(jobs := jobs_by_id()) == 3 and jobs, 'three jobs')

    scheduler.send(signal.SIGTERM)
    assert scheduler.wait_exit() == 0
    assert 'Scheduler stopped' in scheduler.log

    # Changes while no scheduler runs are picked up by the full reconcile at start.
    edited.refresh_from_db()
    edited.sync_interval = 900
    edited.save()
    deleted.delete()
    created = make_fabric('created-while-down', interval=600)

    restarted = start_scheduler()
    restarted.wait_for_log('Scheduling resumed')
    after = wait_for(lambda: (jobs := jobs_by_id()).get(f'fabric-sync:{created.pk}') and jobs, 'the new fabric job')
    assert after[f'fabric-sync:{kept.pk}'].next_run_time == before[f'fabric-sync:{kept.pk}'].next_run_time
    assert after[f'fabric-sync:{edited.pk}'].interval == 900
    assert_close(after[f'fabric-sync:{edited.pk}'].next_run_time, edited.last_sync + timedelta(seconds=900))
    assert f'fabric-sync:{deleted.pk}' not in after
    finished_runs(created, 1)
    assert len(runs_of(kept)) == 1


def test_one_leader_and_standby_takes_over_after_sigkill_mid_sync(start_scheduler):
    first = start_scheduler()
    first.wait_until_leader()
    second = start_scheduler()
    second.wait_for_log('Standby')
    wait_for(lambda: len(scheduler_state().standbys) == 1, 'a standby heartbeat')
    assert scheduler_state().leader.pid == first.pid

    fabric = make_fabric('killed-mid-sync', sync_seconds=600)
    wait_for(
        lambda: HedgehogFabric.objects.filter(pk=fabric.pk, sync_status=SyncStatusChoices.SYNCING).exists(),
        'the sync to be running',
    )
    assert 'Run of fabric' not in second.log, 'a standby must not run syncs'
    first.send(signal.SIGKILL)
    killed = time.monotonic()
    second.wait_until_leader(timeout=30)
    assert time.monotonic() - killed <= 10, 'the standby must take over within 10 s'
    assert len(scheduler_state().standbys) == 0

    # The new leader finds the sync the dead one left behind and records it as interrupted.
    wait_for(lambda: not runs_of(fabric, outcome=SyncOutcomeChoices.RUNNING), 'the stale run to be recovered')
    fabric.refresh_from_db()
    assert fabric.sync_status == SyncStatusChoices.ERROR
    assert fabric.sync_error == INTERRUPTED_MESSAGE
    assert runs_of(fabric)[0].outcome == SyncOutcomeChoices.INTERRUPTED
    assert f'fabric-sync:{fabric.pk}' in jobs_by_id()

    later = make_fabric('after-takeover')
    finished_runs(later, 1)
    call_command('hedgehog_scheduler', check=True)


def test_sigterm_lets_short_syncs_finish_and_marks_the_rest(start_scheduler):
    scheduler = start_scheduler(scheduler_shutdown_grace_period=4)
    scheduler.wait_until_leader()
    short = make_fabric('short', sync_seconds=2)
    long = make_fabric('long', sync_seconds=600)
    wait_for(
        lambda: HedgehogFabric.objects.filter(sync_status=SyncStatusChoices.SYNCING).count() == 2,
        'both syncs to be running',
    )
    scheduler.send(signal.SIGTERM)
    assert scheduler.wait_exit() == 0
    assert runs_of(short)[0].outcome == SyncOutcomeChoices.SUCCESS
    long.refresh_from_db()
    assert runs_of(long)[0].outcome == SyncOutcomeChoices.INTERRUPTED
    assert long.sync_status == SyncStatusChoices.ERROR
    state = scheduler_state()
    assert state.leader is None and state.lock_holder_pid is None


def test_recovers_from_terminated_connections(start_scheduler):
    scheduler = start_scheduler()
    scheduler.wait_until_leader()
    # Slots 15 s apart: getting the leadership back may take the whole heartbeat timeout (10 s) on its own.
    fabric = make_fabric('steady', interval=15)
    finished_runs(fabric, 1)

    terminated = terminate_backends(connection.settings_dict['NAME'], 'hedgehog_scheduler')
    purposes = {name for _pid, name, _ok in terminated}
    assert {'hedgehog_scheduler leader lock', 'hedgehog_scheduler listener'} <= purposes

    runs_before = len(runs_of(fabric))
    runs = finished_runs(fabric, runs_before + 3)
    # The schedule went on: no slot was skipped while the connections came back.
    starts = [run.started for run in runs[runs_before - 1:]]
    for earlier, later in zip(starts, starts[1:]):
        assert later - earlier < timedelta(seconds=2 * fabric.sync_interval - 1), f'a slot was missed at {earlier}'
    later = make_fabric('created-after-termination')
    finished_runs(later, 1)
    scheduler.wait_until_leader()
    assert scheduler.process.poll() is None
