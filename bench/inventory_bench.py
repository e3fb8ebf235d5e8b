"""
Inventory benchmark: `python -m bench.inventory_bench` (environment as for the tests, see README.md).

Serves the sync benchmark's synthetic fabric (200 switches, 4,000 connections, 2,000 VPCs and their servers, see
--sizes) from the Kubernetes API stand-in in a process of its own, mirrors it into a database of its own
(hh_bench_inventory, cloned from the template database and migrated, dropped at the end), and measures the
inventory step of the sync runs:

1. the initial inventory build (devices, interfaces, cables, VLAN groups, VLANs, VRFs, prefixes, addresses);
2. three resyncs with no change: their time, and the rows they wrote in dcim, ipam, the ownership table and NetBox's
   change log (counted by row version, ctid: any insert, update or delete changes the set). The first looks once
   more at what the build wrote; the others find nothing changed since and skip the step (inventory/state.py);
3. a resync after 1% of the switches, servers and connections changed;
4. the baseline: the same objects written into a second site by a naive loop, one ORM save per object with
   NetBox's signals and a query per reference and per identity, as writing through the REST API does.

Each run prints where its time goes: per NetBox object type, and within them the change log, the search cache and
the cable paths. Prints a table with PASS/FAIL against the targets and exits 1 if any target fails. --quick runs a
tenth of the fabric without the baseline (the baseline of the full fabric takes the better part of an hour). The
database name can be set with HEDGEHOG_BENCH_DB_NAME.

Targets: the no-change resync must cost near nothing whatever the size (at most 2 s and no row written, no
change-log entry); a 1% change writes only the changed objects (at most 5 s); the initial build is at least 5x
faster than the naive loop.
"""

import argparse
import os
import sys
import time
from collections import Counter

from bench.sync_bench import Standin
from devtools import dbsetup

DATABASE = os.environ.get('HEDGEHOG_BENCH_DB_NAME', 'hh_bench_inventory')
# The sync benchmark's fabric (bench/sync_bench.py), and a tenth of it for --quick. VPC attachments map to nothing
# in the inventory.
DEFAULT_SIZES = 'switches=200,connections=4000,vpcs=2000,attachments=4000'
QUICK_SIZES = 'switches=20,connections=400,vpcs=200,attachments=0'

TARGET_NO_CHANGE_SECONDS = 2
TARGET_ONE_PERCENT_SECONDS = 5
TARGET_SPEEDUP = 5
WRITTEN_TABLES = (
    'dcim_manufacturer', 'dcim_platform', 'dcim_devicerole', 'dcim_devicetype', 'dcim_interfacetemplate',
    'dcim_device', 'dcim_interface', 'dcim_cable', 'dcim_cabletermination', 'dcim_cablepath', 'ipam_vlangroup',
    'ipam_vlan', 'ipam_vrf', 'ipam_prefix', 'ipam_ipaddress', 'extras_tag', 'extras_taggeditem',
    'netbox_hedgehog_inventoryobject', 'core_objectchange',
)

os.environ.update(HEDGEHOG_DB_NAME=DATABASE)
os.environ.setdefault('NETBOX_CONFIGURATION', 'devtools.netbox_configuration')
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')


def row_versions():
    from django.db import connection

    versions = {}
    with connection.cursor() as cursor:
        for table in WRITTEN_TABLES:
            cursor.execute(f'SELECT id, ctid::text FROM {table}')
            versions.update(((table, pk), ctid) for pk, ctid in cursor.fetchall())
    return versions


def rows_written(before, after):
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def timed_sync(fabric, label):
    from netbox_hedgehog.sync import sync_fabric
    from netbox_hedgehog.timing import record_phases

    before = row_versions()
    with record_phases() as phases:
        run = sync_fabric(fabric.pk, 'manual')
    seconds = phases.get('inventory', 0.0)
    written = rows_written(before, row_versions())
    counts = {label: dict(c) for label, c in run.inventory_counts.items()}
    skipped = {name for name in phases if name.startswith('inventory: ')} == {'inventory: check for changes'}
    how = 'skipped, nothing changed since the last complete step; ' if skipped else ''
    print(f'  {label}: inventory {seconds:.2f} s, {written} rows written; {how}{counts}', flush=True)
    if run.errors:
        # The synthetic fabric reuses VLAN ids once its subnets outnumber its VLAN range: those are conflicts.
        print(f'    {len(run.errors)} run errors, e.g. {run.errors[0]["message"]}', flush=True)
    parts = sorted(((name.split(': ', 1)[1], value) for name, value in phases.items()
                    if name.startswith('inventory: ') and value >= 0.01), key=lambda part: -part[1])
    if parts:
        print(f'    where it went (s): {", ".join(f"{name} {value:.2f}" for name, value in parts)}', flush=True)
    return run, seconds, written


def change_one_percent(standin):
    from netbox_hedgehog.models import Connection, Server, Switch

    rows = [('switches', name) for name in Switch.objects.values_list('name', flat=True)]
    rows += [('servers', name) for name in Server.objects.values_list('name', flat=True)]
    wanted = max(1, (len(rows) + Connection.objects.count()) // 100)
    for index in range(wanted):
        plural, name = rows[index * (len(rows) // wanted)]
        standin.admin('PATCH', f'objects/{plural}/default/{name}', {'spec': {'description': f'bench {index}'}})
    return wanted


def naive_build(fabric):
    """The baseline: each object of the same plan saved on its own, its references and identity each a query."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from netbox_hedgehog.inventory.plan import Ref
    from netbox_hedgehog.inventory.sync import build_plan, tags
    from netbox_hedgehog.inventory.writer import CABLE_ENDS, MODEL_ORDER, stored, taggable
    from netbox_hedgehog.models import InventoryObject

    context = build_plan(fabric)
    owner, _ = tags()
    started = time.perf_counter()

    def resolve(value):
        if isinstance(value, Ref):
            record = InventoryObject.objects.filter(
                fabric=fabric, kind=value.source.kind, uid=value.source.uid, part=value.source.part,
                object_type=ContentType.objects.get_for_model(apps.get_model(value.model)),
            ).first()
            if record is None:
                model = apps.get_model(value.model)
                want = context.plan.wants.get((value.model, value.source))
                found = model.objects.filter(**{k: resolve(v) for k, v in want.identity}).first() if want else None
                return found.pk if found else None
            return record.object_id
        if isinstance(value, tuple) and value and isinstance(value[0], Ref):
            return tuple(resolve(item) for item in value)
        return value

    with transaction.atomic():
        for label in MODEL_ORDER:
            model = apps.get_model(label)
            object_type = ContentType.objects.get_for_model(model)
            for want in context.plan.of_model(label):
                if want.parent is not None and not InventoryObject.objects.filter(
                        fabric=fabric, uid=want.parent.source.uid, part=want.parent.source.part).exists():
                    continue
                fields = {name: resolve(value) for name, value in want.fields.items()}
                if any(value is None for name, value in fields.items() if want.fields[name] is not None):
                    continue
                if want.identity and model.objects.filter(
                        **{name: resolve(value) for name, value in want.identity}).exists():
                    continue
                instance = model(**{n: stored(n, v) for n, v in fields.items() if n not in CABLE_ENDS})
                if label == 'dcim.Cable':
                    interfaces = apps.get_model('dcim.Interface').objects
                    instance.a_terminations = [interfaces.get(pk=pk) for pk in fields['a_terminations']]
                    instance.b_terminations = [interfaces.get(pk=pk) for pk in fields['b_terminations']]
                instance.save()
                if taggable(model):
                    instance.tags.add(owner)
                InventoryObject.objects.create(
                    fabric=fabric, object_type=object_type, object_id=instance.pk, kind=want.source.kind,
                    uid=want.source.uid, part=want.source.part,
                )
    return time.perf_counter() - started


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.inventory_bench', description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', help=f'synthetic fabric sizes, as the stand-in takes them (default {DEFAULT_SIZES}; '
                                         f'with --quick {QUICK_SIZES})')
    parser.add_argument('--keep-database', action='store_true', help=f'do not drop {DATABASE} at the end')
    parser.add_argument('--quick', action='store_true',
                        help='a tenth of the fabric, without the naive baseline and with it the speedup target')
    parser.add_argument('--baseline', action='store_true', help='run the naive baseline even with --quick')
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    print(f'Fabric: {sizes}', flush=True)

    print(f'Creating {DATABASE} from {dbsetup.TEMPLATE_DB}...', flush=True)
    dbsetup.fresh_database(DATABASE)
    import django

    django.setup()
    from core.models import ObjectChange
    from dcim.models import Site
    from django.contrib.contenttypes.models import ContentType
    from netbox.context_managers import event_tracking

    from netbox_hedgehog.inventory.sync import change_request, inventory_user
    from netbox_hedgehog.models import HedgehogFabric, InventoryObject
    from netbox_hedgehog.run_record import MAX_ERRORS
    from netbox_hedgehog.sync import sync_fabric

    standin = Standin(sizes)
    try:
        fabric = HedgehogFabric.objects.create(
            name='bench', kubernetes_server=standin.url, kubernetes_token='sync-bench-token', sync_enabled=False,
        )
        mirror_run = sync_fabric(fabric.pk, 'manual')
        print(f'Mirrored: {mirror_run.counts}', flush=True)
        site = Site.objects.create(name='bench site', slug='bench-site')
        HedgehogFabric.objects.filter(pk=fabric.pk).update(inventory_sync=True, inventory_site=site)
        fabric.refresh_from_db()

        print('Inventory runs:', flush=True)
        initial_run, initial, initial_rows = timed_sync(fabric, 'initial build')
        owned = Counter()
        for type_id in InventoryObject.objects.filter(fabric=fabric).values_list('object_type_id', flat=True):
            owned[ContentType.objects.get_for_id(type_id).model] += 1
        total = sum(owned.values())
        print(f'  objects owned: {total} {dict(owned)}', flush=True)
        results = [timed_sync(fabric, 'no-change resync') for _ in range(3)]
        verifying = results[0][1]
        no_change = min(seconds for _, seconds, _ in results)
        no_change_rows = max(rows for _, _, rows in results)
        no_change_log = sum(
            ObjectChange.objects.filter(request_id=run.inventory_request_id).count() for run, _, _ in results
        )
        changed = change_one_percent(standin)
        run_changed, changed_seconds, changed_rows = timed_sync(fabric, f'resync after {changed} objects changed')
        updated = sum(c.get('updated', 0) for c in run_changed.inventory_counts.values())

        naive = None
        if args.baseline or not args.quick:
            other_site = Site.objects.create(name='bench naive site', slug='bench-naive-site')
            baseline = HedgehogFabric.objects.create(
                name='bench-naive', kubernetes_server=standin.url, kubernetes_token='sync-bench-token',
                sync_enabled=False,
            )
            sync_fabric(baseline.pk, 'manual')
            HedgehogFabric.objects.filter(pk=baseline.pk).update(inventory_sync=True, inventory_site=other_site)
            baseline.refresh_from_db()
            with event_tracking(change_request(inventory_user())):
                naive = naive_build(baseline)
            built = InventoryObject.objects.filter(fabric=baseline).count()
            print(f'  naive loop: {naive:.2f} s for {built} objects', flush=True)
    finally:
        standin.stop()
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            dbsetup.discard_database(DATABASE)

    rows = [
        ('inventory objects built', f'{total}', '', ''),
        ('initial build', f'{initial:.2f} s', '', ''),
        ('  rows written', f'{initial_rows}', '', ''),
        # A run keeps the first MAX_ERRORS errors and a count of the rest.
        ('  run errors, all VLAN ids the fabric reuses', f'{len(initial_run.errors)}', '',
         verdict(all('is the same NetBox object' in error['message']
                     for error in initial_run.errors[:MAX_ERRORS]))),
        ('no-change resync (best of 3)', f'{no_change:.2f} s', f'<= {TARGET_NO_CHANGE_SECONDS} s',
         verdict(no_change <= TARGET_NO_CHANGE_SECONDS)),
        ('  the first, looking again at what the build wrote', f'{verifying:.2f} s', '', ''),
        ('  rows written (dcim, ipam, ownership, change log)', f'{no_change_rows}', '0', verdict(no_change_rows == 0)),
        ('  change-log entries', f'{no_change_log}', '0', verdict(no_change_log == 0)),
        (f'resync after {changed} objects changed', f'{changed_seconds:.2f} s', f'<= {TARGET_ONE_PERCENT_SECONDS} s',
         verdict(changed_seconds <= TARGET_ONE_PERCENT_SECONDS)),
        ('  objects updated', f'{updated}', f'{changed}', verdict(updated == changed)),
        ('  rows written', f'{changed_rows}', '', ''),
    ]
    if naive is not None:
        speedup = naive / initial
        rows += [
            ('naive per-object loop, same objects', f'{naive:.2f} s', '', ''),
            ('  speedup of the build', f'{speedup:.1f}x', f'>= {TARGET_SPEEDUP}x', verdict(speedup >= TARGET_SPEEDUP)),
        ]
    width = max(len(row[0]) for row in rows)
    print()
    print(f'{"measure":<{width}}  {"value":>12}  {"target":>10}  result')
    for name, value, target, result in rows:
        print(f'{name:<{width}}  {value:>12}  {target:>10}  {result}')
    failed = [row[0] for row in rows if row[3] == 'FAIL']
    print(f'\n{"FAIL: " + ", ".join(failed) if failed else "PASS"}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
