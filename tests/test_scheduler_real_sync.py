"""
The real sync engine driven by a real `netbox hedgehog_scheduler` process against Kubernetes API stand-ins, and the
scheduler features that only show with a process running: `hedgehog_jobs`, the REST status, polling-only mode and
the spacing of runs.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices, SyncTriggerChoices
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import HedgehogFabric, SyncRun
from netbox_hedgehog.scheduling.notices import request_sync_now

from .scheduler_harness import jobs_by_id, wait_for
from .sync_fixtures import TOKEN, expected_counts, fabric_objects, mirror_counts
from .sync_stub import stub_description

pytestmark = [pytest.mark.scheduler, pytest.mark.django_db(transaction=True)]


SCHEDULER_API = '/api/plugins/hedgehog/scheduler/'
# Long enough that two syncs started together are still listing when the other starts.
HOLD_SECONDS = 4


@pytest.fixture
def standins():
    servers = []

    def start():
        server = StandinServer(objects=fabric_objects(), token=TOKEN).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def first_finished_run(fabric):
    return wait_for(
        lambda: SyncRun.objects.filter(fabric=fabric, finished__isnull=False).first(),
        f'the first finished run of {fabric.name}',
    )


def test_real_syncs_succeed_fail_and_run_side_by_side(start_scheduler, standins, make_user, api_client_for):
    healthy, partial, rejecting = standins(), standins(), standins()
    first_kind = KINDS[0].plural
    for server in (healthy, partial):
        server.set_fault(first_kind, 'slow', delay=HOLD_SECONDS, times=1)
    partial.set_fault('vpcs', '403')
    rejecting.set_fault(None, '401')
    scheduler = start_scheduler(real_sync=True)
    scheduler.wait_until_leader()

    fabrics = {
        name: HedgehogFabric.objects.create(name=name, kubernetes_server=server.url, kubernetes_token=TOKEN)
        for name, server in (('healthy', healthy), ('partial', partial), ('rejecting', rejecting))
    }
    runs = {name: first_finished_run(fabric) for name, fabric in fabrics.items()}

    assert runs['healthy'].outcome == SyncOutcomeChoices.SUCCESS, runs['healthy'].errors
    assert runs['partial'].outcome == SyncOutcomeChoices.PARTIAL, runs['partial'].errors
    assert runs['rejecting'].outcome == SyncOutcomeChoices.FAILED, runs['rejecting'].errors
    assert all(run.trigger == SyncTriggerChoices.SCHEDULED for run in runs.values())
    assert mirror_counts(fabrics['healthy']) == expected_counts()
    assert mirror_counts(fabrics['partial']) == {**expected_counts(), 'VPC': 0}
    assert [error['kind'] for error in runs['partial'].errors] == ['VPC']
    assert '403 Forbidden' in runs['partial'].errors[0]['message']
    assert not any(mirror_counts(fabrics['rejecting']).values())
    assert '401 Unauthorized' in runs['rejecting'].errors[0]['message']
    # The two held syncs ran at the same time: each started before the other finished.
    held = (runs['healthy'], runs['partial'])
    assert max(run.started for run in held) < min(run.finished for run in held), [
        (run.started, run.finished) for run in held
    ]
    for name, fabric in fabrics.items():
        assert f'Sync of fabric {name} finished' in scheduler.log
    assert TOKEN not in scheduler.log

    # What operators look at while it runs: `hedgehog_jobs` and the REST status, with one job per fabric.
    job_ids = {f'fabric-sync:{fabric.pk}' for fabric in fabrics.values()}
    assert set(jobs_by_id()) == job_ids
    text = io.StringIO()
    call_command('hedgehog_jobs', stdout=text)
    text = text.getvalue()
    assert f':{scheduler.pid} ' in text, text
    for job_id in job_ids:
        assert job_id in text, text
    for outcome in ('success', 'partial', 'failed'):
        assert outcome in text, text
    assert 'FABRIC WITHOUT JOB' not in text
    document = io.StringIO()
    call_command('hedgehog_jobs', json=True, stdout=document)
    document = json.loads(document.getvalue())
    assert document['scheduler']['healthy'] is True
    assert document['scheduler']['leader']['pid'] == scheduler.pid
    assert {job['id'] for job in document['jobs']} == job_ids
    assert document['fabrics_without_job'] == []
    client = api_client_for(make_user('viewer', 'netbox_hedgehog.view_schedulerheartbeat'))
    status = client.get(SCHEDULER_API).json()
    assert status['running'] is True and status['job_count'] == 3, status


def test_hedgehog_jobs_without_a_scheduler():
    HedgehogFabric.objects.create(name='waiting', kubernetes_server='https://10.0.0.7:6443', kubernetes_token=TOKEN)
    HedgehogFabric.objects.create(name='switched-off', sync_enabled=False)
    text = io.StringIO()
    call_command('hedgehog_jobs', stdout=text)
    text = text.getvalue()

    assert 'No jobs in the job store.' in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith(('waiting', 'switched-off'))}
    assert 'scheduler never ran' in lines['waiting']
    assert 'sync disabled' in lines['switched-off']
    document = io.StringIO()
    call_command('hedgehog_jobs', json=True, stdout=document)
    document = json.loads(document.getvalue())
    assert document['scheduler']['healthy'] is False and document['scheduler']['leader'] is None
    assert document['jobs'] == []
    assert {item['fabric']: item['reason'] for item in document['fabrics_without_job']} == {
        'waiting': 'scheduler never ran', 'switched-off': 'sync disabled',
    }


def listener_sessions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE %s",
            [connection.settings_dict['NAME'], 'hedgehog_scheduler listener%'],
        )
        return cursor.fetchone()[0]


def test_polling_only_mode_picks_up_fabrics_and_sync_now_without_listen(start_scheduler):
    listening = start_scheduler()
    listening.wait_until_leader()
    wait_for(listener_sessions, 'the listener session of a scheduler that listens')  # what is counted exists
    listening.stop()

    scheduler = start_scheduler(scheduler_listen=False, scheduler_poll_interval=2)
    scheduler.wait_until_leader()
    fabric = HedgehogFabric.objects.create(
        name='polled', kubernetes_server='http://127.0.0.1:9', description=stub_description(0)
    )
    wait_for(lambda: SyncRun.objects.filter(fabric=fabric, finished__isnull=False).exists(), 'the first run')
    request_sync_now(fabric)
    wait_for(
        lambda: SyncRun.objects.filter(fabric=fabric, trigger=SyncTriggerChoices.MANUAL, finished__isnull=False)
        .exists(),
        'the run asked for with "sync now"',
    )
    assert listener_sessions() == 0
    assert f'fabric-sync:{fabric.pk}' in jobs_by_id()


def test_no_scheduled_run_starts_before_its_slot(start_scheduler):
    scheduler = start_scheduler()
    scheduler.wait_until_leader()
    fabric = HedgehogFabric.objects.create(
        name='spaced', kubernetes_server='http://127.0.0.1:9', sync_interval=5, description=stub_description(0)
    )
    job_id = f'fabric-sync:{fabric.pk}'

    def finished():
        return SyncRun.objects.filter(fabric=fabric, finished__isnull=False).count()

    seen = checked = 0
    while checked < 3:
        seen = wait_for(lambda: (n := finished()) > seen and n, 'the next finished run')
        slot = jobs_by_id()[job_id].next_run_time
        runs = list(SyncRun.objects.filter(fabric=fabric).order_by('started'))
        if len(runs) != seen or slot <= runs[-1].started:
            continue  # the next run started meanwhile, or the job has not moved on yet: look again
        following = wait_for(
            lambda: (later := SyncRun.objects.filter(fabric=fabric).order_by('started')[seen:seen + 1]) and later[0],
            'the run of the next slot',
        )
        assert following.started >= slot, f'run {following.pk} started at {following.started}, before its slot {slot}'
        assert following.trigger == SyncTriggerChoices.SCHEDULED
        checked += 1
