from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import FabricScopedQuerySet

__all__ = ('InventoryObject',)


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
