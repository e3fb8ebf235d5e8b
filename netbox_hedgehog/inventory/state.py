"""
Whether an inventory step can be skipped: nothing it reads has changed since the fabric's last complete step.

A step reads the fabric's mirror and inventory settings, the catalogue objects it may share with users
(manufacturers, platforms, device roles, device types, tags), and the NetBox objects the fabric owns. The last
complete step records what it started from (models.InventoryState); the next run compares, in a few aggregate
queries, and skips mapping and comparing the whole inventory when all of this holds:

- that step was settled: its outcome depended on nothing else (no conflict with users' objects, no write that
  failed, no orphan kept because users' objects use it), so running it again would find what it found;
- the plugin's code, the fabric's name and inventory settings, and the catalogue are as they were;
- every mirrored kind has the same rows: the same count and the same latest last_updated (Agents: the same values
  of the columns the inventory reads, since an Agent's row changes with every heartbeat);
- the tags on the fabric's objects are the same;
- every owned object still exists, and none was saved after that step started (last_updated, which NetBox sets on
  every save, by the UI, the REST API, scripts or the ORM).

What the step wrote itself was saved after it started, so the run after a step that wrote is not skipped: it checks
those objects once more and writes nothing. A skipped run writes nothing at all and reports what a run that changes
nothing would: every owned object unchanged, and the same errors.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, Q
from extras.models import TaggedItem

from .. import __version__
from ..kinds import KINDS
from ..models import InventoryObject, InventoryState
from ..run_record import SyncError, merge_errors

__all__ = ('CATALOGUE', 'READ_COLUMNS', 'current_inputs', 'nothing_changed', 'record_step', 'reported_errors')

# Mirrored kinds whose rows change for reasons the inventory does not read: only these columns count. A live
# Agent's row changes with every heartbeat; the switch mapping reads its switch and serial number (mappings.switch).
READ_COLUMNS = {'Agent': ('switch_id', 'serial_number')}
# Objects the plan may use without owning them (an existing manufacturer, platform, role or device type with the
# same slug), and the tags it puts on what it owns. A change to any of them anywhere in NetBox runs the step again.
CATALOGUE = ('dcim.Manufacturer', 'dcim.Platform', 'dcim.DeviceRole', 'dcim.DeviceType', 'extras.Tag')


def _quote(name):
    return connection.ops.quote_name(name)


def _rows_fingerprint(selects, parameters):
    """{name: [count, mark]} from UNION ALL'ed SELECTs of (name, count, mark as text), in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(' UNION ALL '.join(selects), parameters)
        return {name: [count, mark] for name, count, mark in cursor.fetchall()}


def _mirror(fabric):
    """Per mirrored kind: its rows' count and latest last_updated, or a digest of the columns READ_COLUMNS names."""
    selects, parameters = [], []
    for kind in KINDS:
        table = _quote(kind.model._meta.db_table)
        columns = READ_COLUMNS.get(kind.kind, ())
        if columns:
            values = ', '.join(_quote(column) for column in columns)
            mark = f'md5(json_agg(json_build_array({values}) ORDER BY id)::text)'
        else:
            mark = 'max(last_updated)::text'
        selects.append(f'SELECT %s::text, count(*), {mark} FROM {table} WHERE fabric_id = %s')
        parameters += [kind.kind, fabric.pk]
    return _rows_fingerprint(selects, parameters)


def _catalogue():
    selects, parameters = [], []
    for label in CATALOGUE:
        table = _quote(apps.get_model(label)._meta.db_table)
        selects.append(f'SELECT %s::text, count(*), max(last_updated)::text FROM {table}')
        parameters.append(label)
    return _rows_fingerprint(selects, parameters)


def _tags(fabric):
    """[count, digest] of every tag on every object the fabric owns: users' tags, the owner tag, the fabric's own."""
    tagged = _quote(TaggedItem._meta.db_table)
    owned = _quote(InventoryObject._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), md5(string_agg(concat_ws(' ', t.content_type_id, t.object_id, t.tag_id), ','
                                            ORDER BY t.content_type_id, t.object_id, t.tag_id))
            FROM {tagged} AS t JOIN {owned} AS o ON o.object_type_id = t.content_type_id AND o.object_id = t.object_id
            WHERE o.fabric_id = %s
            """,
            [fabric.pk],
        )
        return list(cursor.fetchone())


@cache
def _code():
    """
    The plugin's version and a digest of the code that decides what a step writes (this package and the kinds'
    mappings), so that an upgrade, or a checkout that changes them without a new version, runs the step again.
    """
    package = Path(__file__).resolve().parent
    sources = sorted(package.glob('*.py')) + [package.parent / 'kinds' / 'mappings.py']
    code = hashlib.sha256()
    for source in sources:
        code.update(source.read_bytes() if source.exists() else source.name.encode())
    return [__version__, code.hexdigest()]


def _settings(fabric):
    return [
        *_code(), fabric.name, fabric.inventory_site_id, fabric.inventory_tenant_id, fabric.inventory_orphans,
        fabric.inventory_adopt_existing,
    ]


def current_inputs(fabric):
    """Fingerprints of what a step reads besides the objects the fabric owns, as JSON stores them."""
    inputs = {
        'settings': _settings(fabric), 'mirror': _mirror(fabric), 'catalogue': _catalogue(), 'tags': _tags(fabric),
    }
    # Compared with what a JSON field gives back: lists, strings, numbers.
    return json.loads(json.dumps(inputs))


def _owned_unchanged(fabric, since):
    """Whether every object the fabric owns still exists and none was saved after `since`."""
    records = InventoryObject.objects.filter(fabric=fabric).order_by().values_list('object_type_id').annotate(
        count=Count('pk'),
    )
    for type_id, count in records:
        model = ContentType.objects.get_for_id(type_id).model_class()
        owned = InventoryObject.objects.filter(fabric=fabric, object_type_id=type_id).values('object_id')
        found = model.objects.filter(pk__in=owned).aggregate(
            existing=Count('pk'), saved=Count('pk', filter=Q(last_updated__gt=since)),
        )
        if found['existing'] != count or found['saved']:
            return False
    return True


def nothing_changed(fabric, inputs):
    """The fabric's last complete step, when nothing it reads has changed since (see above); else None."""
    state = InventoryState.objects.filter(fabric=fabric).first()
    if state is None or not state.settled or state.inputs != inputs or not _owned_unchanged(fabric, state.started):
        return None
    return state


def unchanged_counts(counts):
    """{label: n} that a run changing nothing after a step with these {label: {action: n}} finds unchanged."""
    found = {}
    for label, actions in counts.items():
        total = sum(actions.get(action, 0) for action in ('created', 'updated', 'adopted', 'unchanged'))
        if total:
            found[label] = total
    return found


def record_step(fabric, started, inputs, settled, counts, errors):
    """Record a complete step: when it started, what it read, whether it settled, and what it found."""
    InventoryState.objects.update_or_create(fabric=fabric, defaults={
        'started': started, 'inputs': inputs, 'settled': settled, 'counts': unchanged_counts(counts),
        'errors': merge_errors([], errors),
    })


def reported_errors(state):
    return [SyncError.from_dict(data) for data in state.errors]
