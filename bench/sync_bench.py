"""
Sync engine benchmark: `python -m bench.sync_bench` (environment as for the tests, see README.md).

Serves a synthetic fabric (200 switches, 4,000 connections, 2,000 VPCs, 4,000 VPC attachments, their servers and
one agent per switch) from the Kubernetes API stand-in in a process of its own, and syncs it into a database of
its own (hh_bench_sync, cloned from the template database and migrated, dropped at the end). Measures:

1. the initial sync;
2. a resync with no change, and the mirror rows it wrote (counted by row version, ctid: any insert, update or
   delete changes the set), against the time to list the same objects alone;
3. a resync after 1% of the objects changed;
4. a resync after every Agent's status changed (a live fabric's heartbeats), and the tables it wrote;
5. the peak RSS of this process, beside what it held before the first sync (NetBox and the plugin loaded);
6. the baseline: a naive loop that writes the same listed objects one by one with the ORM's update_or_create(),
   resolving each reference with a query, into a second fabric (about ten minutes; --quick skips it);
7. deleting the fabric with its mirror, run records and sync history (Django's collector would load each row);
8. the start-up time of the plugin's commands beside `netbox help`.

Each sync prints where its time went (the phases of netbox_hedgehog/timing.py). Prints a table of numbers and
PASS/FAIL against the targets; exits 1 if any target fails. The database name can be set with HEDGEHOG_BENCH_DB_NAME.
"""

import argparse
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from devtools import dbsetup

DATABASE = os.environ.get('HEDGEHOG_BENCH_DB_NAME', 'hh_bench_sync')
TEMPLATE = dbsetup.TEMPLATE_DB
NETBOX = str(Path(sys.executable).with_name('netbox'))
TOKEN = 'sync-bench-token'

TARGET_INITIAL_SECONDS = 3
TARGET_SPEEDUP = 150
# Beyond the time to list the same objects.
TARGET_RESYNC_BEYOND_LISTING_SECONDS = 0.2
TARGET_ONE_PERCENT_SECONDS = 0.6
TARGET_LIVE_AGENTS_SECONDS = 0.5
TARGET_PEAK_RSS_MB = 150
# Deleting a fabric with everything it holds costs at most what mirroring it did (the initial sync).
TARGET_DELETE_OVER_INITIAL = 1.0

os.environ.update(HEDGEHOG_DB_NAME=DATABASE)
os.environ.setdefault('NETBOX_CONFIGURATION', 'devtools.netbox_configuration')
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')


def create_database():
    dbsetup.fresh_database(DATABASE)


def drop_database():
    dbsetup.discard_database(DATABASE)


class Standin:
    """The stand-in as a subprocess, so that serving does not compete with the sync for this process's GIL."""

    def __init__(self, sizes):
        self.token_file = tempfile.NamedTemporaryFile('w', prefix='hh-bench-token-', delete=False)
        self.token_file.write(TOKEN)
        self.token_file.close()
        argv = [sys.executable, '-m', 'k8s_standin', '--port', '0', '--token-file', self.token_file.name,
                '--log-level', 'warning', '--synthetic', sizes]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if 'ready at' not in line:
            self.stop()
            raise RuntimeError(f'the stand-in did not start: {line!r}')
        self.url = line.rsplit(' ', 1)[1].strip()

    def admin(self, method, path, payload=None):
        request = urllib.request.Request(
            f'{self.url}/_standin/{path}',
            method=method,
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={'Authorization': f'Bearer {TOKEN}', 'Content-Type': 'application/json'},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        os.unlink(self.token_file.name)


def mirror_row_versions():
    """{(table, id): ctid} over every mirror table and its many-to-many tables."""
    from django.db import connection

    from netbox_hedgehog.kinds import KINDS

    tables = set()
    for info in KINDS:
        tables.add(info.model._meta.db_table)
        tables.update(
            m2m.remote_field.through._meta.db_table
            for m2m in info.model._meta.many_to_many
            if m2m.remote_field.through._meta.auto_created
        )
    versions = {}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f'SELECT id, ctid::text FROM {connection.ops.quote_name(table)}')
            versions.update(((table, pk), ctid) for pk, ctid in cursor.fetchall())
    return versions


def cached_value_versions():
    """{id: ctid} of NetBox's search cache."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute('SELECT id::text, ctid::text FROM extras_cachedvalue')
        return dict(cursor.fetchall())


def rows_written(before, after):
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def written_tables(before, after):
    return sorted({key[0] for key in before.keys() | after.keys() if before.get(key) != after.get(key)})


class GarbageCollection:
    def __init__(self):
        self.seconds = 0.0
        self.passes = 0
        self._started = None

    def __call__(self, phase, info):
        if phase == 'start':
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.passes += 1
            self._started = None


@contextlib.contextmanager
def garbage_collection():
    """The time Python's cyclic garbage collector takes while the block runs (it runs inside every phase)."""
    collected = GarbageCollection()
    gc.callbacks.append(collected)
    try:
        yield collected
    finally:
        gc.callbacks.remove(collected)


def timed_sync(fabric, label):
    from netbox_hedgehog.sync import sync_fabric
    from netbox_hedgehog.timing import PHASES, record_phases

    before = mirror_row_versions()
    with record_phases() as phases, garbage_collection() as collected:
        started = time.perf_counter()
        run = sync_fabric(fabric.pk, 'manual')
        seconds = time.perf_counter() - started
    if run.errors:
        raise RuntimeError(f'the sync reported errors: {run.errors[:3]}')
    after = mirror_row_versions()
    other = seconds - sum(phases.values())
    breakdown = ', '.join(f'{name} {phases.get(name, 0):.3f}' for name in PHASES)
    print(f'  {label}: {seconds:.3f} s = {breakdown}, other {other:.3f}; of all this, the garbage collector '
          f'{collected.seconds:.3f} in {collected.passes} pass(es)', flush=True)
    return run, seconds, rows_written(before, after), written_tables(before, after)


def change_every_agent_status(standin):
    """What a live fabric does every few seconds: each agent reports a new heartbeat, nothing else changes."""
    from netbox_hedgehog.models import Agent

    names = list(Agent.objects.values_list('name', flat=True).distinct())
    for name in names:
        standin.admin('PATCH', f'objects/agents/default/{name}', {'status': {'lastHeartbeat': now_rfc3339()}})
    return len(names)


def now_rfc3339():
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def timed_listing(fabric):
    started = time.perf_counter()
    list_everything(fabric)
    return time.perf_counter() - started


def command_seconds(*args):
    """Wall time of one management command, from process start to exit."""
    started = time.perf_counter()
    subprocess.run([NETBOX, *args], capture_output=True, env=os.environ, check=False)
    return time.perf_counter() - started


def change_one_percent(standin, total):
    """Edit 1% of the objects through the stand-in's admin API, spread over the big kinds."""
    from netbox_hedgehog.models import VPC, Connection, Switch, VPCAttachment

    models = {'connections': Connection, 'vpcs': VPC, 'vpcattachments': VPCAttachment, 'switches': Switch}
    plurals = list(models)
    wanted = max(1, total // 100)
    for index in range(wanted):
        plural = plurals[index % len(plurals)]
        name = models[plural].objects.order_by('pk').values_list('name', flat=True)[index]
        standin.admin('PATCH', f'objects/{plural}/default/{name}', {'annotations': {'bench/changed': 'yes'}})
    return wanted


def naive_sync(fabric, items_by_kind):
    """The baseline: one update_or_create() per object, each reference resolved by its own query."""
    from django.db import transaction

    from netbox_hedgehog.kinds import KINDS
    from netbox_hedgehog.sync.resources import read_object

    started = time.perf_counter()
    with transaction.atomic():
        for info in KINDS:
            model = info.model
            for item in items_by_kind.get(info.kind, []):
                values = dict(read_object(info, item, 'default').values)
                many = {}
                for field_name, raw_name in info.references.items():
                    field = model._meta.get_field(field_name)
                    # Lookups by the unique (fabric, namespace, name) index, so the baseline is not slowed by plans.
                    targets = field.related_model.objects.filter(fabric=fabric, namespace=values['namespace'])
                    if field.many_to_many:
                        many[field_name] = list(targets.filter(name__in=values[raw_name]))
                    else:
                        values[field_name] = targets.filter(name=values[raw_name]).order_by().first()
                uid = values.pop('uid')
                obj, _ = model.objects.update_or_create(fabric=fabric, uid=uid, defaults=values)
                for field_name, targets in many.items():
                    getattr(obj, field_name).set(targets)
    return time.perf_counter() - started


def list_everything(fabric):
    from netbox_hedgehog.kube.client import fabric_api
    from netbox_hedgehog.sync.listing import list_kinds

    with fabric_api(fabric) as api:
        listings, error = list_kinds(api, 'default', 500)
    if error:
        raise RuntimeError(error)
    return {listing.info.kind: listing.items for listing in listings}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.sync_bench', description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='switches=200,connections=4000,vpcs=2000,attachments=4000',
                        help='synthetic fabric sizes, as the stand-in takes them')
    parser.add_argument('--keep-database', action='store_true', help=f'do not drop {DATABASE} at the end')
    parser.add_argument('--quick', action='store_true',
                        help='skip the naive baseline (about ten minutes) and with it the speedup target')
    args = parser.parse_args(argv)

    print(f'Creating {DATABASE} from {TEMPLATE}...', flush=True)
    create_database()
    import django

    django.setup()
    from netbox_hedgehog.kinds import KINDS
    from netbox_hedgehog.models import Agent, HedgehogFabric, MirrorChange
    from netbox_hedgehog.sync import sync_fabric  # noqa: F401 (loaded before the floor is read, as in a worker)

    # What the process holds before any sync: NetBox and the plugin loaded, as in a scheduler or an RQ worker.
    loaded_rss = peak_rss_mb()

    standin = Standin(args.sizes)
    try:
        counts = standin.admin('GET', 'state')['counts']
        mirrored = {kind.kind: counts[kind.kind] for kind in KINDS if kind.kind in counts}
        total = sum(mirrored.values())
        print(f'Stand-in at {standin.url} serves {total} mirrored objects: {mirrored}', flush=True)
        fabric = HedgehogFabric.objects.create(
            name='bench', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_enabled=False
        )

        print('Where each sync spends its time (seconds):', flush=True)
        _, initial, initial_rows, _ = timed_sync(fabric, 'initial sync')
        listing = min(timed_listing(fabric) for _ in range(3))
        resync = min(timed_sync(fabric, 'no-change resync')[1] for _ in range(3))
        _, _, resync_rows, _ = timed_sync(fabric, 'no-change resync')
        changed = change_one_percent(standin, total)
        run_changed, changed_seconds, changed_rows, _ = timed_sync(fabric, 'resync after 1% changed')
        updated = sum(counts['updated'] for counts in run_changed.counts.values())
        agents = change_every_agent_status(standin)
        cached_before = cached_value_versions()
        run_agents, agents_seconds, agents_rows, agents_tables = timed_sync(fabric, 'resync with live Agents')
        agents_cached = rows_written(cached_before, cached_value_versions())
        agents_updated = run_agents.counts.get('Agent', {}).get('updated', 0)
        rss = peak_rss_mb()

        naive = None
        if not args.quick:
            baseline_fabric = HedgehogFabric.objects.create(
                name='bench-naive', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_enabled=False
            )
            naive = naive_sync(baseline_fabric, list_everything(baseline_fabric))

        history = MirrorChange.objects.filter(fabric=fabric).count()
        started = time.perf_counter()
        fabric.delete()
        deletion = time.perf_counter() - started

        print('Command start-up (seconds, this database):', flush=True)
        commands = [
            ('netbox help', command_seconds('help')),
            ('netbox hedgehog_jobs', command_seconds('hedgehog_jobs')),
            ('netbox hedgehog_sync (no such fabric)', command_seconds('hedgehog_sync', 'no-such-fabric')),
            ('netbox hedgehog_scheduler --check', command_seconds('hedgehog_scheduler', '--check')),
            # Last: it re-encrypts the bench fabrics' secrets, which nothing after it reads.
            ('netbox hedgehog_rotate_secrets', command_seconds('hedgehog_rotate_secrets')),
        ]
    finally:
        standin.stop()
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database()

    beyond_listing = resync - listing
    agent_table = Agent._meta.db_table
    rows = [
        ('objects mirrored', f'{total}', '', ''),
        ('initial sync', f'{initial:.2f} s', f'<= {TARGET_INITIAL_SECONDS} s',
         verdict(initial <= TARGET_INITIAL_SECONDS)),
        ('  rows written', f'{initial_rows}', '', ''),
        ('listing the same objects alone (best of 3)', f'{listing:.2f} s', '', ''),
        ('no-change resync (best of 3)', f'{resync:.2f} s', '', ''),
        ('  beyond the listing', f'{beyond_listing:.2f} s', f'<= {TARGET_RESYNC_BEYOND_LISTING_SECONDS} s',
         verdict(beyond_listing <= TARGET_RESYNC_BEYOND_LISTING_SECONDS)),
        ('  mirror rows written', f'{resync_rows}', '0', verdict(resync_rows == 0)),
        (f'resync after 1% changed ({changed} objects)', f'{changed_seconds:.2f} s',
         f'<= {TARGET_ONE_PERCENT_SECONDS} s', verdict(changed_seconds <= TARGET_ONE_PERCENT_SECONDS)),
        ('  objects updated / rows written', f'{updated} / {changed_rows}', f'{changed} / {changed}',
         verdict(updated == changed == changed_rows)),
        (f'resync with live Agents ({agents} statuses)', f'{agents_seconds:.2f} s',
         f'<= {TARGET_LIVE_AGENTS_SECONDS} s', verdict(agents_seconds <= TARGET_LIVE_AGENTS_SECONDS)),
        ('  Agents updated / rows written', f'{agents_updated} / {agents_rows}', f'{agents} / {agents}',
         verdict(agents_updated == agents == agents_rows)),
        ('  tables written', ', '.join(agents_tables) or '-', agent_table,
         verdict(agents_tables == [agent_table])),
        ('  search cache rows written', f'{agents_cached}', '0', verdict(agents_cached == 0)),
        (f'deleting the fabric ({history} sync history rows)', f'{deletion:.2f} s', '', ''),
        ('  over the initial sync', f'{deletion / initial:.2f}x', f'<= {TARGET_DELETE_OVER_INITIAL}x',
         verdict(deletion <= TARGET_DELETE_OVER_INITIAL * initial)),
        ('peak RSS of the syncing process', f'{rss:.0f} MB', f'<= {TARGET_PEAK_RSS_MB} MB',
         verdict(rss <= TARGET_PEAK_RSS_MB)),
        ('  of which NetBox and the plugin, loaded', f'{loaded_rss:.0f} MB', '', ''),
        ('  added by syncing', f'{rss - loaded_rss:.0f} MB', '', ''),
    ]
    if naive is not None:
        speedup = naive / initial
        rows += [
            ('naive update_or_create loop', f'{naive:.2f} s', '', ''),
            ('  speedup of the sync', f'{speedup:.1f}x', f'>= {TARGET_SPEEDUP}x', verdict(speedup >= TARGET_SPEEDUP)),
        ]
    floor = commands[0][1]
    rows += [(f'start-up: {name}', f'{seconds:.2f} s', f'~{floor:.2f} s', '') for name, seconds in commands]
    width = max(len(row[0]) for row in rows)
    print()
    print(f'{"measure":<{width}}  {"value":>14}  {"target":>12}  result')
    for name, value, target, result in rows:
        print(f'{name:<{width}}  {value:>14}  {target:>12}  {result}')
    failed = [row[0] for row in rows if row[3] == 'FAIL']
    print()
    if args.quick:
        print('(--quick: the naive baseline and the speedup target were skipped)')
    print('FAIL: ' + ', '.join(failed) if failed else 'PASS: every target met')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
