"""Keep NetBox's global search in step with the sync's bulk writes.

Bulk writes bypass the signals NetBox's search cache relies on. So deleting mirror rows forgets their cached values,
and each run re-caches the rows it created or updated, in the same transaction: search never finds an object the
mirror no longer holds, nor misses one it does.
"""

from core.models import ObjectType
from django.db import connection
from django.utils import timezone
from extras.models import CustomField
from netbox.search import get_indexer
from netbox.search.backends import search_backend

from ..models.deletion import forget_search_values

__all__ = ('refresh_search_cache',)

BATCH_SIZE = 2000


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
    # The same values NetBox's indexer would cache (the text of each non-empty indexed field), written by one
    # INSERT ... SELECT per field from the mirror table: loading every row as an object (with its spec and status
    # JSON) costs far more than the caching itself.
    object_type = ObjectType.objects.get_for_model(model)
    blank = model()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        for name, weight in indexer.fields:
            column = connection.ops.quote_name(model._meta.get_field(name).column)
            cursor.execute(
                f"""
                INSERT INTO extras_cachedvalue (id, timestamp, object_type_id, object_id, field, type, value, weight)
                SELECT gen_random_uuid(), %s, %s, id, %s, %s, {column}::text, %s
                FROM {table}
                WHERE fabric_id = %s AND uid = ANY(%s) AND {column} IS NOT NULL AND {column}::text <> ''
                """,
                [timezone.now(), object_type.pk, name, indexer.get_field_type(blank, name), weight, fabric.pk,
                 fresh_uids],
            )
