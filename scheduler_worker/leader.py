"""
Leadership: exactly one scheduler process schedules; the others wait as standbys.

The leader holds a PostgreSQL session advisory lock on a dedicated connection for as long as it leads. The lock
lives and dies with that session: a leader that is killed, or whose connection is cut, loses it at once and a
standby takes it over.
"""

import logging

import psycopg

from netbox_hedgehog.scheduling.locks import LEADER_LOCK_KEY, LEADER_LOCK_SPACE

from .connections import connect

__all__ = ('LeaderLock',)

logger = logging.getLogger('scheduler_worker.leader')


class LeaderLock:
    def __init__(self):
        self.connection = None
        self.connect_error = None
        self.leading = False

    def try_acquire(self):
        """Take the lock if nobody holds it; never waits."""
        try:
            if self.connection is None:
                self.connection = connect('leader lock')
            acquired = self.connection.execute(
                'SELECT pg_try_advisory_lock(%s, %s)', [LEADER_LOCK_SPACE, LEADER_LOCK_KEY]
            ).fetchone()[0]
        except psycopg.Error as exc:
            if str(exc) != self.connect_error:
                logger.warning('Cannot reach the database to contend for leadership: %s', exc)
            self.connect_error = str(exc)
            self.close()
            return False
        self.connect_error = None
        # A standby keeps its connection and simply asks again later.
        self.leading = acquired
        return acquired

    def confirm(self):
        """
        True while the lock connection is alive, hence the lock is held.

        Called by the service every second and by each run right before it starts; safe from any thread
        because a psycopg connection serializes its users.
        """
        connection = self.connection
        if connection is None or not self.leading:
            return False
        try:
            connection.execute('SELECT 1')
        except psycopg.Error as exc:
            logger.error('Leader lock connection lost: %s', exc)
            self.close()
            return False
        return True

    def release(self):
        if self.connection is None:
            return
        try:
            self.connection.execute('SELECT pg_advisory_unlock(%s, %s)', [LEADER_LOCK_SPACE, LEADER_LOCK_KEY])
        except psycopg.Error:
            pass  # Closing the session below releases the lock anyway.
        self.close()

    def close(self):
        self.leading = False
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()
