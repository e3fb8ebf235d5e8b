"""
Write a Plan into NetBox: create what is missing, update only fields that differ, never touch what the fabric
does not own.

New devices, interfaces, cables, VLANs, prefixes and addresses, interfaces taken over from a new device's type and
the devices' primary IPs are written in bulk, per model, by bulk.py, with what NetBox's save() does for each (change
records, search cache, event rules, counters, cable paths). Updates, deletions and the few other objects are saved
one by one through the ORM, so NetBox's signals see them. Everything is read in bulk, one query per model, so a run
in which nothing changed reads a few queries and writes nothing.
"""

import logging
from collections import Counter, defaultdict

from dcim.models import CableTermination, Interface
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.backends.postgresql.psycopg_any import NumericRange
from extras.models import Tag, TaggedItem

from ..models import InventoryObject
from ..run_record import SyncError
from ..timing import phase
from . import bulk
from .plan import Ref, Source

__all__ = ('MODEL_ORDER', 'Writer', 'model_label', 'taggable')

logger = logging.getLogger('netbox_hedgehog.inventory')

# The order objects are written in: everything an object refers to comes before it.
MODEL_ORDER = (
    'dcim.Manufacturer', 'dcim.Platform', 'dcim.DeviceRole', 'dcim.DeviceType', 'dcim.InterfaceTemplate',
    'extras.Tag', 'dcim.Device', 'dcim.Interface', 'dcim.Cable', 'ipam.VLANGroup', 'ipam.VLAN', 'ipam.VRF',
    'ipam.Prefix', 'ipam.IPAddress',
)
# A cable's ends are its terminations, not fields: compared and written apart from the rest.
CABLE_ENDS = ('a_terminations', 'b_terminations')
# Objects the sync takes over in bulk: interfaces a new device got from its type (bulk.update_objects).
BULK_CLAIMS = ('dcim.interface',)
WRITE_FAILED = 'could not be written to NetBox; the NetBox log ("netbox_hedgehog.inventory") has the details'
# Values that compare as they are, read from the database or given by the plan; others (addresses, VLAN id ranges)
# go through comparable(). Found equal or not without a call per value, which a resync makes for every field.
PLAIN_TYPES = frozenset((str, int, bool, type(None)))


def model_label(model):
    return model._meta.label_lower


def taggable(model):
    """
    Device type components (interface templates) and tags themselves take no tags; their ownership record says whose
    they are.
    """
    return hasattr(model, 'tags')


def comparable(value):
    """A field value as the plan holds it, whether it came from the plan or from the database."""
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, NumericRange):
        return (value.lower, value.upper)
    if isinstance(value, (list, tuple)):
        return tuple(comparable(item) for item in value)
    if value is not None and type(value).__module__.startswith('netaddr'):
        return str(value)
    return value


def differs(old, new):
    """Whether a value read from the database differs from the plan's."""
    if type(old) is type(new) and type(new) in PLAIN_TYPES:
        return old != new
    return comparable(old) != comparable(new)


def stored(attname, value):
    """A plan value as the model field takes it."""
    if attname == 'vid_ranges':
        return [NumericRange(low, high, bounds='[)') for low, high in value]
    return value


class Record:
    """An ownership record as the writer reads it."""

    __slots__ = ('adopted', 'object_id', 'orphaned', 'pk')

    def __init__(self, pk, object_id, orphaned, adopted):
        self.pk, self.object_id, self.orphaned, self.adopted = pk, object_id, orphaned, adopted


class Pending:
    """Creations and take-overs of one model and order, queued to be written together."""

    def __init__(self, model, object_type):
        self.model = model
        self.object_type = object_type
        self.order = None
        self.creations = []  # [(want, fields)]
        self.claims = []  # [(want, fields, pk)]
        self.updates = []  # [(want, pk, changed fields)]


class Writer:
    def __init__(self, fabric, plan, tag, orphan_tag):
        self.fabric = fabric
        self.plan = plan
        self.tag = tag
        self.orphan_tag = orphan_tag
        self.adopt = fabric.inventory_adopt_existing
        # (model label, Source) -> primary key of the NetBox object, for every written or found object.
        self.pks = {}
        self.owned = set()
        # Found unchanged so far: a late field that differs turns them into updates.
        self.unchanged = set()
        self.counts = defaultdict(Counter)
        self.errors = []
        # Whether the outcome depends on nothing but the plan and what the fabric owns (inventory/state.py): a
        # conflict with users' objects, a failed write or an orphan kept for users' objects unsettles it.
        self.settled = True
        self.records = self._read_records()

    def _read_records(self):
        records = defaultdict(dict)
        rows = InventoryObject.objects.filter(fabric=self.fabric).values_list(
            'pk', 'object_type_id', 'object_id', 'kind', 'uid', 'part', 'orphaned', 'adopted',
        )
        labels = {}
        for pk, type_id, object_id, kind, uid, part, orphaned, adopted in rows:
            label = labels.get(type_id)
            if label is None:
                label = labels[type_id] = model_label(ContentType.objects.get_for_id(type_id).model_class())
            records[label][Source(kind, uid, part)] = Record(pk, object_id, orphaned, adopted)
        return records

    # Resolving the plan's references.

    def resolve(self, value):
        if type(value) is Ref:
            return self.pks.get((value.model.lower(), value.source))
        if type(value) is tuple and value and type(value[0]) is Ref:
            resolved = tuple(self.resolve(item) for item in value)
            return None if None in resolved else resolved
        return value

    def resolved_fields(self, want):
        """The want's fields with references resolved, or None when one refers to an object that is not written."""
        fields = {}
        for attname, value in want.fields.items():
            if type(value) in PLAIN_TYPES:
                fields[attname] = value
                continue
            resolved = self.resolve(value)
            if resolved is None:
                return None
            fields[attname] = resolved
        return fields

    # Writing.

    def write(self):
        for label in MODEL_ORDER:
            wants = self.plan.of_model(label)
            if wants or self.records.get(label.lower()):
                with phase(f'inventory: {label.lower()}'):
                    self._write_model(apps.get_model(label), wants)
        with phase('inventory: late fields'):
            self._write_late_fields()
        with phase('inventory: tags'):
            self._write_tags()

    def _write_model(self, model, wants):
        label = model_label(model)
        records = self.records[label]
        compared = sorted({name for want in wants for name in want.fields if name not in CABLE_ENDS})
        object_type = ContentType.objects.get_for_model(model)
        # What this fabric owns of the model, as a subquery: tens of thousands of ids as parameters cost more to send
        # than the join costs the database.
        owned = InventoryObject.objects.filter(fabric=self.fabric, object_type=object_type).values('object_id')
        actual = {row['pk']: row for row in model.objects.filter(pk__in=owned).values('pk', *compared)}
        self._forget_vanished(label, records, actual)
        if taggable(model):
            tagged = set(TaggedItem.objects.filter(
                content_type=object_type, tag=self.tag, object_id__in=owned,
            ).values_list('object_id', flat=True))
        else:
            tagged = {record.object_id for record in records.values()}
        ends, cabled = {}, {}
        if model._meta.label == 'dcim.Cable':
            ends = self._cable_ends(owned)
            # Only a new cable can land on a port that has someone else's cable.
            cabled = self._cabled_interfaces([want for want in wants if want.source not in records])
        found = self._find_existing(model, [want for want in wants if want.source not in records])
        # Objects this fabric owns for a source it no longer has: one with the identity of a new source is the
        # same thing recreated in the cluster (a new uid), and is taken back rather than reported as a conflict.
        wanted = {want.source for want in wants}
        reclaimable = {record.object_id: source for source, record in records.items() if source not in wanted}
        # A cable has no name in NetBox: its ends are its identity.
        reclaimable_cables = {ends[pk]: pk for pk in reclaimable if pk in ends}
        self.pending = Pending(model, object_type)
        # Identity -> the first want with it: a second is the same NetBox object (two VPC subnets on one VLAN).
        first_of = {}
        for want in wants:
            if want.order != self.pending.order:
                # A LAG, written just before its members, is what they refer to.
                self._flush()
                self.pending.order = want.order
            fields = self.resolved_fields(want)
            if fields is None or (want.parent is not None and self._key(want.parent) not in self.owned):
                continue
            if want.identity and not want.shared:
                first = first_of.setdefault(self._identity(want), want)
                if first is not want and want.source not in records:
                    self.errors.append(SyncError(
                        f'the {model._meta.verbose_name} "{want.name}" is the same NetBox object as "{first.name}" '
                        f'(of the {first.source.kind} {self._source_name(first)}); NetBox holds only one, so it was '
                        'not added', want.source.kind, self._source_name(want),
                    ))
                    continue
            record = records.get(want.source)
            if record is not None:
                self._update(model, object_type, want, fields, record, actual[record.object_id],
                             record.object_id in tagged, ends.get(record.object_id))
                continue
            existing = found.get(id(want))
            if existing is None and ends:
                existing = reclaimable_cables.get(self._cable_key(fields))
            if existing in reclaimable:
                record = self._move_record(records, reclaimable.pop(existing), want.source)
                self._update(model, object_type, want, fields, record, actual[existing], existing in tagged,
                             ends.get(existing))
            elif existing is None:
                if cabled and self._cabled_elsewhere(want, fields, cabled, actual):
                    continue
                self._create(model, object_type, want, fields)
            elif want.shared:
                self.pks[self._key(want)] = existing
            elif want.claim or self.adopt:
                self._adopt(model, object_type, want, fields, existing)
            else:
                self._conflict(want, SyncError(
                    f'NetBox already has the {model._meta.verbose_name} "{want.name}" (id {existing}), which this '
                    'fabric did not create; it was left unchanged and the fabric object was not added',
                    want.source.kind, self._source_name(want),
                ))
        self._flush()

    def _conflict(self, want, error):
        """An object of the fabric that NetBox already has, made by someone else: reported, and counted per type."""
        self.settled = False
        self.errors.append(error)
        self.counts[want.model.lower()]['conflicts'] += 1

    def _cabled_interfaces(self, wants):
        """{interface pk: cable pk} of the interfaces the planned cables end on that have a cable already."""
        pks = {pk for want in wants for end in CABLE_ENDS for pk in (self.resolve(want.fields[end]) or ())}
        return dict(Interface.objects.filter(pk__in=pks, cable__isnull=False).values_list('pk', 'cable_id'))

    def _cabled_elsewhere(self, want, fields, cabled, owned_cables):
        """Report a planned cable whose interface has a cable the fabric does not own; True when it has one."""
        for pk in (*fields['a_terminations'], *fields['b_terminations']):
            cable = cabled.get(pk)
            if cable is not None and cable not in owned_cables:
                self._conflict(want, SyncError(
                    f'a port of this link already has the cable {cable}, which this fabric did not create; it was '
                    'left unchanged and the link was not added',
                    want.source.kind, self._source_name(want),
                ))
                return True
        return False

    @staticmethod
    def _cable_key(fields):
        return tuple(sorted(fields['a_terminations'])), tuple(sorted(fields['b_terminations']))

    def _move_record(self, records, old_source, new_source):
        record = records.pop(old_source)
        InventoryObject.objects.filter(pk=record.pk).update(
            kind=new_source.kind, uid=new_source.uid, part=new_source.part,
        )
        records[new_source] = record
        return record

    def _key(self, want_or_ref):
        return (want_or_ref.model.lower(), want_or_ref.source)

    def _source_name(self, want):
        return want.name if want.source.kind != 'Connection' else want.fields.get('label', want.name)

    def _forget_vanished(self, label, records, actual):
        """Records of objects someone deleted in NetBox: the objects are made again, from the fabric."""
        vanished = [source for source, record in records.items() if record.object_id not in actual]
        if vanished:
            InventoryObject.objects.filter(pk__in=[records[source].pk for source in vanished]).delete()
            for source in vanished:
                del records[source]

    def _cable_ends(self, cables):
        ends = defaultdict(lambda: ([], []))
        rows = CableTermination.objects.filter(cable_id__in=cables).values_list(
            'cable_id', 'cable_end', 'termination_id',
        )
        for cable_id, end, termination_id in rows:
            ends[cable_id][0 if end == 'A' else 1].append(termination_id)
        return {pk: (tuple(sorted(a)), tuple(sorted(b))) for pk, (a, b) in ends.items()}

    def _identity(self, want):
        return tuple(value if type(value) in PLAIN_TYPES else comparable(self.resolve(value))
                     for _, value in want.identity)

    def _find_existing(self, model, candidates):
        """{id(want): pk} of existing objects with the identity of wants the fabric does not own yet, in one query."""
        candidates = [want for want in candidates if want.identity]
        if not candidates:
            return {}
        names = [name for name, _ in candidates[0].identity]
        wanted = {}
        for want in candidates:
            wanted.setdefault(self._identity(want), []).append(want)
        query = models.Q()
        for position, name in enumerate(names):
            values = {key[position] for key in wanted}
            condition = models.Q(**{f'{name}__in': [v for v in values if v is not None]})
            if None in values:
                condition |= models.Q(**{f'{name}__isnull': True})
            query &= condition
        found = {}
        for row in model.objects.filter(query).values_list('pk', *names):
            for want in wanted.get(tuple(comparable(value) for value in row[1:]), ()):
                found[id(want)] = row[0]
        rest = [want for want in candidates if want.also_unique and id(want) not in found]
        for position, (name, _) in enumerate(rest[0].also_unique if rest else ()):
            by_value = {comparable(self.resolve(want.also_unique[position][1])): want for want in rest}
            for value, pk in model.objects.filter(**{f'{name}__in': list(by_value)}).values_list(name, 'pk'):
                found.setdefault(id(by_value[comparable(value)]), pk)
        return found

    def _update(self, model, object_type, want, fields, record, row, tagged, ends):
        key = self._key(want)
        self.pks[key] = record.object_id
        self.owned.add(key)
        changed = {name: value for name, value in fields.items()
                   if name not in CABLE_ENDS and differs(row[name], value)}
        if model._meta.label == 'dcim.Cable' and ends != self._cable_key(fields):
            # A cable's ends are its identity in NetBox: a link moved to other ports is a new cable.
            if self._run(want, self._delete_object, model, record.object_id):
                InventoryObject.objects.filter(pk=record.pk).delete()
                del self.records[model_label(model)][want.source]
                self.owned.discard(key)
                self._create(model, object_type, want, fields, counted='updated')
            return
        if not changed and tagged and not record.orphaned:
            self.counts[model_label(model)]['unchanged'] += 1
            self.unchanged.add(key)
            return
        if tagged and not record.orphaned and set(changed) <= bulk.PLAIN_FIELDS.get(model_label(model), set()):
            self.pending.updates.append((want, record.object_id, changed))
            return
        if self._run(want, self._save_existing, model, record.object_id, changed, not tagged, record.orphaned):
            if record.orphaned:
                InventoryObject.objects.filter(pk=record.pk).update(orphaned=False)
            self.counts[model_label(model)]['updated'] += 1

    def _create(self, model, object_type, want, fields, counted='created'):
        if not self._fits(model, want, fields):
            return
        if model_label(model) in bulk.BULK_MODELS and counted == 'created':
            self.pending.creations.append((want, fields))
            return
        self._create_one(model, object_type, want, fields, counted)

    def _create_one(self, model, object_type, want, fields, counted='created'):
        instance = self._run(want, self._save_new, model, object_type, want, fields)
        if instance is None:
            return
        self._created(want, instance.pk, counted)

    def _created(self, want, pk, counted='created'):
        key = self._key(want)
        self.pks[key] = pk
        self.owned.add(key)
        self.counts[key[0]][counted] += 1

    def _flush(self):
        """Write the creations and take-overs queued for the current model and order, in bulk (bulk.py)."""
        pending = self.pending
        if pending.creations:
            self._flush_creations(pending.model, pending.object_type, pending.creations)
        if pending.claims:
            self._flush_claims(pending.model, pending.object_type, pending.claims)
        if pending.updates:
            self._flush_updates(pending.model, pending.updates)
        pending.creations, pending.claims, pending.updates = [], [], []

    def _flush_updates(self, model, updates):
        try:
            with transaction.atomic():
                bulk.update_objects(model, {pk: {name: stored(name, value) for name, value in changed.items()}
                                            for _, pk, changed in updates})
        except (DatabaseError, ValidationError, ValueError, TypeError):
            logger.warning('Inventory of fabric %s: updating %d %s at once failed; updating them one by one',
                           self.fabric.name, len(updates), model_label(model), exc_info=True)
            for want, pk, changed in updates:
                if self._run(want, self._save_existing, model, pk, changed, False, False):
                    self.counts[model_label(model)]['updated'] += 1
            return
        self.counts[model_label(model)]['updated'] += len(updates)

    def _flush_creations(self, model, object_type, creations):
        label = model_label(model)
        if label == 'dcim.device':
            # Devices of a type with more than plain interface templates are made by Device.save() itself.
            plain = bulk.plain_device_types({fields['device_type_id'] for _, fields in creations})
            for want, fields in creations:
                if fields['device_type_id'] not in plain:
                    self._create_one(model, object_type, want, fields)
            creations = [(want, fields) for want, fields in creations if fields['device_type_id'] in plain]
            if not creations:
                return
        if label == 'dcim.cable':
            # Cables on channelized interfaces are made by Cable.save() itself.
            plain = bulk.plain_cables([(None, f['a_terminations'], f['b_terminations']) for _, f in creations])
            for index, (want, fields) in enumerate(creations):
                if index not in plain:
                    self._create_one(model, object_type, want, fields)
            creations = [creation for index, creation in enumerate(creations) if index in plain]
            if not creations:
                return
        try:
            with transaction.atomic():
                if label == 'dcim.cable':
                    pks = bulk.create_cables([
                        ({n: v for n, v in fields.items() if n not in CABLE_ENDS},
                         fields['a_terminations'], fields['b_terminations'])
                        for _, fields in creations
                    ], self.tag)
                else:
                    pks = bulk.create_objects(model, [
                        model(**{name: stored(name, value) for name, value in fields.items()})
                        for _, fields in creations
                    ], self.tag, [self._extra_tags(want) for want, _ in creations])
                self._own_all(object_type, [(want, pk) for (want, _), pk in zip(creations, pks, strict=True)], False)
        except (DatabaseError, ValidationError, ValueError, TypeError):
            # One bad object fails the whole batch: written one by one, each failure is that object's error.
            logger.warning('Inventory of fabric %s: writing %d %s at once failed; writing them one by one',
                           self.fabric.name, len(creations), label, exc_info=True)
            for want, fields in creations:
                self._create_one(model, object_type, want, fields)
            return
        for (want, _), pk in zip(creations, pks, strict=True):
            self._created(want, pk)

    def _flush_claims(self, model, object_type, claims):
        names = sorted({name for _, fields, _ in claims for name in fields})
        rows = {row['pk']: row for row in model.objects.filter(
            pk__in=[pk for _, _, pk in claims]).values('pk', *names)}
        changes = {pk: {name: stored(name, value) for name, value in fields.items()
                        if comparable(rows[pk][name]) != comparable(value)}
                   for _, fields, pk in claims}
        try:
            with transaction.atomic():
                bulk.update_objects(model, changes, self.tag)
                self._own_all(object_type, [(want, pk) for want, _, pk in claims], True)
        except (DatabaseError, ValidationError, ValueError, TypeError):
            logger.warning('Inventory of fabric %s: taking over %d %s at once failed; taking them one by one',
                           self.fabric.name, len(claims), model_label(model), exc_info=True)
            for want, fields, pk in claims:
                self._adopt_one(model, object_type, want, fields, pk)
            return
        for want, _, pk in claims:
            self._created(want, pk, 'adopted')

    def _adopt(self, model, object_type, want, fields, pk):
        if not self._fits(model, want, fields):
            return
        if model_label(model) in BULK_CLAIMS:
            self.pending.claims.append((want, fields, pk))
            return
        self._adopt_one(model, object_type, want, fields, pk)

    def _adopt_one(self, model, object_type, want, fields, pk):
        row = model.objects.filter(pk=pk).values(*[n for n in fields if n not in CABLE_ENDS]).first()
        changed = {name: value for name, value in fields.items() if comparable(row[name]) != comparable(value)}

        def adopt():
            self._save_existing(model, pk, changed, True, False)
            self._own(object_type, want, pk, adopted=True)

        if self._run(want, adopt):
            key = self._key(want)
            self.pks[key] = pk
            self.owned.add(key)
            self.counts[model_label(model)]['adopted'] += 1

    def _own_all(self, object_type, owned, adopted):
        """Ownership records of [(want, pk)], in one insert."""
        rows = InventoryObject.objects.bulk_create([
            InventoryObject(fabric=self.fabric, object_type=object_type, object_id=pk, kind=want.source.kind,
                            uid=want.source.uid, part=want.source.part, adopted=adopted)
            for want, pk in owned
        ], batch_size=bulk.BATCH_SIZE)
        records = self.records[model_label(object_type.model_class())]
        for row, (want, pk) in zip(rows, owned, strict=True):
            records[want.source] = Record(row.pk, pk, False, adopted)

    def _own(self, object_type, want, pk, adopted):
        record = InventoryObject.objects.create(
            fabric=self.fabric, object_type=object_type, object_id=pk, kind=want.source.kind, uid=want.source.uid,
            part=want.source.part, adopted=adopted,
        )
        self.records[model_label(object_type.model_class())][want.source] = Record(record.pk, pk, False, adopted)

    def _fits(self, model, want, fields):
        for name, value in fields.items():
            field = model._meta.get_field(name) if name not in CABLE_ENDS else None
            limit = getattr(field, 'max_length', None)
            if isinstance(value, str) and limit and len(value) > limit:
                self.errors.append(SyncError(
                    f'its {field.verbose_name} is longer than NetBox allows ({limit}); not added',
                    want.source.kind, self._source_name(want),
                ))
                return False
        return True

    def _run(self, want, operation, *args):
        """Run one object's write in its own savepoint: a failure is that object's error, not the run's."""
        try:
            with transaction.atomic():
                return operation(*args) or True
        except (DatabaseError, ValidationError, ValueError, TypeError):
            logger.exception('Inventory of fabric %s: %s %s', self.fabric.name, want.model, want.source)
            self.settled = False
            self.errors.append(SyncError(f'{want.model.split(".")[1]} "{want.name}" {WRITE_FAILED}',
                                         want.source.kind, self._source_name(want)))
            return None

    def _terminations(self, pks):
        by_pk = Interface.objects.in_bulk(pks)
        return [by_pk[pk] for pk in pks]

    def _save_new(self, model, object_type, want, fields):
        instance = model(**{name: stored(name, value) for name, value in fields.items() if name not in CABLE_ENDS})
        if model._meta.label == 'dcim.Cable':
            instance.a_terminations = self._terminations(fields['a_terminations'])
            instance.b_terminations = self._terminations(fields['b_terminations'])
        instance.save()
        if taggable(model):
            instance.tags.add(self.tag, *Tag.objects.filter(pk__in=self._extra_tags(want)))
        self._own(object_type, want, instance.pk, adopted=False)
        return instance

    def _save_existing(self, model, pk, changed, add_tag, orphaned):
        instance = model.objects.get(pk=pk)
        instance.snapshot()
        for name, value in changed.items():
            setattr(instance, name, stored(name, value))
        if changed:
            instance.save()
        if add_tag and taggable(model):
            instance.tags.add(self.tag)
        if orphaned and taggable(model):
            instance.tags.remove(self.orphan_tag)
        return instance

    def _delete_object(self, model, pk):
        instance = model.objects.get(pk=pk)
        instance.snapshot()
        instance.delete()
        return True

    def _write_late_fields(self):
        late = [want for want in self.plan.wants.values() if want.late and self._key(want) in self.owned]
        by_model = defaultdict(list)
        for want in late:
            by_model[want.model.lower()].append(want)
        for label, wants in by_model.items():
            model = apps.get_model(label)
            names = sorted({name for want in wants for name in want.late})
            rows = {row['pk']: row for row in model.objects.filter(
                pk__in=[self.pks[self._key(w)] for w in wants]).values('pk', *names)}
            changed = []
            for want in wants:
                pk = self.pks[self._key(want)]
                fields = {name: self.resolve(value) for name, value in want.late.items()
                          if comparable(rows[pk][name]) != comparable(self.resolve(value))}
                if fields:
                    changed.append((want, pk, fields))
            if label in bulk.BULK_MODELS and changed:
                try:
                    with transaction.atomic():
                        bulk.update_objects(model, {pk: fields for _, pk, fields in changed})
                except (DatabaseError, ValidationError, ValueError, TypeError):
                    logger.warning('Inventory of fabric %s: updating %d %s at once failed; updating them one by one',
                                   self.fabric.name, len(changed), label, exc_info=True)
                else:
                    for want, _, _ in changed:
                        self._late_written(label, want)
                    continue
            for want, pk, fields in changed:
                if self._run(want, self._save_existing, model, pk, fields, False, False):
                    self._late_written(label, want)

    def _late_written(self, label, want):
        """An object found unchanged whose late fields or tags the run has since written counts as updated."""
        key = self._key(want)
        if key in self.unchanged:
            self.unchanged.discard(key)
            self.counts[label]['unchanged'] -= 1
            self.counts[label]['updated'] += 1

    # Tags of the fabric's own (a switch's group tags) on the objects it owns.

    def _extra_tags(self, want):
        """Primary keys of the fabric's tags `want` carries beside the owner tag, those the run has (no conflict)."""
        return [pk for pk in (self.resolve(ref) for ref in want.tags) if pk is not None]

    def _write_tags(self):
        """
        Put the fabric's tags on the owned objects of the plan that ask for them, and take those the fabric owns off
        the ones that no longer do (a switch that left a group, a group that is gone). Tags the fabric does not own,
        users' among them, are never touched. New objects got theirs with their creation; this writes changes only.
        """
        fabric_tags = {record.object_id for record in self.records.get('extras.tag', {}).values()}
        if not fabric_tags:
            return
        current = defaultdict(set)
        rows = TaggedItem.objects.filter(tag_id__in=fabric_tags).values_list('content_type_id', 'object_id', 'tag_id')
        for type_id, object_id, tag_id in rows:
            current[(type_id, object_id)].add(tag_id)
        type_ids = {}
        for want in self.plan.wants.values():
            key = self._key(want)
            if key not in self.owned or (not want.tags and not current):
                continue
            label = key[0]
            if label not in type_ids:
                model = apps.get_model(label)
                type_ids[label] = ContentType.objects.get_for_model(model).pk if taggable(model) else None
            if type_ids[label] is None:
                continue
            pk = self.pks[key]
            have = current.get((type_ids[label], pk), set())
            wanted = set(self._extra_tags(want))
            if have != wanted and self._run(want, self._retag, apps.get_model(label), pk, wanted - have,
                                            have - wanted):
                self._late_written(label, want)

    def _retag(self, model, pk, added, removed):
        """One change record, as NetBox makes it when a user edits the object's tags."""
        instance = model.objects.get(pk=pk)
        instance.snapshot()
        if added:
            instance.tags.add(*Tag.objects.filter(pk__in=added))
        if removed:
            instance.tags.remove(*Tag.objects.filter(pk__in=removed))
        return instance
