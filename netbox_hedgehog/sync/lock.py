"""One sync per fabric at a time, enforced by PostgreSQL rather than by any one process.

A session-level advisory lock lives exactly as long as the database session that took it, so a sync whose
process dies releases its lock with its connection, and a stale "syncing" state can be told apart from a live one.
"""

from contextlib import contextmanager

from django.db import connection

from ..scheduling.locks import FABRIC_SYNC_LOCK_SPACE


class SyncAlreadyRunning(Exception):
    """Another sync of the same fabric holds the lock; the caller does not wait."""


def try_lock(fabric_id):
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_try_advisory_lock(%s, %s)', [FABRIC_SYNC_LOCK_SPACE, fabric_id])
        return cursor.fetchone()[0]


def unlock(fabric_id):
    with connection.cursor() as cursor:
        cursor.execute('SELECT pg_advisory_unlock(%s, %s)', [FABRIC_SYNC_LOCK_SPACE, fabric_id])


@contextmanager
def fabric_sync_lock(fabric_id):
    if not try_lock(fabric_id):
        raise SyncAlreadyRunning(f'A sync of fabric {fabric_id} is already running')
    try:
        yield
    finally:
        unlock(fabric_id)


def is_sync_running(fabric_id):
    """True while any session holds the fabric's lock (checked by briefly trying to take it)."""
    if try_lock(fabric_id):
        unlock(fabric_id)
        return False
    return True
