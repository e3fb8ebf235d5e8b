"""Database connections of the scheduler that Django does not manage, all built from DATABASES['default'].

Django turns DATABASES (host, port, user, password, name and OPTIONS such as sslmode) into psycopg keyword
arguments; reusing that here means the job store, the leader lock and the LISTEN connection reach the same
database in exactly the same way as NetBox itself.
"""

import psycopg
from django.db import close_old_connections, connection, connections
from sqlalchemy import create_engine

from netbox_hedgehog.scheduling.sessions import APPLICATION_NAME

__all__ = ('connect', 'connection_params', 'create_job_store_engine', 'refresh_django_connection')

# Django-only connection arguments that libpq does not understand.
DJANGO_ONLY_PARAMS = ('context', 'cursor_factory', 'prepare_threshold')

# A dead peer must be noticed in seconds, not after the kernel's default two hours of TCP silence.
DEDICATED_CONNECTION_DEFAULTS = {
    'connect_timeout': 5,
    'keepalives': 1,
    'keepalives_idle': 5,
    'keepalives_interval': 2,
    'keepalives_count': 3,
}


def connection_params(purpose):
    params = connections['default'].get_connection_params()
    for name in DJANGO_ONLY_PARAMS:
        params.pop(name, None)
    params['application_name'] = f'{APPLICATION_NAME} {purpose}'
    for name, value in DEDICATED_CONNECTION_DEFAULTS.items():
        params.setdefault(name, value)
    return params


def connect(purpose):
    """A dedicated autocommit psycopg connection outside Django's and SQLAlchemy's pools."""
    return psycopg.connect(**connection_params(purpose), autocommit=True)


def create_job_store_engine(thread_pool_size):
    """
    The SQLAlchemy engine of the job store.

    Only APScheduler's own thread and the service's main thread use it (sync threads work through Django), so
    two pooled connections suffice; the overflow covers a burst of job listings. pool_pre_ping replaces a
    connection that PostgreSQL dropped (restart, pg_terminate_backend) instead of failing the next query.
    """
    params = connection_params('job store')
    return create_engine(
        'postgresql+psycopg://',
        creator=lambda: psycopg.connect(**params),
        pool_size=2,
        max_overflow=thread_pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # Every job store operation is one statement, so autocommit changes nothing but the BEGIN and COMMIT round
        # trips around each, paid for every due run the leader takes off the store.
        isolation_level='AUTOCOMMIT',
    )


def refresh_django_connection():
    """
    close_old_connections(), and also drop this thread's connection if PostgreSQL has closed it meanwhile.

    Django only notices a dead persistent connection when a query fails; a scheduler thread that idled through a
    database restart or a terminated backend would spend its next run (a scheduled slot) on that failure.
    """
    close_old_connections()
    if connection.connection is not None and not connection.is_usable():
        connection.close()
