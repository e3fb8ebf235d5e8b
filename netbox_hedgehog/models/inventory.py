from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import FabricScopedQuerySet

__all__ = ('InventoryObject', 'InventoryState')


class InventoryObject(models.Model):
    """
    One NetBox object (a Device, Interface, Cable, VLAN group, prefix ...) that a fabric's inventory sync created or
    adopted, and the fabric object it stands for. The inventory sync writes only objects listed here; everything
    else in NetBox is the users' and is never changed.

    The source is the Hedgehog kind and uid of the mirrored object, plus `part` for the several NetBox objects one
    source becomes (a connection's links, a switch's interfaces and addresses).
    """

    fabric = models.ForeignKey(
        to='netbox_hedgehog.HedgehogFabric', on_delete=models.CASCADE, related_name='inventory_objects'
    )
    object_type = models.ForeignKey(to='contenttypes.ContentType', on_delete=models.CASCADE, related_name='+')
    object_id = models.PositiveBigIntegerField()
    object = GenericForeignKey('object_type', 'object_id')
    kind = models.CharField(verbose_name=_('kind'), max_length=63)
    uid = models.CharField(verbose_name=_('UID'), max_length=64)
    part = models.CharField(verbose_name=_('part'), max_length=255, blank=True)
    # Kept although the fabric no longer has its source (orphan policy "mark").
    orphaned = models.BooleanField(verbose_name=_('orphaned'), default=False)
    # Existed before the sync took it over (an interface its device type gave, or an object adopted with the
    # fabric's "adopt existing" setting): released, never deleted, once the fabric no longer has its source.
    adopted = models.BooleanField(verbose_name=_('adopted'), default=False)

    objects = FabricScopedQuerySet.as_manager()

    class Meta:
        ordering = ('fabric', 'object_type', 'object_id')
        verbose_name = _('inventory object')
        verbose_name_plural = _('inventory objects')
        constraints = [
            models.UniqueConstraint(fields=('object_type', 'object_id'), name='netbox_hedg_inventory_one_owner'),
            models.UniqueConstraint(
                fields=('fabric', 'object_type', 'kind', 'uid', 'part'), name='netbox_hedg_inventory_one_source'
            ),
        ]

    def __str__(self):
        return f'{self.kind} {self.uid} {self.part}'.strip()


class InventoryState(models.Model):
    """
    What the last complete inventory step of a fabric started from, so that the next run can tell in a few
    aggregate queries that nothing the step reads has changed since, and skip it (inventory/state.py).
    """

    fabric = models.OneToOneField(
        to='netbox_hedgehog.HedgehogFabric', on_delete=models.CASCADE, related_name='inventory_state'
    )
    # When the step started: an owned object saved later was changed by someone else, or by the step itself.
    started = models.DateTimeField(verbose_name=_('started'))
    # Fingerprints of what the step read besides the objects it owns: the fabric's settings, the mirror, the
    # catalogue objects it may share with users, the tags on its objects (inventory/state.py).
    inputs = models.JSONField(verbose_name=_('inputs'), default=dict)
    # The step's outcome depended on nothing but its inputs and the objects it owns: no conflict with users'
    # objects, no failed write, no orphan kept for users' objects that use it. Only then may a run be skipped.
    settled = models.BooleanField(verbose_name=_('settled'), default=False)
    # {"dcim.device": n, ...}: the owned objects a run that changes nothing finds unchanged.
    counts = models.JSONField(verbose_name=_('counts'), default=dict)
    # The step's errors as a run keeps them (run_record.py); a skipped run reports them again.
    errors = models.JSONField(verbose_name=_('errors'), default=list)

    class Meta:
        verbose_name = _('inventory state')
        verbose_name_plural = _('inventory states')

    def __str__(self):
        return f'{self.fabric_id} @ {self.started:%Y-%m-%d %H:%M:%S}'
