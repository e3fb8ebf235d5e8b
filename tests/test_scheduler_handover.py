"""
No run is lost when the scheduler stops or leadership moves: real `netbox hedgehog_scheduler` processes.

A "sync now" still waiting for its turn when the scheduler gets SIGTERM runs after the restart, once. A scheduled
slot that the old leader took off the job store but never started runs, late, right after a standby takes over. A
"sync now" that cannot be handed back while the database is unreachable is kept until it can be.
"""

import logging
import signal
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from netbox_hedgehog.choices import SchedulerNoticeActionChoices, SyncOutcomeChoices, SyncTriggerChoices
from netbox_hedgehog.models import HedgehogFabric, SchedulerNotice, SyncRun
from netbox_hedgehog.scheduling.job_ids import scheduled_job_id, sync_now_job_id
from netbox_hedgehog.scheduling.notices import request_sync_now
from netbox_hedgehog.scheduling.state import scheduler_state
from netbox_hedgehog.sync import SyncNotStarted, sync_fabric
from netbox_hedgehog.sync.queued import run_queued_sync
from scheduler_worker.config import SchedulerSettings
from scheduler_worker.jobs import requeue_sync_now, runs
from scheduler_worker.service import SchedulerService

from .scheduler_harness import jobs_by_id, wait_for
from .sync_stub import stub_description
from .test_scheduler_service import make_fabric

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

UNREACHABLE = 'http://127.0.0.1:9'


def runs_of(fabric, **filters):
    return list(SyncRun.objects.filter(fabric=fabric, **filters).order_by('started'))


def pending_sync_now(fabric):
    return SchedulerNotice.objects.filter(
        fabric_id=fabric.pk, action=SchedulerNoticeActionChoices.SYNC_NOW, processed__isnull=True
    ).exists()


def test_sync_now_waiting_at_sigterm_runs_after_the_restart(start_scheduler):
    # The grace period lets the running sync (15 s) finish; the "sync now" behind it is still waiting at SIGTERM.
    scheduler = start_scheduler(scheduler_shutdown_grace_period=60)
    scheduler.wait_until_leader()
    fabric = HedgehogFabric.objects.create(
        name='waiting-request', kubernetes_server=UNREACHABLE, sync_interval=3600, description=stub_description(15)
    )
    wait_for(lambda: runs_of(fabric, outcome=SyncOutcomeChoices.RUNNING), 'the scheduled run to start')
    request_sync_now(fabric)
    scheduler.wait_for_log(f'Added job {sync_now_job_id(fabric.pk)}')
    # Taken off the job store by APScheduler and waiting for the fabric's turn: only this process knows of it.
    wait_for(lambda: sync_now_job_id(fabric.pk) not in jobs_by_id(), 'the request to wait for its turn')
    assert not pending_sync_now(fabric)

    scheduler.send(signal.SIGTERM)
    assert scheduler.wait_exit() == 0
    assert runs_of(fabric, trigger=SyncTriggerChoices.MANUAL) == []
    assert runs_of(fabric)[0].outcome == SyncOutcomeChoices.SUCCESS
    assert pending_sync_now(fabric), 'the request was not handed back before the scheduler exited'
    assert 'handed back to the notice table' in scheduler.log

    restarted = start_scheduler()
    restarted.wait_until_leader()
    manual = wait_for(
        lambda: runs_of(fabric, trigger=SyncTriggerChoices.MANUAL, finished__isnull=False),
        'the request to run after the restart',
    )
    wait_for(
        lambda: not pending_sync_now(fabric) and sync_now_job_id(fabric.pk) not in jobs_by_id(),
        'no request left anywhere',
    )
    assert len(runs_of(fabric, trigger=SyncTriggerChoices.MANUAL)) == 1
    assert manual[0].outcome == SyncOutcomeChoices.SUCCESS


def test_slot_due_during_handover_runs_late_after_takeover(start_scheduler):
    first = start_scheduler()
    first.wait_until_leader()
    second = start_scheduler()
    second.wait_for_log('Standby')
    wait_for(lambda: len(scheduler_state().standbys) == 1, 'a standby heartbeat')

    # The first slot falls due 20 s from now, while a long "sync now" holds the fabric: the old leader takes the slot
    # off the job store, and its run waits for the fabric's turn when the leader dies.
    interval = 120
    fabric = HedgehogFabric.objects.create(
        name='handover', kubernetes_server=UNREACHABLE, sync_interval=interval, description=stub_description(600),
        last_sync=timezone.now() - timedelta(seconds=interval - 20),
    )
    request_sync_now(fabric)
    wait_for(lambda: runs_of(fabric, outcome=SyncOutcomeChoices.RUNNING), 'the sync now to start')
    job_id = scheduled_job_id(fabric.pk)
    slot = wait_for(lambda: jobs_by_id().get(job_id), 'the scheduled job').next_run_time
    advanced = wait_for(
        lambda: (job := jobs_by_id().get(job_id)) and job.next_run_time > slot and job.next_run_time,
        'the old leader to take the slot off the job store',
    )
    assert not runs_of(fabric, trigger=SyncTriggerChoices.SCHEDULED)
    first.send(signal.SIGKILL)
    first.wait_exit()

    second.wait_until_leader()
    scheduled = wait_for(
        lambda: runs_of(fabric, trigger=SyncTriggerChoices.SCHEDULED), 'the missed slot to run on the new leader'
    )
    assert scheduled[0].started < advanced, 'the slot was lost: it only ran at the next one'
    assert scheduled[0].started > slot
    assert 'never started' in second.log
    # The interrupted "sync now" of the dead leader is recorded as such; the schedule goes on from the late run.
    assert runs_of(fabric, trigger=SyncTriggerChoices.MANUAL)[0].outcome == SyncOutcomeChoices.INTERRUPTED
    assert jobs_by_id()[job_id].next_run_time > scheduled[0].started


def closed_port():
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class WithoutTheDatabase(threading.Thread):
    """
    Calls `function(*args)` in a thread whose own database connection points at a port where no database answers
    (a real connection failure, as during a PostgreSQL restart) until restore() points it back.
    """

    def __init__(self, function, *args):
        super().__init__()
        self.function, self.args = function, args
        self.reachable = connection.settings_dict
        self.unreachable = {**self.reachable, 'HOST': '127.0.0.1', 'PORT': closed_port()}
        self.connection = None
        self.outcome = []

    def run(self):
        self.connection = connections['default']  # this thread's own connection, not the proxy
        self.connection.settings_dict = self.unreachable
        try:
            self.outcome.append(self.function(*self.args))
        except Exception as exc:
            self.outcome.append(exc)
        finally:
            self.connection.close()

    def restore(self):
        """The database answers the thread again."""
        self.connection.settings_dict = self.reachable

    def result(self, timeout=60):
        """What the function returned, or the exception it raised."""
        self.join(timeout=timeout)
        return self.outcome[0]


def without_the_database(function, *args):
    call = WithoutTheDatabase(function, *args)
    call.start()
    return call.result()


def test_a_sync_that_cannot_reach_the_database_says_it_never_started(transactional_db):
    fabric = make_fabric('no-database')
    assert isinstance(without_the_database(sync_fabric, fabric.pk, SyncTriggerChoices.MANUAL), SyncNotStarted)
    assert not SyncRun.objects.filter(fabric=fabric).exists()


def test_a_sync_now_that_cannot_be_handed_back_is_kept_until_the_database_answers(transactional_db):
    fabric = make_fabric('hand-back')
    assert without_the_database(requeue_sync_now, fabric.pk) is False
    assert not pending_sync_now(fabric)

    # The service writes what it kept as soon as the database answers (it tries on every poll and on leading).
    SchedulerService(SchedulerSettings.from_plugin_config()).hand_on_undelivered()
    assert pending_sync_now(fabric)
    assert runs.take_undelivered() == set()


def test_a_queued_sync_now_waits_for_the_database_to_come_back(transactional_db):
    """On an RQ worker, a "sync now" that finds the database gone retries until it is back, then runs once."""
    fabric = make_fabric('queued-no-database')
    waiting = threading.Event()

    class WaitingForTheDatabase(logging.Handler):
        def emit(self, record):
            if 'waiting for the database' in record.getMessage():
                waiting.set()

    handler = WaitingForTheDatabase()
    logging.getLogger('netbox_hedgehog.sync').addHandler(handler)
    try:
        worker = WithoutTheDatabase(run_queued_sync, fabric.pk, SyncTriggerChoices.MANUAL, time.time())
        worker.start()
        assert waiting.wait(timeout=60)
        worker.restore()
        outcome = worker.result(timeout=120)
    finally:
        logging.getLogger('netbox_hedgehog.sync').removeHandler(handler)
    assert outcome is not None and not isinstance(outcome, Exception), outcome
    assert [run.trigger for run in runs_of(fabric)] == [SyncTriggerChoices.MANUAL]
