"""One sync per fabric at a time, enforced by PostgreSQL rather than by any one process.

A session-level advisory lock lives exactly as long as the database session that took it, so a sync whose
process dies releases its lock with its connection, and a stale "syncing" state can be told apart from a live one.
"""

import logging
from contextlib import contextmanager

from django.db import DatabaseError, connection

from ..scheduling.locks import FABRIC_SYNC_LOCK_SPACE

logger = logging.getLogger('netbox_hedgehog.sync')


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
        release(fabric_id)


def release(fabric_id):
    """Unlock; a session the database has already ended took its lock with it, and that is not a failure."""
    try:
        unlock(fabric_id)
    except DatabaseError:
        if connection.is_usable():
            raise
        logger.warning('Sync lock of fabric %s went with its lost database session', fabric_id)
        connection.close()


def is_sync_running(fabric_id):
    """True while any session holds the fabric's lock (checked by briefly trying to take it)."""
    if try_lock(fabric_id):
        unlock(fabric_id)
        return False
    return True
