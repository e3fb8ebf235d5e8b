"""
The PostgreSQL advisory locks of the plugin, as (space, key) pairs, and who holds the scheduler's leader lock.

The first key keeps the plugin's locks apart from anyone else's: one space for the per-fabric sync locks (the key is
the fabric's primary key), another for the scheduler's single leader lock.
"""

__all__ = ('FABRIC_SYNC_LOCK_SPACE', 'LEADER_LOCK_KEY', 'LEADER_LOCK_SPACE', 'leader_backend_pid')

FABRIC_SYNC_LOCK_SPACE = 0x48_48_53  # "HHS"
LEADER_LOCK_SPACE = 0x48_48_4C  # "HHL"
LEADER_LOCK_KEY = 1


def leader_backend_pid(cursor):
    """The PostgreSQL backend pid holding the leader lock in this database, or None."""
    cursor.execute(
        """
        SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """,
        [LEADER_LOCK_SPACE, LEADER_LOCK_KEY],
    )
    row = cursor.fetchone()
    return row[0] if row else None
