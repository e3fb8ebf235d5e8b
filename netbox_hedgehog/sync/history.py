"""
Record the objects a run created, updated or deleted (models.MirrorChange): each mirrored object's sync history.

One COPY in the run's transaction, of the rows the run wrote and nothing else, so a resync that changes nothing
records nothing, and the history commits or rolls back with the changes it describes.
"""

from django.db import connection

from ..models import MirrorChange

__all__ = ('record_changes',)

COLUMNS = ('run_id', 'fabric_id', 'kind', 'uid', 'name', 'action')


def record_changes(fabric, run, changes_by_kind):
    """Write one MirrorChange per row written, from the run's {kind: KindChanges}; return how many."""
    rows = [
        (run.pk, fabric.pk, kind, uid, name, action)
        for kind, changes in changes_by_kind.items()
        for action, uid, name in changes.written
    ]
    if rows:
        quote = connection.ops.quote_name
        table = quote(MirrorChange._meta.db_table)
        statement = f'COPY {table} ({", ".join(quote(column) for column in COLUMNS)}) FROM STDIN'
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)
