"""What the fabric page shows of a fabric's inventory: its objects by type, as far as the user may view them."""

from django.apps import apps

from ..models import InventoryObject
from .writer import MODEL_ORDER

__all__ = ('inventory_counts',)


def inventory_counts(fabric, user):
    """
    [(verbose name plural, count)] of the fabric's inventory objects that `user` may view, in write
    order. Counts go through NetBox's own object permissions (restrict), so a type the user may not view is left
    out and a constrained permission counts only the objects it allows.
    """
    rows = []
    for label in MODEL_ORDER:
        model = apps.get_model(label)
        if not user.has_perm(f'{model._meta.app_label}.view_{model._meta.model_name}'):
            continue
        owned = InventoryObject.objects.filter(
            fabric=fabric, object_type__app_label=model._meta.app_label, object_type__model=model._meta.model_name,
        ).values('object_id')
        count = model.objects.restrict(user, 'view').filter(pk__in=owned).count()
        if count:
            rows.append((model._meta.verbose_name_plural, count))
    return rows
