"""
A real PostgreSQL restart under a running scheduler, in the middle of a sync, on a private cluster (never the
shared server): the scheduler recovers in the same process, loses no notice, runs the slots that fell due during
the outage once (coalesced), and leaves no fabric syncing.
"""

import pickle
import signal
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from netbox_hedgehog.choices import (
    SchedulerNoticeActionChoices,
    SchedulerRoleChoices,
    SyncOutcomeChoices,
    SyncStatusChoices,
    SyncTriggerChoices,
)
from netbox_hedgehog.models import HedgehogFabric, SchedulerHeartbeat, SchedulerNotice, SyncRun
from netbox_hedgehog.scheduling.notices import NOTIFY_CHANNEL
from scheduler_worker.store import JOB_TABLE

from .private_postgres import PrivateCluster
from .scheduler_harness import FAST_SETTINGS, SchedulerProcess, wait_for
from .test_scheduler_service import make_fabric

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

RUNS = SyncRun._meta.db_table
FABRICS = HedgehogFabric._meta.db_table
NOTICES = SchedulerNotice._meta.db_table
HEARTBEATS = SchedulerHeartbeat._meta.db_table
QUICK_INTERVAL = 3


def logged_at(line):
    """The time of a log line of a scheduler process (NetBox's format; the configuration's TIME_ZONE is UTC)."""
    return datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S,%f').replace(tzinfo=UTC)


@pytest.fixture
def private_cluster(transactional_db):
    # A short path: the cluster's Unix socket lives in it, and socket paths are limited to ~100 characters.
    cluster = PrivateCluster(tempfile.mkdtemp(prefix='hhpg-'))
    try:
        yield cluster
    finally:
        cluster.destroy()


def test_a_postgresql_restart_mid_sync_loses_nothing(private_cluster, tmp_path):
    cluster = private_cluster
    recently = timezone.now()
    quick = make_fabric('pg-quick', interval=QUICK_INTERVAL)
    # Never synced: its first run starts at once and is still running when the database goes away.
    slow = make_fabric('pg-slow', interval=3600, sync_seconds=15)
    # Synced just now, so only the notices below run them.
    before = make_fabric('pg-before', interval=3600, last_sync=recently, sync_status=SyncStatusChoices.IN_SYNC)
    after = make_fabric('pg-after', interval=3600, last_sync=recently, sync_status=SyncStatusChoices.IN_SYNC)
    cluster.create()

    def runs(fabric, *conditions, since=None, params=()):
        where = ' AND '.join(('fabric_id = %s', 'started > %s', *conditions))
        return cluster.query(
            f'SELECT started, outcome, trigger FROM {RUNS} WHERE {where} ORDER BY started',
            [fabric.pk, since or recently - timedelta(days=1), *params],
        )

    def leading(pid):
        return cluster.query(
            f"SELECT 1 FROM {HEARTBEATS} WHERE pid = %s AND role = %s AND last_beat > now() - interval '10 s'",
            [pid, SchedulerRoleChoices.LEADER],
        )

    def notify_sync_now(fabric):
        with cluster.connect() as conn, conn.transaction():
            notice = conn.execute(
                f'INSERT INTO {NOTICES} (fabric_id, action, created) VALUES (%s, %s, now()) RETURNING id',
                [fabric.pk, SchedulerNoticeActionChoices.SYNC_NOW],
            ).fetchone()[0]
            conn.execute('SELECT pg_notify(%s, %s)', [NOTIFY_CHANNEL, str(notice)])

    scheduler = SchedulerProcess(tmp_path / 'scheduler.log', FAST_SETTINGS, extra_env=cluster.environment())
    try:
        wait_for(lambda: leading(scheduler.pid), 'the scheduler to lead on the private cluster')
        wait_for(lambda: runs(slow, "outcome = 'running'"), 'the slow sync to start')
        wait_for(lambda: runs(quick, 'finished IS NOT NULL'), 'a first quick run')
        trigger = pickle.loads(
            cluster.query(f'SELECT job_state FROM {JOB_TABLE} WHERE id = %s', [f'fabric-sync:{quick.pk}'])[0][0]
        )['trigger']
        anchor, interval = trigger.start_date, trigger.interval

        # A notice committed just before the restart: applied before it or after it, but applied. Its run may be
        # the one the restart cuts off (then recorded as interrupted, like any sync in progress), or run after.
        notify_sync_now(before)
        cluster.stop()
        stopped = time.monotonic()
        scheduler.wait_for_log('Leadership lost')
        # Let at least two of the quick fabric's slots fall due while the database is down.
        wait_for(lambda: time.monotonic() - stopped > 2 * QUICK_INTERVAL + 1, 'two slots to fall due')
        cluster.start()
        restarted = timezone.now()
        # Written while the scheduler is still reconnecting (its LISTEN session is gone): found by the poll.
        notify_sync_now(after)

        wait_for(lambda: leading(scheduler.pid), 'the same scheduler process to lead again')
        assert scheduler.process.poll() is None
        wait_for(lambda: runs(before, "outcome <> 'running'", "trigger = 'manual'"), 'the notice from before')
        wait_for(lambda: runs(after, "outcome = 'success'", "trigger = 'manual'"), 'the notice from after')
        wait_for(lambda: runs(slow, "outcome = 'interrupted'"), 'the cut-off sync to be marked interrupted')
        wait_for(
            lambda: len(runs(quick, 'finished IS NOT NULL', since=restarted)) >= 2,
            'two quick runs after the restart',
        )
    finally:
        if scheduler.process.poll() is None:
            scheduler.send(signal.SIGTERM)
        scheduler.wait_exit()
        scheduler.print_log_tail()

    # The slots missed during the outage ran once, coalesced: on the job's grid of slots, no slot's window holds
    # two runs (separate runs of the missed slots would all start right after the recovery, in one window), and
    # the missed slots did run, within an interval of scheduling resuming.
    windows = Counter((started - anchor) // interval for started, _, _ in runs(quick))
    assert max(windows.values()) == 1, windows
    resumed = [logged_at(line) for line in scheduler.log.splitlines() if 'Scheduling resumed' in line][-1]
    assert runs(quick, 'started < %s', params=[resumed + interval], since=resumed)
    # Every notice was applied once; nothing is left running or syncing.
    assert len(runs(before, "trigger = 'manual'")) == 1
    assert len(runs(after, "trigger = 'manual'")) == 1
    assert not cluster.query(f'SELECT id FROM {NOTICES} WHERE processed IS NULL')
    assert not cluster.query(f"SELECT id FROM {RUNS} WHERE outcome = %s", [SyncOutcomeChoices.RUNNING])
    assert not cluster.query(f'SELECT id FROM {FABRICS} WHERE sync_status = %s', [SyncStatusChoices.SYNCING])
    assert [outcome for _, outcome, _ in runs(slow)] == [SyncOutcomeChoices.INTERRUPTED]
    assert all(trigger == SyncTriggerChoices.SCHEDULED for _, _, trigger in runs(quick))
