"""
Sync engine benchmark: `python -m bench.sync_bench` (environment as for the tests, see README.md).

Serves a synthetic fabric (200 switches, 4,000 connections, 2,000 VPCs, 4,000 VPC attachments, their servers and
one agent per switch) from the Kubernetes API stand-in in a process of its own, and syncs it into a database of
its own (hh_bench_sync, cloned from the template database and migrated, dropped at the end). Measures:

1. the initial sync;
2. a resync with no change, and the mirror rows it wrote (counted by row version, ctid: any insert, update or
   delete changes the set);
3. a resync after 1% of the objects changed;
4. the peak RSS of this process;
5. the baseline: a naive loop that writes the same listed objects one by one with the ORM's update_or_create(),
   resolving each reference with a query, into a second fabric.

Prints a table of numbers and PASS/FAIL against the targets; exits 1 if any target fails.
"""

import argparse
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

TARGET_INITIAL_SECONDS = 15
TARGET_SPEEDUP = 10
TARGET_RESYNC_SECONDS = 2

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


def rows_written(before, after):
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def timed_sync(fabric):
    from netbox_hedgehog.sync import sync_fabric

    before = mirror_row_versions()
    started = time.perf_counter()
    run = sync_fabric(fabric.pk, 'manual')
    seconds = time.perf_counter() - started
    if run.errors:
        raise RuntimeError(f'the sync reported errors: {run.errors[:3]}')
    return run, seconds, rows_written(before, mirror_row_versions())


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
    args = parser.parse_args(argv)

    print(f'Creating {DATABASE} from {TEMPLATE}...', flush=True)
    create_database()
    import django

    django.setup()
    from netbox_hedgehog.models import HedgehogFabric

    standin = Standin(args.sizes)
    try:
        counts = standin.admin('GET', 'state')['counts']
        mirrored = {kind: n for kind, n in counts.items() if kind in {
            'Switch', 'Server', 'Connection', 'SwitchGroup', 'VLANNamespace', 'SwitchProfile', 'ServerProfile',
            'VPC', 'VPCAttachment', 'VPCPeering', 'IPv4Namespace', 'External', 'ExternalAttachment',
            'ExternalPeering', 'Agent'}}
        total = sum(mirrored.values())
        print(f'Stand-in at {standin.url} serves {total} mirrored objects: {mirrored}', flush=True)
        fabric = HedgehogFabric.objects.create(
            name='bench', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_enabled=False
        )

        run, initial, initial_rows = timed_sync(fabric)
        _, resync, resync_rows = timed_sync(fabric)
        changed = change_one_percent(standin, total)
        run_changed, changed_seconds, changed_rows = timed_sync(fabric)
        updated = sum(counts['updated'] for counts in run_changed.counts.values())
        rss = peak_rss_mb()

        baseline_fabric = HedgehogFabric.objects.create(
            name='bench-naive', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_enabled=False
        )
        naive = naive_sync(baseline_fabric, list_everything(baseline_fabric))
    finally:
        standin.stop()
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database()

    speedup = naive / initial
    rows = [
        ('objects mirrored', f'{total}', '', ''),
        ('initial sync', f'{initial:.2f} s', f'<= {TARGET_INITIAL_SECONDS} s',
         verdict(initial <= TARGET_INITIAL_SECONDS)),
        ('  rows written', f'{initial_rows}', '', ''),
        ('naive update_or_create loop', f'{naive:.2f} s', '', ''),
        ('  speedup of the sync', f'{speedup:.1f}x', f'>= {TARGET_SPEEDUP}x', verdict(speedup >= TARGET_SPEEDUP)),
        ('no-change resync', f'{resync:.2f} s', f'<= {TARGET_RESYNC_SECONDS} s',
         verdict(resync <= TARGET_RESYNC_SECONDS)),
        ('  mirror rows written', f'{resync_rows}', '0', verdict(resync_rows == 0)),
        (f'resync after 1% changed ({changed} objects)', f'{changed_seconds:.2f} s', '', ''),
        ('  objects updated / rows written', f'{updated} / {changed_rows}', f'{changed} / {changed}',
         verdict(updated == changed == changed_rows)),
        ('peak RSS of the syncing process', f'{rss:.0f} MB', '', ''),
    ]
    width = max(len(row[0]) for row in rows)
    print()
    print(f'{"measure":<{width}}  {"value":>14}  {"target":>12}  result')
    for name, value, target, result in rows:
        print(f'{name:<{width}}  {value:>14}  {target:>12}  {result}')
    failed = [row[0] for row in rows if row[3] == 'FAIL']
    print()
    print('FAIL: ' + ', '.join(failed) if failed else 'PASS: every target met')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
