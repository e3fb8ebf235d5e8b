"""
Delete mirror rows in bulk, bypassing Django's deletion collector.

The collector would load every row it deletes and send signals for each: NetBox listens to every model's deletion,
so no cascade it runs is a fast one, and a fabric's mirror can hold tens of thousands of rows. So deleting a fabric,
and a sync deleting the objects its cluster no longer lists, use set-based statements. The rows that point at a
deleted object are handled first: references nulled, many-to-many links, NetBox's tags, journal entries and
bookmarks, and the search cache's values removed. Mirror rows have no change log (the sync writes them), so none
is written here either; the fabric's own deletion goes through the collector and is change-logged as usual.
"""

from core.models import ObjectType
from django.db import connection, models
from extras.models import CachedValue

from ..kinds import KINDS
from .runs import MirrorChange, SyncRun

__all__ = ('delete_mirror_rows', 'delete_sync_runs', 'fabric_contents', 'forget_search_values', 'purge_fabric')


def _quote(name):
    return connection.ops.quote_name(name)


def forget_search_values(model, pks):
    """Remove the search cache's values of rows written or deleted in bulk (no signal told NetBox)."""
    if pks:
        object_type = ObjectType.objects.get_for_model(model)
        values = CachedValue.objects.filter(object_type=object_type, object_id__in=pks)
        # One DELETE statement, as NetBox's own search backend does, instead of the collector's select-then-delete.
        values._raw_delete(values.db)


def delete_mirror_rows(model, pks):
    """Delete mirror rows of one model by primary key."""
    stubs = [model(pk=pk) for pk in pks]
    forget_search_values(model, pks)
    # NetBox's generic relations: tags, journal entries, bookmarks, subscriptions.
    for private_field in model._meta.private_fields:
        if hasattr(private_field, 'bulk_related_objects'):
            private_field.bulk_related_objects(stubs).delete()
    with connection.cursor() as cursor:
        for m2m in model._meta.many_to_many:
            through = m2m.remote_field.through
            if through._meta.auto_created:
                cursor.execute(
                    f'DELETE FROM {_quote(through._meta.db_table)} WHERE {_quote(m2m.m2m_column_name())} = ANY(%s)',
                    [pks],
                )
        for relation in model._meta.related_objects:
            if relation.many_to_many:
                through = relation.through
                column = relation.field.m2m_reverse_name()
                cursor.execute(f'DELETE FROM {_quote(through._meta.db_table)} WHERE {_quote(column)} = ANY(%s)', [pks])
            elif relation.on_delete is models.SET_NULL:
                relation.related_model.objects.filter(**{f'{relation.field.name}__in': pks}).update(
                    **{relation.field.name: None}
                )
        cursor.execute(f'DELETE FROM {_quote(model._meta.db_table)} WHERE id = ANY(%s)', [pks])


def delete_sync_runs(runs):
    """Delete sync runs (a queryset) and the mirror changes they recorded: a first sync can record thousands."""
    pks = list(runs.values_list('pk', flat=True))
    if pks:
        changes = MirrorChange.objects.filter(run__in=pks)
        changes._raw_delete(changes.db)
        runs = SyncRun.objects.filter(pk__in=pks)
        runs._raw_delete(runs.db)
    return len(pks)


def purge_fabric(fabric):
    """Delete every mirror row and run record of a fabric, so that deleting the fabric itself cascades to nothing."""
    for kind in reversed(KINDS):
        pks = list(kind.model.objects.filter(fabric=fabric).values_list('pk', flat=True))
        if pks:
            delete_mirror_rows(kind.model, pks)
    delete_sync_runs(SyncRun.objects.filter(fabric=fabric))


def fabric_contents(fabric):
    """{model: rows} of what purge_fabric() would delete, counted rather than loaded; models holding none left out."""
    querysets = [kind.model.objects.filter(fabric=fabric) for kind in KINDS]
    querysets += [SyncRun.objects.filter(fabric=fabric), MirrorChange.objects.filter(fabric=fabric)]
    counts = {queryset.model: queryset.count() for queryset in querysets}
    return {model: count for model, count in counts.items() if count}
