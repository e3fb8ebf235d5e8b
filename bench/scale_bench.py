"""
Scale benchmark of the executors: `python -m bench.scale_bench [--quick]` (environment as for the tests, see
README.md; the tasks Redis database of HEDGEHOG_REDIS_TASKS_DB is emptied of the plugin's queue).

Against real `netbox hedgehog_scheduler` and `netbox rqworker netbox_hedgehog.sync` processes and a database of
its own (hh_bench_scale, cloned from the template database and migrated, dropped at the end):

1. Throughput. FABRICS fabrics, each mirroring the stand-in's synthetic fabric of about OBJECTS objects, 1% of
   which change every interval, synced every INTERVAL s for WINDOW s, under `thread`, `rq` with one worker and
   `rq` with two workers: syncs completed per minute, run-start lateness (a run's start against its slot on the
   job's grid) p50 and p99, and the CPU of the scheduler process. Each fabric's first (full) sync happens before
   the window opens.
2. The clock's ceiling. CLOCK_FABRICS fabrics with no-op syncs at a 60 s interval under `rq`, their slots spread
   over the interval: the cold start until every job is in the store, one full reconcile of the job store with
   the fabrics (timed in this process on the same store while the leader runs), the dispatch lateness (each slot
   due in a window of CLOCK_WINDOW s after start-up catch-up, from the jobs' grids in the store, against the
   moment RQ recorded its hand-over; a slot never handed over counts as infinitely late), and the leader's CPU
   and RSS. The queue is drained by this process as fast as the leader fills it, standing for workers that always
   keep up, so every hand-over takes the full path (status check, slot marker, enqueue).
3. Run-start lateness with idle workers. LATENESS_FABRICS fabrics with no-op syncs at a 60 s interval under `rq`,
   their slots spread over the interval, and LATENESS_WORKERS idle `netbox rqworker netbox_hedgehog.sync`
   processes, for LATENESS_WINDOW s: each run's start (its SyncRun's `started`) against its slot on the job's grid,
   and that time split into the leader's hand-over (slot to the leader's log line), the queue and RQ's work horse
   (to the job function starting, from the worker's log line) and the sync's start-up (to the run record).

Full mode is the sizing run (100 fabrics x ~2,000 objects at 60 s for 5 minutes per executor; 10,000 clock
fabrics); --quick is a smaller run for a laptop or CI (see QUICK). Prints every figure with PASS/FAIL against its
target where there is one; exits 1 if any target fails.
"""

import argparse
import dataclasses
import json
import math
import os
import pickle
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.scheduler_bench import Report, Scheduler, percentile, wait_for
from devtools import dbsetup

# Another name keeps the benchmarks of several checkouts on one PostgreSQL server apart.
DATABASE = os.environ.get('HEDGEHOG_BENCH_DB_NAME', 'hh_bench_scale')
NETBOX = str(Path(sys.executable).with_name('netbox'))
LOG_DIR = Path(os.environ.get('TMPDIR', '/tmp')) / 'hh_scale_bench'
TOKEN = 'scale-bench-token'

os.environ.update(HEDGEHOG_DB_NAME=DATABASE, NETBOX_CONFIGURATION='tests.scheduler_configuration')
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')

TARGET_COLD_START_SECONDS = 10
TARGET_RECONCILE_SECONDS = 2
TARGET_DISPATCH_P99_MS = 500
TARGET_RUN_START_P99_MS = 500
# Under "rq" the leader only keeps time: its CPU must be a small fraction of the thread executor's.
TARGET_RQ_CPU_FRACTION = 0.25


# The throughput part's executors: sync_executor and the number of RQ workers.
EXECUTORS = {'thread': ('thread', 0), 'rq-1': ('rq', 1), 'rq-2': ('rq', 2)}


@dataclass(frozen=True)
class Size:
    fabrics: int
    # The stand-in's synthetic fabric (k8s_standin.synthetic); 28/560/280/560 is about 2,000 objects in all.
    synthetic: str
    interval: int
    window: int
    clock_fabrics: int
    clock_window: int
    lateness_fabrics: int
    lateness_window: int


FULL = Size(100, 'switches=28,connections=560,vpcs=280,attachments=560', 60, 300, 10_000, 180, 20, 240)
QUICK = Size(10, 'switches=8,connections=160,vpcs=80,attachments=160', 20, 60, 10_000, 70, 10, 120)
# How long the clock part leaves the leader to start and fill its store before the first slot of its fabrics.
CLOCK_START_UP = 60
# The run-start lateness part: its fabrics' interval and how many idle workers serve them.
LATENESS_INTERVAL = 60
LATENESS_WORKERS = 2
# The leader's line for each run it queued, and the work horse's when the job function starts (NetBox's log format).
HANDED_OVER_LINE = re.compile(r'^(\S+ \S+) INFO \S+: Run of fabric \d+ due .* handed to the RQ queue as (\S+)$', re.M)
HORSE_STARTED_LINE = re.compile(r'Queued run of fabric (\d+) \((\w+), due (\S+)\) started (\S+) s after its slot')


class Worker:
    def __init__(self, name, stub_sync):
        LOG_DIR.mkdir(exist_ok=True)
        self.log_path = LOG_DIR / f'{name}.log'
        env = dict(os.environ, PYTHONUNBUFFERED='1', HEDGEHOG_SYNC_STUB='1' if stub_sync else '')
        with open(self.log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [NETBOX, 'rqworker', 'netbox_hedgehog.sync', '--name', name],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        self.name = name

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class StandIn:
    """The stand-in's synthetic fabric in a process of its own, with its admin API for the 1% changes."""

    def __init__(self, sizes):
        LOG_DIR.mkdir(exist_ok=True)
        self.token_file = LOG_DIR / 'standin-token'
        self.token_file.write_text(TOKEN)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'k8s_standin', '--port', '0', '--token-file', str(self.token_file),
             '--log-level', 'warning', '--synthetic', sizes],
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )
        line = self.process.stdout.readline()
        if 'ready at' not in line:
            self.stop()
            raise RuntimeError(f'the stand-in did not start: {line!r}')
        self.url = line.rsplit(' ', 1)[1].strip()

    def admin(self, method, path, payload=None):
        request = urllib.request.Request(
            f'{self.url}/_standin/{path}', method=method,
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={'Authorization': f'Bearer {TOKEN}', 'Content-Type': 'application/json'},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def object_count(self):
        return sum(self.admin('GET', 'state')['counts'].values())

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


class Churn:
    """Changes 1% of the stand-in's objects once per interval, as a live fabric would."""

    KINDS = ('connections', 'vpcs', 'vpcattachments', 'switches')

    def __init__(self, standin, names, interval):
        self.standin, self.names, self.interval = standin, names, interval
        self.stopping = threading.Event()
        self.round = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.wait(self.interval):
            self.round += 1
            wanted = max(1, sum(len(names) for names in self.names.values()) // 100)
            for index in range(wanted):
                kind = self.KINDS[index % len(self.KINDS)]
                names = self.names[kind]
                name = names[(self.round * wanted + index) % len(names)]
                self.standin.admin('PATCH', f'objects/{kind}/default/{name}',
                                   {'annotations': {'bench/round': str(self.round)}})

    def stop(self):
        self.stopping.set()
        self.thread.join(60)


def mirrored_names():
    from netbox_hedgehog.models import VPC, Connection, Switch, VPCAttachment

    models = {'connections': Connection, 'vpcs': VPC, 'vpcattachments': VPCAttachment, 'switches': Switch}
    return {kind: sorted(set(model.objects.values_list('name', flat=True))) for kind, model in models.items()}


def delete_fabrics():
    """Each through HedgehogFabric.delete(), which removes its mirror in bulk (a queryset delete would take Django's
    collector through 200,000 mirror rows, one by one)."""
    from netbox_hedgehog.models import HedgehogFabric

    for fabric in HedgehogFabric.objects.all():
        fabric.delete()


def clear_queue():
    from netbox_hedgehog.sync.queued import SLOT_KEY_PREFIX, WAITING_KEY_PREFIX, sync_queue

    queue = sync_queue()
    redis = queue.connection
    queue.empty()
    for registry in (queue.started_job_registry, queue.finished_job_registry, queue.failed_job_registry):
        redis.delete(registry.key)
    for pattern in ('rq:job:hedgehog-sync-*', f'{SLOT_KEY_PREFIX}*', f'{WAITING_KEY_PREFIX}*'):
        for key in redis.scan_iter(match=pattern, count=1000):
            redis.delete(key)


def redis_markers():
    """(count, bytes) of the plugin's own keys in the tasks Redis database: slot markers and waiting markers."""
    from netbox_hedgehog.sync.queued import SLOT_KEY_PREFIX, WAITING_KEY_PREFIX, sync_queue

    redis = sync_queue().connection
    count = size = 0
    for prefix in (SLOT_KEY_PREFIX, WAITING_KEY_PREFIX):
        for key in redis.scan_iter(match=f'{prefix}*', count=1000):
            count += 1
            if count % 100 == 1:
                # Every 100th key's size stands for the 100.
                size += 100 * (redis.memory_usage(key) or 0)
    return count, size


def job_grid(db, fabric_ids):
    """{fabric id: (anchor, interval)}: each scheduled job's grid of slots, from its trigger in the store."""
    from scheduler_worker.store import JOB_TABLE

    grid = {}
    for job_id, state in db.execute(f'SELECT id, job_state FROM {JOB_TABLE}').fetchall():
        if job_id.startswith('fabric-sync:') and int(job_id.split(':')[1]) in fabric_ids:
            trigger = pickle.loads(state)['trigger']
            grid[int(job_id.split(':')[1])] = (trigger.start_date, trigger.interval)
    return grid


def bench_throughput(report, db, size, standin, mode, workers):
    from netbox_hedgehog.models import HedgehogFabric, SyncRun

    label = mode if mode == 'thread' else f'rq, {workers} worker(s)'
    print(f'Throughput under {label}: {size.fabrics} fabrics every {size.interval} s for {size.window} s', flush=True)
    clear_queue()
    delete_fabrics()
    db.execute('DROP TABLE IF EXISTS hedgehog_scheduler_jobs')
    token = {'kubernetes_token': TOKEN}
    fabrics = [
        HedgehogFabric.objects.create(
            name=f'scale-{number}', kubernetes_server=standin.url, sync_interval=size.interval, **token
        )
        for number in range(size.fabrics)
    ]
    ids = {fabric.pk for fabric in fabrics}
    settings = {'sync_executor': mode}
    processes = [Worker(f'bench-{mode}-{number}-{time.monotonic_ns()}', stub_sync=False) for number in range(workers)]
    scheduler = Scheduler(f'throughput-{mode}-{workers}', stub_sync=False, **settings)
    churn = None
    try:
        # Every fabric's first, full sync is not part of the window.
        wait_for(
            lambda: SyncRun.objects.filter(fabric_id__in=ids, outcome='success').values('fabric').distinct().count()
            == len(ids), timeout=1800, message='a first sync of every fabric', pause=0.5,
        )
        churn = Churn(standin, mirrored_names(), size.interval)
        tally = RedisTally() if mode == 'rq' else None
        stats_before = database_stats(db)
        opened, cpu_before = datetime.now(UTC), scheduler.cpu_seconds()
        wall_before = time.monotonic()
        time.sleep(size.window)
        cpu = (scheduler.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
        closed = datetime.now(UTC)
        stats = {key: value - stats_before[key] for key, value in database_stats(db).items()}
        redis_commands = tally.stop() if tally is not None else None
        grid = job_grid(db, ids)
    finally:
        if churn is not None:
            churn.stop()
        scheduler.stop()
        for process in processes:
            process.stop()

    runs = list(SyncRun.objects.filter(fabric_id__in=ids, started__gte=opened, started__lt=closed)
                .values_list('fabric_id', 'started', 'finished', 'outcome'))
    done = [run for run in runs if run[2] is not None and run[2] < closed]
    lateness = []
    for fabric_id, started, _, _ in runs:
        anchor, interval = grid[fabric_id]
        lateness.append(((started - anchor) % interval).total_seconds())
    outcomes = Counter(outcome for *_, outcome in runs)
    per_minute = len(done) / (size.window / 60)
    due_per_minute = size.fabrics * 60 / size.interval
    p50, p99 = percentile(lateness, 0.5) * 1000, percentile(lateness, 0.99) * 1000
    report.line(f'{label}: syncs completed per minute', f'{per_minute:.1f}', f'{due_per_minute:.0f} due')
    report.line(f'{label}: run outcomes', ', '.join(f'{key} {value}' for key, value in sorted(outcomes.items())))
    durations = [(finished - started).total_seconds() for _, started, finished, _ in done]
    report.line(f'{label}: sync duration p50 / p90',
                f'{percentile(durations, 0.5):.2f} / {percentile(durations, 0.9):.2f} s' if durations else 'none')
    report.line(f'{label}: run-start lateness p50', f'{p50:.0f} ms')
    # No target here: this part's fabrics are created within seconds, so their runs fall due in one burst a minute
    # and wait for each other. The run-start target (idle workers, slots spread) is measured by the lateness part.
    report.line(f'{label}: run-start lateness p99', f'{p99:.0f} ms')
    report.line(f'{label}: scheduler CPU', f'{cpu:.1f} %')
    # What one sync costs the shared services, all processes together (scheduler, workers), over the window.
    syncs = max(len(done), 1)
    report.line(f'{label}: PostgreSQL commits per sync', f'{stats["xact_commit"] / syncs:.0f}')
    report.line(f'{label}: PostgreSQL rows written per sync',
                f'{(stats["tup_inserted"] + stats["tup_updated"] + stats["tup_deleted"]) / syncs:.0f}')
    report.line(f'{label}: PostgreSQL rows read per sync',
                f'{(stats["tup_returned"] + stats["tup_fetched"]) / syncs:.0f}')
    if redis_commands is not None:
        report.line(f'{label}: Redis commands per sync', f'{redis_commands / syncs:.0f}')
    return cpu


DATABASE_STATS = ('xact_commit', 'tup_returned', 'tup_fetched', 'tup_inserted', 'tup_updated', 'tup_deleted')


def database_stats(db):
    """PostgreSQL's cumulative counters of the benchmark's own database (pg_stat_database)."""
    db.execute('SELECT pg_stat_clear_snapshot()')
    row = db.execute(f'SELECT {", ".join(DATABASE_STATS)} FROM pg_stat_database WHERE datname = %s',
                     [DATABASE]).fetchone()
    return dict(zip(DATABASE_STATS, row, strict=True))


class RedisTally:
    """Counts the commands the tasks Redis database receives (MONITOR, filtered to that database's number)."""

    def __init__(self):
        import redis

        from netbox_hedgehog.sync.queued import sync_queue

        pool = sync_queue().connection.connection_pool
        self.db = int(pool.connection_kwargs.get('db', 0))
        self.client = redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class, **pool.connection_kwargs))
        self.count = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        with self.client.monitor() as monitor:
            for command in monitor.listen():
                if self.stopping.is_set():
                    return
                self.count += command.get('db') == self.db

    def stop(self):
        # MONITOR blocks until the next command on the server; the workers' own polling brings one soon.
        self.stopping.set()
        self.thread.join(10)
        return self.count


class Drain:
    """
    Takes every job off the queue as soon as it is there: workers that always keep up, at no cost.

    Keeps each job's id and RQ's enqueued_at, the moment the leader handed the run over; the id names the fabric and
    the slot (queued.rq_job_id).
    """

    def __init__(self):
        from netbox_hedgehog.sync.queued import sync_queue

        self.queue = sync_queue()
        self.stopping = threading.Event()
        self.handed = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        from rq.utils import utcparse

        redis = self.queue.connection
        while not self.stopping.is_set():
            job_ids = [job_id.decode() for job_id in redis.lpop(self.queue.key, 500) or []]
            if not job_ids:
                self.stopping.wait(0.01)
                continue
            with redis.pipeline() as pipeline:
                for job_id in job_ids:
                    pipeline.hget(f'rq:job:{job_id}', 'enqueued_at')
                pipeline.delete(*(f'rq:job:{job_id}' for job_id in job_ids))
                *enqueued, _ = pipeline.execute()
            self.handed += [
                (job_id, utcparse(at.decode())) for job_id, at in zip(job_ids, enqueued, strict=True) if at
            ]

    def stop(self):
        self.stopping.set()
        self.thread.join(10)


def slots_on_grid(grid, opened, closed):
    """{RQ job id: slot} of every slot that falls due in [opened, closed), from each job's grid in the store."""
    from netbox_hedgehog.choices import SyncTriggerChoices
    from netbox_hedgehog.sync.queued import rq_job_id

    slots = {}
    for fabric_id, (anchor, interval) in grid.items():
        slot = anchor + max(0, math.ceil((opened - anchor) / interval)) * interval
        while slot < closed:
            slots[rq_job_id(fabric_id, SyncTriggerChoices.SCHEDULED, slot)] = slot
            slot += interval
    return slots


def dispatch_lateness(handed, grid, opened, closed):
    """
    Seconds from each slot due in [opened, closed) (from the job store) to its hand-over (RQ's enqueued_at), and
    how many of those slots were never handed over. The RQ job id names the fabric and the slot.
    """
    due = slots_on_grid(grid, opened, closed)
    lateness = {
        job_id: (enqueued_at - due[job_id]).total_seconds() for job_id, enqueued_at in handed if job_id in due
    }
    return list(lateness.values()), len(due.keys() - lateness.keys())


def bench_clock(report, db, size):
    from apscheduler.schedulers.background import BackgroundScheduler
    from django.utils import timezone

    from netbox_hedgehog.models import HedgehogFabric
    from scheduler_worker.connections import create_job_store_engine
    from scheduler_worker.reconcile import JobReconciler
    from scheduler_worker.store import JOB_TABLE, FabricJobStore, shut_down

    fabrics, interval = size.clock_fabrics, 60
    print(f"The clock's ceiling: {fabrics} fabrics with no-op syncs every {interval} s under rq", flush=True)
    clear_queue()
    delete_fabrics()
    db.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')
    now = timezone.now()
    # Slots spread evenly over the interval, as fabrics added over time would have them. The leader's first reconcile
    # adds every job (the store starts empty) and moves a slot already past to that moment, so that all such slots
    # would fall due together every interval. So the first slots come only CLOCK_START_UP s from now, spread over
    # the interval after that (the last syncs are set accordingly, some of them ahead of now).
    first_slots = now + timedelta(seconds=CLOCK_START_UP)
    HedgehogFabric.objects.bulk_create([
        HedgehogFabric(
            name=f'clock-{number}', kubernetes_server='http://127.0.0.1:9', sync_interval=interval,
            last_sync=first_slots + timedelta(seconds=interval * (number / fabrics - 1)),
        )
        for number in range(fabrics)
    ], batch_size=1000)
    drain = Drain()
    scheduler = Scheduler('clock', stub_sync=True, sync_executor='rq', scheduler_reconcile_interval=3600)
    try:
        started = scheduler.log_time('Scheduler starting', timeout=300)
        count = lambda: db.execute(  # noqa: E731
            f'SELECT count(*) FROM {JOB_TABLE}').fetchone()[0] if db.execute(
            'SELECT to_regclass(%s) IS NOT NULL', [JOB_TABLE]).fetchone()[0] else 0
        wait_for(lambda: count() >= fabrics, timeout=600, message='every job in the store', pause=0.05)
        cold = (datetime.now(UTC) - started).total_seconds()
        resumed = scheduler.log_time('Scheduling resumed', timeout=600)
        steady = max(resumed + timedelta(seconds=5), first_slots + timedelta(seconds=5))
        wait_for(lambda: datetime.now(UTC) > steady, timeout=600, message='steady state', pause=0.2)
        cpu_before, wall_before = scheduler.cpu_seconds(), time.monotonic()
        time.sleep(size.clock_window)
        cpu = (scheduler.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
        window_end = datetime.now(UTC)
        rss = scheduler.rss_mib()
        markers = redis_markers()

        # One full reconcile of the same store with the same fabrics, as the leader does it periodically.
        engine = create_job_store_engine(4)
        store = FabricJobStore(engine, lambda ids: None)
        keeper_scheduler = BackgroundScheduler(jobstores={'default': store}, timezone=UTC)
        keeper_scheduler.start(paused=True)
        reconcile_started = time.perf_counter()
        counts = JobReconciler(keeper_scheduler, store).reconcile_all()
        reconcile = time.perf_counter() - reconcile_started
        shut_down(keeper_scheduler)
        engine.dispose()
        # Every slot due by now was handed over (the leader keeps up, or the figures below say it did not).
        time.sleep(2)
    finally:
        scheduler.stop()
        drain.stop()

    fabric_ids = set(HedgehogFabric.objects.values_list('pk', flat=True))
    lateness, never = dispatch_lateness(drain.handed, job_grid(db, fabric_ids), steady, window_end)
    # A slot never handed over is later than any that was.
    lateness += [math.inf] * never
    p50 = percentile(lateness, 0.5) * 1000 if lateness else math.nan
    p99 = percentile(lateness, 0.99) * 1000 if lateness else math.nan
    report.line(f'cold start: {fabrics} jobs in the store', f'{cold:.2f} s', f'<= {TARGET_COLD_START_SECONDS} s',
                cold <= TARGET_COLD_START_SECONDS)
    report.line(f'full reconcile of {fabrics} fabrics ({sum(counts.values())} changes)', f'{reconcile:.2f} s',
                f'<= {TARGET_RECONCILE_SECONDS} s', reconcile <= TARGET_RECONCILE_SECONDS)
    report.line(f'slots due in the {size.clock_window} s window', str(len(lateness)),
                f'{fabrics * size.clock_window // interval} expected')
    report.line('of which never handed over', str(never))
    # Each of these slots falls due at the same moment as the others every interval (see CLOCK_START_UP).
    bunched = scheduler.log_path.read_text().count(', first run now')
    report.line('jobs whose first slot had passed at start-up', str(bunched))
    handed = len(lateness) - never
    report.line('hand-overs per second sustained', f'{handed / size.clock_window:.0f}',
                f'{fabrics / interval:.0f} due')
    report.line('dispatch lateness p50', f'{p50:.0f} ms')
    report.line('dispatch lateness p99', f'{p99:.0f} ms', f'<= {TARGET_DISPATCH_P99_MS} ms',
                p99 <= TARGET_DISPATCH_P99_MS)
    report.line('leader CPU while dispatching', f'{cpu:.1f} %')
    report.line('leader RSS', f'{rss:.0f} MiB')
    report.line("Redis keys of the leader's slot and waiting markers", f'{markers[0]}')
    report.line('Redis memory of those markers', f'{markers[1] / 2**20:.1f} MiB')


def logged_at(timestamp):
    return datetime.strptime(timestamp, '%Y-%m-%d %H:%M:%S,%f').replace(tzinfo=UTC)


def bench_lateness(report, db, size):
    from django.utils import timezone

    from netbox_hedgehog.choices import SyncTriggerChoices
    from netbox_hedgehog.models import HedgehogFabric, SyncRun
    from netbox_hedgehog.sync.queued import live_workers, rq_job_id
    from scheduler_worker.store import JOB_TABLE

    fabrics, interval = size.lateness_fabrics, LATENESS_INTERVAL
    print(f'Run-start lateness: {fabrics} fabrics with no-op syncs every {interval} s, {LATENESS_WORKERS} idle '
          f'workers, for {size.lateness_window} s', flush=True)
    clear_queue()
    delete_fabrics()
    db.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')
    workers = [Worker(f'bench-lateness-{number}-{time.monotonic_ns()}', stub_sync=True)
               for number in range(LATENESS_WORKERS)]
    scheduler = Scheduler('lateness', stub_sync=True, sync_executor='rq')
    try:
        names = {worker.name for worker in workers}
        wait_for(lambda: names <= {worker.name for worker in live_workers()}, timeout=600,
                 message='the workers to register', pause=0.5)
        scheduler.log_time('Scheduling resumed', timeout=600)
        # Created one by one while the leader runs, so that each is scheduled through its notice with the slots
        # spread over the interval as they are set here (a slot already past at start-up would be moved to "now").
        now = timezone.now()
        for number in range(fabrics):
            HedgehogFabric.objects.create(
                name=f'lateness-{number}', kubernetes_server='http://127.0.0.1:9', sync_interval=interval,
                last_sync=now - timedelta(seconds=(interval - 5) * number / fabrics),
            )
        opened = now + timedelta(seconds=5)
        closed = opened + timedelta(seconds=size.lateness_window)
        wait_for(lambda: datetime.now(UTC) > closed + timedelta(seconds=5), timeout=size.lateness_window + 60,
                 message='the end of the window', pause=1)
    finally:
        scheduler.stop()
        for worker in workers:
            worker.stop()

    fabric_ids = set(HedgehogFabric.objects.values_list('pk', flat=True))
    grid = job_grid(db, fabric_ids)
    due = slots_on_grid(grid, opened, closed)
    started = {}
    for fabric_id, run_started in SyncRun.objects.filter(
        fabric_id__in=fabric_ids, trigger=SyncTriggerChoices.SCHEDULED, started__gte=opened,
    ).values_list('fabric_id', 'started'):
        anchor, step = grid[fabric_id]
        slot = anchor + ((run_started - anchor) // step) * step
        started[rq_job_id(fabric_id, SyncTriggerChoices.SCHEDULED, slot)] = run_started
    handed = {job_id: logged_at(at) for at, job_id in HANDED_OVER_LINE.findall(scheduler.log_path.read_text())}
    horse = {}
    for worker in workers:
        for fabric_id, trigger, slot, seconds in HORSE_STARTED_LINE.findall(worker.log_path.read_text()):
            horse[rq_job_id(int(fabric_id), trigger, datetime.fromisoformat(slot))] = float(seconds)

    lateness = [(started[job_id] - slot).total_seconds() for job_id, slot in due.items() if job_id in started]
    never = len(due.keys() - started.keys())
    p50 = percentile(lateness, 0.5) * 1000 if lateness else math.nan
    p99 = percentile(lateness + [math.inf] * never, 0.99) * 1000 if due else math.nan
    report.line(f'slots due in the {size.lateness_window} s window', str(len(due)),
                f'{fabrics * size.lateness_window // interval} expected')
    report.line('of which no run started', str(never))
    report.line('run-start lateness p50', f'{p50:.0f} ms')
    report.line('run-start lateness p99', f'{p99:.0f} ms', f'<= {TARGET_RUN_START_P99_MS} ms',
                p99 <= TARGET_RUN_START_P99_MS)
    # Where the time goes, for the runs whose every step was logged.
    parts = {'slot -> leader handed it over': [], 'handed over -> work horse started job': [],
             'job started -> run record started': []}
    for job_id, slot in due.items():
        if job_id in started and job_id in handed and job_id in horse:
            handed_after = (handed[job_id] - slot).total_seconds()
            run_after = (started[job_id] - slot).total_seconds()
            for part, seconds in zip(parts.values(), (handed_after, horse[job_id] - handed_after,
                                                      run_after - horse[job_id]), strict=True):
                part.append(seconds)
    for label, values in parts.items():
        report.line(f'{label} p50/p99', ' / '.join(f'{percentile(values, q) * 1000:.0f}' for q in (0.5, 0.99))
                    + ' ms' if values else 'none')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--quick', action='store_true', help=f'the smaller run: {QUICK}')
    parser.add_argument('--keep-db', action='store_true', help=f'keep the {DATABASE} database afterwards')
    parser.add_argument('--only', choices=['throughput', 'clock', 'lateness'], help='run one part only')
    parser.add_argument('--clock-fabrics', type=int, help=f"the clock part's fabrics (default {FULL.clock_fabrics})")
    parser.add_argument('--executors', nargs='+', choices=EXECUTORS, default=list(EXECUTORS),
                        help='the executors of the throughput part (default: all three)')
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.clock_fabrics:
        size = dataclasses.replace(size, clock_fabrics=args.clock_fabrics)
    print(f'Preparing database {DATABASE} from {dbsetup.TEMPLATE_DB}... ({size})', flush=True)
    dbsetup.fresh_database(DATABASE)
    import django

    django.setup()
    import psycopg
    from django.db import connection

    report = Report()
    try:
        with psycopg.connect(**{
            key: value for key, value in connection.get_connection_params().items()
            if key not in ('context', 'cursor_factory', 'prepare_threshold')
        }, autocommit=True) as db:
            if args.only in (None, 'throughput'):
                standin = StandIn(size.synthetic)
                try:
                    report.line('objects per fabric (stand-in)', str(standin.object_count()))
                    cpus = {
                        name: bench_throughput(report, db, size, standin, *EXECUTORS[name]) for name in args.executors
                    }
                finally:
                    standin.stop()
                rq_cpus = [cpu for name, cpu in cpus.items() if name != 'thread']
                if 'thread' in cpus and rq_cpus:
                    fraction = max(rq_cpus) / cpus['thread'] if cpus['thread'] else float('inf')
                    report.line('leader CPU under rq / under thread', f'{fraction:.2f}',
                                f'<= {TARGET_RQ_CPU_FRACTION}', fraction <= TARGET_RQ_CPU_FRACTION)
            if args.only in (None, 'clock'):
                bench_clock(report, db, size)
            if args.only in (None, 'lateness'):
                bench_lateness(report, db, size)
    finally:
        clear_queue()
        connection.close()
        if not args.keep_db:
            dbsetup.discard_database(DATABASE)
    print('RESULT:', 'FAIL' if report.failed else 'PASS', f'(logs in {LOG_DIR})')
    sys.exit(1 if report.failed else 0)


if __name__ == '__main__':
    main()
