"""
Scheduler benchmark: `python -m bench.scheduler_bench` (environment as for the tests, see README.md).

Measures, against real `netbox hedgehog_scheduler` processes and a database of its own (hh_bench_sched, cloned
from the template database and migrated, dropped at the end):

1. edit -> job store latency over 200 fabric edits with LISTEN/NOTIFY, and over a few edits with only the
   polling fallback as the baseline;
2. schedule accuracy of 100 fabrics at a 10 s interval over 2 minutes: lateness of each run's start against its
   slot, missed and duplicated slots;
3. cold start with 1,000 fabrics: time until every job is in the store;
4. idle CPU and RSS of the scheduler holding those 1,000 jobs.

In the accuracy run every sync is real: the sync engine lists every Hedgehog kind from the Kubernetes API
stand-in (python -m k8s_standin, its shipped sample fabric) and applies the result. Each such sync spends most
of a second waiting on HTTP, so that run uses a larger thread pool (ACCURACY_THREAD_POOL_SIZE). `--stub-sync`
replaces the mirroring with tests.sync_stub (a no-op) to measure the scheduler alone. The latency and cold-start
runs always use the stub: they measure the job store, not syncs. Prints numbers and PASS/FAIL against the
targets; exits 1 if any target fails.
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from devtools import dbsetup

DATABASE = 'hh_bench_sched'
TEMPLATE = dbsetup.TEMPLATE_DB
NETBOX = str(Path(sys.executable).with_name('netbox'))
LOG_DIR = Path(os.environ.get('TMPDIR', '/tmp')) / 'hh_scheduler_bench'
# 100 syncs per 10 s, each most of a second long against the stand-in, need about ten at a time.
ACCURACY_THREAD_POOL_SIZE = 12

# Subprocesses and this process use the same configuration module, pointed at the benchmark database.
os.environ.update(
    HEDGEHOG_DB_NAME=DATABASE,
    NETBOX_CONFIGURATION='tests.scheduler_configuration',
)
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')


def create_database():
    dbsetup.fresh_database(DATABASE)


def drop_database():
    dbsetup.discard_database(DATABASE)


class Scheduler:
    def __init__(self, name, stub_sync=True, **settings):
        LOG_DIR.mkdir(exist_ok=True)
        self.log_path = LOG_DIR / f'{name}.log'
        env = dict(os.environ, HEDGEHOG_PLUGIN_CONFIG=json.dumps(settings), PYTHONUNBUFFERED='1')
        env['HEDGEHOG_SYNC_STUB'] = '1' if stub_sync else ''
        self.launched = datetime.now(UTC)
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [NETBOX, 'hedgehog_scheduler'], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def log_time(self, text, timeout=120):
        """Wall-clock time of the first log line containing `text` (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text().splitlines():
                if text in line:
                    return datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S,%f').replace(tzinfo=UTC)
            time.sleep(0.05)
        raise RuntimeError(f'scheduler never logged "{text}"; see {self.log_path}')

    def cpu_seconds(self):
        fields = Path(f'/proc/{self.process.pid}/stat').read_text().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def rss_mib(self):
        for line in Path(f'/proc/{self.process.pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(condition, timeout=120, message='condition', pause=0.01):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f'timed out waiting for {message}')
        time.sleep(pause)
    return result


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Report:
    def __init__(self):
        self.failed = False

    def line(self, label, value, target=None, passed=None):
        verdict = '' if passed is None else ('PASS' if passed else 'FAIL')
        self.failed |= passed is False
        target = f'(target {target})' if target else ''
        print(f'  {label:<48} {value:>14}  {target:<22} {verdict}', flush=True)


def job_store(db):
    from netbox_hedgehog.scheduling.job_store import JOB_TABLE

    def interval(job_id):
        row = db.execute(f'SELECT job_state FROM {JOB_TABLE} WHERE id = %s', [job_id]).fetchone()
        return row and int(pickle.loads(row[0])['trigger'].interval.total_seconds())

    def next_run_time(job_id):
        row = db.execute(f'SELECT next_run_time FROM {JOB_TABLE} WHERE id = %s', [job_id]).fetchone()
        return row and row[0]

    def count():
        if not db.execute('SELECT to_regclass(%s) IS NOT NULL', [JOB_TABLE]).fetchone()[0]:
            return 0  # the scheduler creates the table when it starts
        return db.execute(f'SELECT count(*) FROM {JOB_TABLE}').fetchone()[0]

    return interval, next_run_time, count


def measure_edit_latency(db, edits):
    """Seconds from each committed interval edit until the job in the store has the new interval."""
    from netbox_hedgehog.models import HedgehogFabric

    interval, _next_run_time, _count = job_store(db)
    fabric = HedgehogFabric.objects.create(
        name=f'latency-{time.monotonic_ns()}', kubernetes_server='http://127.0.0.1:9', sync_interval=3600
    )
    job_id = f'fabric-sync:{fabric.pk}'
    wait_for(lambda: interval(job_id) == 3600, message='the job')
    latencies = []
    for edit in range(edits):
        # Fresh from the database, as an edit form would load it (the sync updates the fabric's state meanwhile).
        fabric.refresh_from_db()
        fabric.sync_interval = 3600 + (edit % 2 + 1) * 60
        fabric.save()  # autocommit: the change, its notice and the NOTIFY are committed when save() returns
        committed = time.perf_counter()
        wait_for(lambda: interval(job_id) == fabric.sync_interval, timeout=60, message='the job store change',
                 pause=0.002)
        latencies.append(time.perf_counter() - committed)
    fabric.delete()
    return latencies


def bench_latency(report, db):
    print('Edit -> job store latency', flush=True)
    for name, edits, settings in (
        ('LISTEN/NOTIFY', 200, {'scheduler_listen': True}),
        ('polling fallback (baseline)', 20, {'scheduler_listen': False}),
    ):
        scheduler = Scheduler(f'latency-{settings["scheduler_listen"]}', **settings)
        try:
            scheduler.log_time('Scheduling resumed')
            latencies = measure_edit_latency(db, edits)
        finally:
            scheduler.stop()
        is_listen = settings['scheduler_listen']
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        report.line(f'{name}: p50 over {edits} edits', f'{p50:.1f} ms', '<= 100 ms' if is_listen else None,
                    p50 <= 100 if is_listen else None)
        report.line(f'{name}: p99', f'{p99:.1f} ms', '<= 500 ms' if is_listen else None,
                    p99 <= 500 if is_listen else None)


class StandIn:
    """The Kubernetes API stand-in in a process of its own."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'k8s_standin', '--port', '0', '--log-level', 'warning'],
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.url = self.process.stdout.readline().split()[-1]

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def bench_accuracy(report, db, stub_sync, fabrics=100, interval=10, window=120):
    from netbox_hedgehog.models import HedgehogFabric, SyncRun

    work = 'no-op stub' if stub_sync else 'real syncs against the stand-in'
    print(f'Schedule accuracy: {fabrics} fabrics every {interval} s for {window} s, {work}', flush=True)
    _interval, next_run_time, _count = job_store(db)
    standin = None if stub_sync else StandIn()
    server = 'http://127.0.0.1:9' if stub_sync else standin.url
    settings = {} if stub_sync else {'scheduler_thread_pool_size': ACCURACY_THREAD_POOL_SIZE}
    scheduler = Scheduler('accuracy', stub_sync=stub_sync, **settings)
    try:
        scheduler.log_time('Scheduling resumed')
        created = []
        # Fabrics arrive spread over one interval, as they would in real life, not all in the same millisecond.
        for number in range(fabrics):
            created.append(HedgehogFabric.objects.create(
                name=f'accuracy-{number}', kubernetes_server=server, sync_interval=interval
            ))
            time.sleep(interval / fabrics)
        # Each job's next slot after its first run anchors the grid of slots it must hit from then on.
        anchors = {}
        for fabric in created:
            first = wait_for(lambda: SyncRun.objects.filter(fabric=fabric).exists(), message='first run')
            assert first
            anchors[fabric.pk] = wait_for(lambda: next_run_time(f'fabric-sync:{fabric.pk}'), message='job')
        window_start = max(anchors.values())
        window_end = window_start + window
        while time.time() < window_end + interval:
            time.sleep(0.5)
    finally:
        scheduler.stop()
        if standin is not None:
            standin.stop()

    outcomes = SyncRun.objects.filter(fabric__in=created).values_list('outcome', flat=True)
    report.line('runs that succeeded', f'{list(outcomes).count("success")} of {len(outcomes)}')
    lateness, missed, duplicated, slots = [], 0, 0, 0
    for fabric in created:
        starts = [
            run.started.timestamp() for run in SyncRun.objects.filter(fabric=fabric, trigger='scheduled')
        ]
        slot = anchors[fabric.pk]
        while slot < window_end:
            if slot >= window_start:
                slots += 1
                hits = [start for start in starts if slot <= start < slot + interval]
                missed += not hits
                duplicated += max(len(hits) - 1, 0)
                if hits:
                    lateness.append(min(hits) - slot)
            slot += interval
    HedgehogFabric.objects.filter(pk__in=[fabric.pk for fabric in created]).delete()
    p50, p99 = percentile(lateness, 0.5) * 1000, percentile(lateness, 0.99) * 1000
    report.line(f'slots checked ({fabrics} fabrics x {window // interval})', str(slots))
    report.line('run start lateness p50', f'{p50:.1f} ms')
    report.line('run start lateness p99', f'{p99:.1f} ms', '<= 500 ms', p99 <= 500)
    report.line('missed slots', str(missed), '0', missed == 0)
    report.line('duplicated runs', str(duplicated), '0', duplicated == 0)


def bench_cold_start_and_idle(report, db, fabrics=1000, idle_seconds=30):
    from django.utils import timezone

    from netbox_hedgehog.models import HedgehogFabric

    print(f'Cold start with {fabrics} fabrics, then idle', flush=True)
    _interval, _next_run_time, count = job_store(db)
    db.execute('DROP TABLE IF EXISTS hedgehog_scheduler_jobs')
    now = timezone.now()
    # Recently synced, so that the start-up does not also run 1,000 syncs at once; bulk_create writes no notices,
    # so only the full reconcile at start can find them.
    HedgehogFabric.objects.bulk_create([
        HedgehogFabric(
            name=f'cold-{number}', kubernetes_server='http://127.0.0.1:9', sync_interval=3600,
            last_sync=now - timedelta(seconds=number),
        )
        for number in range(fabrics)
    ])
    scheduler = Scheduler('cold-start')
    try:
        started = scheduler.log_time('Scheduler starting')
        wait_for(lambda: count() >= fabrics, message='every job in the store')
        seconds = (datetime.now(UTC) - started).total_seconds()
        report.line('process and Django boot (not counted)', f'{(started - scheduler.launched).total_seconds():.2f} s')
        report.line(f'scheduler start -> {fabrics} jobs in store', f'{seconds:.2f} s', '<= 5 s', seconds <= 5)

        scheduler.log_time('Scheduling resumed')
        cpu_before, wall_before = scheduler.cpu_seconds(), time.monotonic()
        time.sleep(idle_seconds)
        cpu = (scheduler.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
        report.line(f'idle CPU with {fabrics} jobs', f'{cpu:.2f} %')
        report.line('idle RSS', f'{scheduler.rss_mib():.0f} MiB')
    finally:
        scheduler.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--keep-db', action='store_true', help=f'keep the {DATABASE} database afterwards')
    parser.add_argument('--stub-sync', action='store_true', help='accuracy run with no-op syncs (no stand-in)')
    args = parser.parse_args()

    print(f'Preparing database {DATABASE} from {TEMPLATE}...', flush=True)
    create_database()
    import django

    django.setup()
    from django.db import connection

    report = Report()
    try:
        with psycopg.connect(**{
            key: value for key, value in connection.get_connection_params().items()
            if key not in ('context', 'cursor_factory', 'prepare_threshold')
        }, autocommit=True) as db:
            bench_latency(report, db)
            bench_accuracy(report, db, args.stub_sync)
            bench_cold_start_and_idle(report, db)
    finally:
        connection.close()
        if not args.keep_db:
            drop_database()
    print('RESULT:', 'FAIL' if report.failed else 'PASS', f'(logs in {LOG_DIR})')
    sys.exit(1 if report.failed else 0)


if __name__ == '__main__':
    main()
