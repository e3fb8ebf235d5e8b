"""What the fabric page shows of a fabric's inventory: its objects by type, and the conflicts of its last build."""

from django.apps import apps

from ..models import InventoryObject, SyncRun
from .writer import MODEL_ORDER

__all__ = ('inventory_counts', 'last_inventory_conflicts')


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


def last_inventory_conflicts(fabric, user):
    """
    (run, conflicts) of the fabric's last run whose inventory step completed, as `user` may view runs; None
    when there is none. Its errors, on the run's page, name each conflict.
    """
    run = SyncRun.objects.restrict(user, 'view').filter(
        fabric=fabric, inventory_request_id__isnull=False,
    ).only('pk', 'inventory_counts').first()
    if run is None:
        return None
    return run, sum(counts.get('conflicts', 0) for counts in run.inventory_counts.values())
