"""
Fabrics whose API servers drip their answers cannot starve the other fabrics' schedule: each of their syncs ends
at the request deadline, so the scheduler's threads come back. Real `netbox hedgehog_scheduler` process, real
sync engine, loopback stub servers.
"""

import contextlib
import time

import pytest
from django.db import connection

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.models import HedgehogFabric, SyncRun
from netbox_hedgehog.scheduling.job_store import JOB_TABLE

from .hostile_servers import DRIP, HostileServer
from .scheduler_harness import FAST_SETTINGS, SchedulerProcess, wait_for
from .sync_fixtures import TOKEN, fabric_objects

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]

POOL_SIZE = 4
REQUEST_DEADLINE = 3
# Each dripping fabric's sync gives up after two timed-out requests (sync.listing.MAX_TIMEOUTS).
DRIPPING_SYNC_SECONDS = 2 * REQUEST_DEADLINE


@pytest.fixture
def scheduler(tmp_path):
    settings = {
        **FAST_SETTINGS,
        'scheduler_thread_pool_size': POOL_SIZE,
        'kubernetes_read_timeout': REQUEST_DEADLINE,
    }
    process = SchedulerProcess(tmp_path / 'scheduler.log', settings, extra_env={'HEDGEHOG_SYNC_STUB': ''})
    yield process
    process.stop()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')


def finished(fabric, outcome):
    return SyncRun.objects.filter(fabric=fabric, outcome=outcome, finished__isnull=False).order_by('started')


def test_four_dripping_fabrics_cannot_starve_a_healthy_one(scheduler):
    with contextlib.ExitStack() as stack:
        standin = stack.enter_context(StandinServer(objects=fabric_objects(), token=TOKEN))
        drippers = [stack.enter_context(HostileServer(DRIP)) for _ in range(POOL_SIZE)]
        scheduler.wait_until_leader()

        # As many dripping fabrics as the scheduler has threads, all syncing at once.
        hostile = [
            HedgehogFabric.objects.create(
                name=f'dripping-{index}', kubernetes_server=server.url, kubernetes_token=TOKEN, sync_interval=3600
            )
            for index, server in enumerate(drippers)
        ]
        wait_for(
            lambda: SyncRun.objects.filter(fabric__in=hostile, outcome=SyncOutcomeChoices.RUNNING).count() == POOL_SIZE,
            'every dripping fabric to be syncing',
        )
        created = time.monotonic()
        healthy = HedgehogFabric.objects.create(
            name='healthy', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_interval=5
        )

        first = wait_for(lambda: finished(healthy, SyncOutcomeChoices.SUCCESS).first(), 'a successful healthy sync')
        waited = time.monotonic() - created
        # The healthy fabric waits for a thread at most as long as a dripping sync lasts, plus start-up and its own
        # sync; a dripping server used to hold every thread for as long as it kept dripping.
        assert waited < DRIPPING_SYNC_SECONDS + 30, f'the healthy fabric waited {waited:.1f} s'
        # ... and its schedule goes on.
        runs = wait_for(
            lambda: len(runs := list(finished(healthy, SyncOutcomeChoices.SUCCESS))) >= 3 and runs,
            'three successful healthy syncs',
        )
        assert runs[0] == first

        for fabric in hostile:
            [run] = finished(fabric, SyncOutcomeChoices.FAILED)
            assert run.duration < DRIPPING_SYNC_SECONDS + 10, run.duration
            assert any('(timeout)' in error['message'] for error in run.errors), run.errors
