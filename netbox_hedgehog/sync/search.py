"""Keep NetBox's global search in step with the sync's bulk writes.

Bulk writes bypass the signals NetBox's search cache relies on. So deleting mirror rows forgets their cached values,
and each run re-caches the rows it created or updated, in the same transaction: search never finds an object the
mirror no longer holds, nor misses one it does.
"""

from core.models import ObjectType
from extras.models import CachedValue
from netbox.search import get_indexer
from netbox.search.backends import search_backend

__all__ = ('forget_search_values', 'refresh_search_cache')


def forget_search_values(model, pks):
    if pks:
        object_type = ObjectType.objects.get_for_model(model)
        values = CachedValue.objects.filter(object_type=object_type, object_id__in=pks)
        # One DELETE statement, as NetBox's own search backend does, instead of the collector's select-then-delete.
        values._raw_delete(values.db)


def refresh_search_cache(fabric, model, changes):
    """Re-cache one model's rows that a run created or updated."""
    try:
        indexer = get_indexer(model)
    except KeyError:  # the model has no search index
        return
    forget_search_values(model, changes.updated_pks)
    fresh_uids = changes.created_uids + changes.updated_uids
    if fresh_uids:
        rows = model.objects.filter(fabric=fabric, uid__in=fresh_uids)
        search_backend.cache(rows.iterator(chunk_size=2000), indexer=indexer, remove_existing=False)
