"""How many mirrored objects each fabric holds, counted in one query across every kind."""

from django.db.models import Count

from . import KINDS

__all__ = ('mirrored_object_counts',)


def mirrored_object_counts(user):
    """{fabric id: mirrored objects of every kind the user may view}."""
    per_kind = [
        kind.model.objects.restrict(user, 'view').order_by().values('fabric_id').annotate(count=Count('pk'))
        for kind in KINDS
    ]
    totals = {}
    for row in per_kind[0].union(*per_kind[1:], all=True).order_by():
        totals[row['fabric_id']] = totals.get(row['fabric_id'], 0) + row['count']
    return totals
