"""
Write many inventory objects of one model at once, and do for them what NetBox's save() and its post_save receivers
do for one object: the change log (core.signals.handle_changed_object), the search cache (netbox.search.signals),
event rules, counter caches (utilities.counters), a device's components from its type, a prefix's place in its
VRF's hierarchy, and a cable's terminations and paths.

Saving object by object costs some forty queries each (a cable over a hundred); here each step is a few queries per
model. Every record is built by NetBox's own helpers (to_objectchange(), the search backend's cache(), the device
type's templates, create_cablepaths()), so the change log, search and cable traces read exactly what NetBox writes.
Only models whose save() this module reproduces come here (BULK_MODELS); the writer saves the rest one by one.
"""

from collections import Counter, defaultdict
from functools import partial

from core.choices import ObjectChangeActionChoices
from core.events import OBJECT_CREATED, OBJECT_UPDATED
from core.models import ObjectChange, ObjectType
from dcim.models import Cable, CablePath, CableTermination, Device, DeviceType, Interface, InterfaceTemplate
from dcim.utils import create_cablepaths, object_to_path_node
from django.db.models import F, Q
from django.utils import timezone
from django_prometheus.models import model_inserts, model_updates
from extras.cache import invalidate_config_context_for_objects
from extras.events import enqueue_event
from extras.models import CachedValue, CustomField, TaggedItem
from ipam.utils import rebuild_prefixes
from netbox.context import current_request, events_queue
from netbox.search import get_indexer
from netbox.search.backends import search_backend
from utilities.counters import get_counters_for_model

from ..timing import phase
from .paths import direct_paths, is_plain_end

__all__ = (
    'BULK_MODELS', 'create_cables', 'create_objects', 'plain_cables', 'plain_device_types', 'update_objects',
)

# Models created in bulk, and (for update_objects) updated in bulk: their save() only derives fields this module
# derives too. Everything else (catalogue objects, VLAN groups, VRFs ...) is few and saved one by one.
BULK_MODELS = ('dcim.device', 'dcim.interface', 'dcim.cable', 'ipam.vlan', 'ipam.prefix', 'ipam.ipaddress')
# Fields of BULK_MODELS whose change NetBox's save() and receivers derive nothing from (no path, hierarchy,
# counter, config context or child device follows them): such updates go through update_objects().
PLAIN_FIELDS = {
    'dcim.device': {'description', 'serial', 'status'},
    'dcim.interface': {'description', 'label', 'mgmt_only', 'type', 'lag_id'},
    'dcim.cable': {'label'},
    'ipam.vlan': {'description', 'name', 'status'},
    'ipam.prefix': {'description', 'status'},
    'ipam.ipaddress': {'description', 'status'},
}
BATCH_SIZE = 1000
# bulk_update() sets each field with a CASE over the batch's rows, which costs rows x rows: smaller batches.
UPDATE_BATCH_SIZE = 100
# Templates a device type may hold besides interface templates. A type with any of them (or with interface
# templates that nest, bridge or channelize) makes its devices through Device.save(), which knows them all.
OTHER_TEMPLATES = (
    'consoleporttemplates', 'consoleserverporttemplates', 'powerporttemplates', 'poweroutlettemplates',
    'coolingintaketemplates', 'coolingoutflowtemplates', 'rearporttemplates', 'frontporttemplates',
    'modulebaytemplates', 'devicebaytemplates', 'inventoryitemtemplates', 'port_mappings',
)
# What to_objectchange() and the search indexers read besides the row: the related object of a change record.
RELATED = {
    'dcim.interface': {'select': ('device', 'cable')},
    'dcim.cabletermination': {'select': ('cable',), 'prefetch': ('termination',)},
    'ipam.ipaddress': {'prefetch': ('assigned_object',)},
}


def _label(model):
    return model._meta.label_lower


def fetch(model, pks, fresh=False, tag=None, extra_tags=None):
    """
    The objects with their many-to-many values (tags included) and related objects loaded, so that NetBox's
    serialization and change records read them without a query per object. `fresh` objects were inserted by this
    run: they have no many-to-many values but `tag` (if given) and their `extra_tags` ({pk: [Tag]}), known without
    reading them.
    """
    related = RELATED.get(_label(model), {})
    many = [field.name for field in model._meta.many_to_many]
    queryset = model.objects.filter(pk__in=pks)
    if 'select' in related:
        queryset = queryset.select_related(*related['select'])
    objects = queryset.prefetch_related(*([] if fresh else many), *related.get('prefetch', ())).in_bulk()
    objects = [objects[pk] for pk in pks if pk in objects]
    if fresh:
        known = {field.name: field.related_model.objects.none() for field in model._meta.many_to_many}
        # One query per set of tags, shared by the objects that carry it.
        tag_sets = {}
        for instance in objects:
            instance._prefetched_objects_cache = dict(known)
            tags = ([tag] if tag is not None else []) + (extra_tags or {}).get(instance.pk, [])
            if not tags:
                continue
            tag_pks = tuple(t.pk for t in tags)
            if 'tags' in known:
                if tag_pks not in tag_sets:
                    tag_sets[tag_pks] = type(tags[0]).objects.filter(pk__in=tag_pks)
                    len(tag_sets[tag_pks])  # evaluated once
                instance._prefetched_objects_cache['tags'] = tag_sets[tag_pks]
            # As NetBox's REST API serializers set it on an object they tag: what serialize_object() reads.
            instance._tags = tags
    return objects


def release(*groups):
    """
    Drop what fetch() prefetched for objects whose change records and search entries are made. A queryset Django
    prefetched refers back to its object (its hints), so each object would be garbage in a reference cycle, which
    only the cyclic garbage collector frees: a whole build's worth of objects, in a collection that lands in the
    middle of a later run (seconds for the benchmark's fabric).
    """
    for objects in groups:
        for instance in objects:
            instance.__dict__.pop('_prefetched_objects_cache', None)


def record_changes(model, instances, action):
    """
    What core.signals.handle_changed_object does per saved object, for all of them: one change record each (as
    the run's user, under its request id) and the event-rule queue entry. Without a request (outside a sync run)
    NetBox records nothing, and neither does this.
    """
    request = current_request.get()
    if request is None or not instances:
        return
    with phase('inventory: of which change log and events'):
        _record_changes(model, instances, action, request)


def _record_changes(model, instances, action, request):
    changes = []
    for instance in instances:
        change = instance.to_objectchange(action)
        if change.has_changes:
            change.user = request.user
            change.user_name = request.user.username
            change.request_id = request.id
            changes.append(change)
    ObjectChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)
    event = OBJECT_CREATED if action == ObjectChangeActionChoices.ACTION_CREATE else OBJECT_UPDATED
    queue = events_queue.get()
    for instance in instances:
        enqueue_event(queue, instance, request, event)
    events_queue.set(queue)
    counter = model_inserts if event == OBJECT_CREATED else model_updates
    counter.labels(model._meta.model_name).inc(len(instances))


def cache_search(model, instances, replace=False):
    """The search cache entries NetBox's indexer makes, for all of them; `replace` drops their old entries first."""
    try:
        indexer = get_indexer(model)
    except KeyError:  # not searchable
        return
    with phase('inventory: of which search cache'):
        _cache_search(model, indexer, instances, replace)


def _cache_search(model, indexer, instances, replace):
    if replace:
        CachedValue.objects.filter(
            object_type=ObjectType.objects.get_for_model(model), object_id__in=[obj.pk for obj in instances],
        ).delete()
    search_backend.cache(instances, indexer=indexer, remove_existing=False)


def count_children(model, instances):
    """The counter caches NetBox keeps on parents (a device's interface count), raised for new children."""
    for field_name, counter_name in get_counters_for_model(model):
        parent_model = model._meta.get_field(field_name).related_model
        per_parent = Counter(getattr(obj, field_name) for obj in instances if getattr(obj, field_name) is not None)
        by_amount = defaultdict(list)
        for pk, amount in per_parent.items():
            by_amount[amount].append(pk)
        for amount, pks in by_amount.items():
            parent_model.objects.filter(pk__in=pks).update(**{counter_name: F(counter_name) + amount})


def tag_objects(model, pks, tag, extra_tags=None):
    """Tag the objects `pks` with `tag`, and each with its `extra_tags` ({pk: [Tag]}) too."""
    object_type = ObjectType.objects.get_for_model(model)
    items = [TaggedItem(content_type_id=object_type.pk, object_id=pk, tag=tag) for pk in pks]
    items += [TaggedItem(content_type_id=object_type.pk, object_id=pk, tag=extra)
              for pk, extras in (extra_tags or {}).items() for extra in extras]
    TaggedItem.objects.bulk_create(items, batch_size=BATCH_SIZE)


def create_objects(model, instances, tag, extra_tags=None):
    """
    Insert unsaved `instances` of a BULK_MODELS model (not cables, see create_cables) tagged with `tag`, and each
    with the tags whose primary keys `extra_tags` lists in the same position (if given), with everything NetBox's
    save() of each would have done. Returns their primary keys, in order.
    """
    prepare = PREPARE.get(_label(model))
    if prepare is not None:
        prepare(instances)
    model.objects.bulk_create(instances, batch_size=BATCH_SIZE)
    pks = [obj.pk for obj in instances]
    extras = {}
    if extra_tags and any(extra_tags):
        tags = type(tag).objects.in_bulk({pk for tag_pks in extra_tags for pk in tag_pks})
        extras = {pk: [tags[tag_pk] for tag_pk in tag_pks] for pk, tag_pks in zip(pks, extra_tags, strict=True)
                  if tag_pks}
    tag_objects(model, pks, tag, extras)
    count_children(model, instances)
    finish = FINISH.get(_label(model))
    if finish is not None:
        finish(instances)
    written = fetch(model, pks, fresh=True, tag=tag, extra_tags=extras)
    record_changes(model, written, ObjectChangeActionChoices.ACTION_CREATE)
    cache_search(model, written)
    release(written)
    return pks


def update_objects(model, changes, tag=None):
    """
    Set fields on existing objects, {pk: {attname: value}}, and tag them with `tag` if given (an object the sync
    takes over): one update change record each, as snapshot() and save() make it. Only for fields whose change
    NetBox's save() derives nothing from (an interface's description or LAG, a device's primary IP).
    """
    before = fetch(model, list(changes))
    now = timezone.now()
    names = {'last_updated'}
    for instance in before:
        instance.snapshot()
        for name, value in changes[instance.pk].items():
            setattr(instance, name, value)
            names.add(name)
        instance.last_updated = now
    model.objects.bulk_update(before, sorted(names), batch_size=UPDATE_BATCH_SIZE)
    if tag is not None:
        tagged = set(TaggedItem.objects.filter(
            content_type=ObjectType.objects.get_for_model(model), tag=tag, object_id__in=list(changes),
        ).values_list('object_id', flat=True))
        tag_objects(model, [obj.pk for obj in before if obj.pk not in tagged], tag)
    written = fetch(model, [obj.pk for obj in before])
    snapshots = {obj.pk: obj._prechange_snapshot for obj in before}
    for instance in written:
        instance._prechange_snapshot = snapshots[instance.pk]
    record_changes(model, written, ObjectChangeActionChoices.ACTION_UPDATE)
    cache_search(model, written, replace=True)
    release(before, written)


# What each model's save() derives before the insert, and its post_save receivers after it.

def _prepare_devices(devices):
    """Device.save() of a new device: airflow, cooling method and platform inherited from its type."""
    types = DeviceType.objects.in_bulk({device.device_type_id for device in devices})
    for device in devices:
        device_type = types[device.device_type_id]
        device.airflow = device.airflow or device_type.airflow
        device.cooling_method = device.cooling_method or device_type.cooling_method
        if device.platform_id is None:
            device.platform_id = device_type.default_platform_id


def _finish_devices(devices):
    """Device.save() instantiates the type's components; the config context receiver queues a render."""
    templates = defaultdict(list)
    for template in InterfaceTemplate.objects.filter(device_type_id__in={d.device_type_id for d in devices}):
        templates[template.device_type_id].append(template)
    defaults = CustomField.objects.get_defaults_for_model(Interface)
    components = []
    for device in devices:
        for template in templates[device.device_type_id]:
            component = template.instantiate(device=device)
            if defaults:
                component.custom_field_data = defaults
            components.append(component)
    if components:
        _prepare_components(components)
        Interface.objects.bulk_create(components, batch_size=BATCH_SIZE)
        count_children(Interface, components)
        written = fetch(Interface, [component.pk for component in components], fresh=True)
        record_changes(Interface, written, ObjectChangeActionChoices.ACTION_CREATE)
        cache_search(Interface, written)
        release(written)
    invalidate_config_context_for_objects('dcim.device', [device.pk for device in devices])


def plain_device_types(type_pks):
    """
    The device types among `type_pks` whose devices _finish_devices() makes completely: interface templates
    only, none of them nested, bridged or channelized.
    """
    plain = set()
    for device_type in DeviceType.objects.filter(pk__in=type_pks):
        if any(getattr(device_type, name).exists() for name in OTHER_TEMPLATES):
            continue
        if device_type.interfacetemplates.filter(
            Q(parent__isnull=False) | Q(bridge__isnull=False) | Q(channels__isnull=False)
            | Q(channel_id__isnull=False),
        ).exists():
            continue
        plain.add(device_type.pk)
    return plain


def _prepare_components(components):
    """ComponentModel.save(): the device's site, location and rack, kept on the component for filtering."""
    places = {row[0]: row[1:] for row in Device.objects.filter(
        pk__in={component.device_id for component in components},
    ).values_list('pk', 'site_id', 'location_id', 'rack_id')}
    for component in components:
        component._site_id, component._location_id, component._rack_id = places[component.device_id]


def _prepare_ip_addresses(addresses):
    """IPAddress.save() keeps DNS names in lower case."""
    for address in addresses:
        address.dns_name = address.dns_name.lower()


def _prepare_prefixes(prefixes):
    """Prefix.save(): its scope's region, site group, site and location, kept for filtering."""
    for prefix in prefixes:
        prefix.cache_related_objects()


def _finish_prefixes(prefixes):
    """The Prefix post_save receiver recounts depth and children around each new prefix: here once per VRF."""
    for vrf_id in {prefix.vrf_id for prefix in prefixes}:
        rebuild_prefixes(vrf_id)


PREPARE = {
    'dcim.device': _prepare_devices,
    'dcim.interface': _prepare_components,
    'ipam.prefix': _prepare_prefixes,
    'ipam.ipaddress': _prepare_ip_addresses,
}
FINISH = {
    'dcim.device': _finish_devices,
    'ipam.prefix': _finish_prefixes,
}


# Cables.

def plain_cables(wanted):
    """
    The positions in `wanted` (as create_cables takes it) of cables that create_cables makes completely: one
    plain interface (paths.is_plain_end) at each end. Others are made by Cable.save().
    """
    ends = {pk for _, a_pks, b_pks in wanted for pk in (*a_pks, *b_pks)}
    plain = {interface.pk for interface in Interface.objects.filter(pk__in=ends).only('pk', 'channels', 'channel_id')
             if is_plain_end(interface)}
    return {index for index, (_, a_pks, b_pks) in enumerate(wanted)
            if len(a_pks) == len(b_pks) == 1 and plain.issuperset((*a_pks, *b_pks))}


def create_cables(wanted, tag):
    """
    Insert cables between single plain interfaces (plain_cables): `wanted` is [(fields, (a interface pk,), (b
    interface pk,))]. As Cable.save() does: the cable, a CableTermination per end, each interface marked with its
    cable (an update in the change log), and the path from each end (paths.py). Returns the cables' pks.
    """
    cables = [Cable(**fields) for fields, _, _ in wanted]
    Cable.objects.bulk_create(cables, batch_size=BATCH_SIZE)
    for cable in cables:
        # Cable.save() keeps it for __str__().
        cable._pk = cable.pk
    pks = [cable.pk for cable in cables]
    tag_objects(Cable, pks, tag)

    interface_type = ObjectType.objects.get_for_model(Interface)
    end_of = {}
    for cable, (_, a_pks, b_pks) in zip(cables, wanted, strict=True):
        end_of[a_pks[0]], end_of[b_pks[0]] = (cable.pk, 'A'), (cable.pk, 'B')
    interfaces = fetch(Interface, list(end_of))
    ends, terminations = {}, {}
    now = timezone.now()
    for interface in interfaces:
        interface.snapshot()
        cable_pk, end = end_of[interface.pk]
        ends[(cable_pk, end)] = interface
        terminations[(cable_pk, end)] = CableTermination(
            cable_id=cable_pk, cable_end=end, termination_type=interface_type, termination_id=interface.pk,
            # CableTermination.cache_related_objects(): the interface's device, rack, location and site.
            _device_id=interface.device_id, _rack_id=interface.device.rack_id,
            _location_id=interface.device.location_id, _site_id=interface.device.site_id,
        )
        # CableTermination.save() -> set_cable_termination() on the interface.
        interface.cable_id, interface.cable_end = cable_pk, end
        interface.cable_connector = interface.cable_positions = None
        interface.last_updated = now
    CableTermination.objects.bulk_create(terminations.values(), batch_size=BATCH_SIZE)

    # The paths from both ends, as the trace_paths receiver of Cable.save() makes them. An interface that is still
    # the origin of an old path (which NetBox would replace) leaves the tracing to NetBox's create_cablepaths().
    with phase('inventory: of which cable paths'):
        stale = _write_paths(cables, interfaces, ends)
    Interface.objects.bulk_update(
        interfaces, ['cable', 'cable_end', 'cable_connector', 'cable_positions', '_path', 'last_updated'],
        batch_size=UPDATE_BATCH_SIZE,
    )
    if stale:
        with phase('inventory: of which cable paths'):
            for key in ends:
                create_cablepaths(fetch(Interface, [ends[key].pk]))

    written = fetch(Cable, pks, fresh=True, tag=tag)
    for cable in written:
        # The terminations just written, so that NetBox's Cable.serialize_object() need not read them back per cable.
        a_end, b_end = terminations[(cable.pk, 'A')], terminations[(cable.pk, 'B')]
        cable.get_terminations = partial(_terminations, {a_end.termination_id: a_end}, {b_end.termination_id: b_end})
    record_changes(Cable, written, ObjectChangeActionChoices.ACTION_CREATE)
    cache_search(Cable, written)
    written_ends = fetch(CableTermination, [t.pk for t in terminations.values()], fresh=True)
    record_changes(CableTermination, written_ends, ObjectChangeActionChoices.ACTION_CREATE)
    cabled = fetch(Interface, [interface.pk for interface in interfaces])
    snapshots = {interface.pk: interface._prechange_snapshot for interface in interfaces}
    for interface in cabled:
        interface._prechange_snapshot = snapshots[interface.pk]
    record_changes(Interface, cabled, ObjectChangeActionChoices.ACTION_UPDATE)
    release(interfaces, written, written_ends, cabled)
    return pks


def _write_paths(cables, interfaces, ends):
    """
    The paths from both ends of new cables (paths.py), with each origin interface's _path set in memory. True when
    an interface is still the origin of an old path, which NetBox's create_cablepaths() must replace: then nothing
    is written here.
    """
    if CablePath.objects.filter(_nodes__overlap=[object_to_path_node(i) for i in interfaces]).exists():
        return True
    paths = direct_paths(cables, ends)
    CablePath.objects.bulk_create(paths.values(), batch_size=BATCH_SIZE)
    for key, path in paths.items():
        ends[key]._path_id = path.pk
    return False


def _terminations(a_end, b_end):
    return a_end, b_end
