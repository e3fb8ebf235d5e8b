"""
What happens to inventory objects whose fabric object is gone: the fabric's orphan policy.

"delete" deletes them; "mark" keeps them with the status offline (devices), decommissioning (cables) or deprecated
(IPAM objects) and the tag hedgehog-orphan; a tag, which has neither, says it at the start of its description.
Objects the sync adopted rather than created are released: their ownership record goes, the object stays as the
user or its device type made it.
"""

import logging

from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError

from ..choices import InventoryOrphanChoices
from ..models import InventoryObject
from ..run_record import SyncError
from .writer import MODEL_ORDER, model_label, taggable

__all__ = ('ORPHAN_DESCRIPTION', 'ORPHAN_STATUS', 'apply_orphan_policy')

logger = logging.getLogger('netbox_hedgehog.inventory')

# The status a marked orphan gets, per model; models without a status are only tagged.
ORPHAN_STATUS = {
    'dcim.device': 'offline',
    'dcim.cable': 'decommissioning',
    'ipam.vlan': 'deprecated',
    'ipam.prefix': 'deprecated',
    'ipam.ipaddress': 'deprecated',
}
# What a marked orphan without a status or tags of its own (a tag) has its description start with. The next run
# that finds its source again sets the description back, like any owned field.
ORPHAN_DESCRIPTION = {'extras.tag': 'No longer in its Hedgehog fabric; kept by the orphan policy. '}


def apply_orphan_policy(writer, wanted, protected_uids):
    """
    Apply the fabric's policy to every record of `writer` whose source the plan no longer holds. `wanted` is the
    set of (model label, Source) in the plan; records of sources in `protected_uids` (objects a mapping skipped
    this run) are left alone, so bad input never deletes.
    """
    policy = writer.fabric.inventory_orphans
    for label in reversed(MODEL_ORDER):
        label = label.lower()
        model = apps.get_model(label)
        for source, record in list(writer.records.get(label, {}).items()):
            if (label, source) in wanted or source.uid in protected_uids:
                continue
            if record.adopted:
                InventoryObject.objects.filter(pk=record.pk).delete()
                writer.counts[label]['released'] += 1
            elif policy == InventoryOrphanChoices.DELETE:
                if _delete(writer, model, record, source):
                    writer.counts[label]['deleted'] += 1
            elif not record.orphaned:
                _mark(writer, model, record)
                writer.counts[label]['marked'] += 1


def _delete(writer, model, record, source):
    try:
        with transaction.atomic():
            instance = model.objects.filter(pk=record.object_id).first()
            if instance is not None:
                instance.snapshot()
                instance.delete()
            InventoryObject.objects.filter(pk=record.pk).delete()
        return True
    except ProtectedError:
        # A catalogue object (device type, role ...) that users' objects still use: kept, and kept owned, until
        # a run finds them gone.
        writer.settled = False
        return False
    except DatabaseError:
        logger.exception('Inventory of fabric %s: deleting %s %s', writer.fabric.name, model_label(model), source)
        writer.settled = False
        writer.errors.append(SyncError(
            f'the {model._meta.verbose_name} {record.object_id} could not be deleted; the NetBox log has the details',
            source.kind,
        ))
        return False


def _mark(writer, model, record):
    with transaction.atomic():
        instance = model.objects.filter(pk=record.object_id).first()
        if instance is not None:
            instance.snapshot()
            status = ORPHAN_STATUS.get(model_label(model))
            prefix = ORPHAN_DESCRIPTION.get(model_label(model))
            if status:
                instance.status = status
            if prefix:
                limit = model._meta.get_field('description').max_length
                instance.description = f'{prefix}{instance.description}'[:limit]
            if status or prefix:
                instance.save()
            if taggable(model):
                instance.tags.add(writer.orphan_tag)
        InventoryObject.objects.filter(pk=record.pk).update(orphaned=True)


def release_fabric(fabric):
    """Apply a fabric's orphan policy to everything its inventory holds: the fabric is being deleted."""
    from .plan import Plan
    from .sync import tags
    from .writer import Writer

    tag, orphan_tag = tags()
    writer = Writer(fabric, Plan(), tag, orphan_tag)
    apply_orphan_policy(writer, set(), set())
    return writer
