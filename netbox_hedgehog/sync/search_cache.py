"""Keep NetBox's global search in step with the sync's bulk writes.

Bulk writes bypass the signals NetBox's search cache relies on. So deleting mirror rows forgets their cached values,
and each run re-caches the rows it created or updated, in the same transaction: search never finds an object the
mirror no longer holds, nor misses one it does.
"""

from core.models import ObjectType
from extras.models import CachedValue, CustomField
from netbox.search import get_indexer
from netbox.search.backends import search_backend

__all__ = ('forget_search_values', 'refresh_search_cache')

BATCH_SIZE = 2000


def forget_search_values(model, pks):
    if pks:
        object_type = ObjectType.objects.get_for_model(model)
        values = CachedValue.objects.filter(object_type=object_type, object_id__in=pks)
        # One DELETE statement, as NetBox's own search backend does, instead of the collector's select-then-delete.
        values._raw_delete(values.db)


def refresh_search_cache(fabric, model, changes):
    """Re-cache one model's rows that a run created, or updated in a searched field."""
    try:
        indexer = get_indexer(model)
    except KeyError:  # the model has no search index
        return
    forget_search_values(model, changes.reindexed_pks)
    fresh_uids = changes.created_uids + changes.reindexed_uids
    if not fresh_uids:
        return
    rows = model.objects.filter(fabric=fabric, uid__in=fresh_uids)
    if any(field.search_weight > 0 for field in CustomField.objects.get_for_model(model)):
        # Searchable custom fields need NetBox's per-object path.
        search_backend.cache(rows.iterator(chunk_size=BATCH_SIZE), indexer=indexer, remove_existing=False)
        return
    # The same values NetBox's indexer would cache, read as plain columns: loading every row as an object (with its
    # spec and status JSON) costs far more than the caching itself.
    object_type = ObjectType.objects.get_for_model(model)
    blank = model()
    columns = [(name, weight, indexer.get_field_type(blank, name)) for name, weight in indexer.fields]
    values = [
        CachedValue(object_type=object_type, object_id=pk, field=name, type=type_, weight=weight, value=str(value))
        for pk, *row in rows.values_list('pk', *(name for name, *_ in columns)).iterator(chunk_size=BATCH_SIZE)
        for (name, weight, type_), value in zip(columns, row)
        if value
    ]
    CachedValue.objects.bulk_create(values, batch_size=BATCH_SIZE)
