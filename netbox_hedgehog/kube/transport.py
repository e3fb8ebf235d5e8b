"""
Bounded HTTP exchanges with a Kubernetes API server: a deadline for the whole response, a cap on its size, and the
endpoint policy applied to the address each connection actually reached.

Socket timeouts bound each read, not the response: a server that sends one byte a second never trips them. So
every request runs under a Deadline, a timer that shuts the connection's socket down when the time is up, which
ends whatever read is blocked on it. The connection classes installed on the client's pool register themselves
with the deadline of the request they carry (a context variable, so the pool's other connections and other
threads are never touched). Bodies are read in chunks and given up on as soon as they exceed their cap.

The server's name is resolved and checked when a fabric's connection is built (client.fabric_api), but urllib3
resolves it again for every new connection, and a name may then point elsewhere (DNS rebinding). So each new
socket's peer address is checked too, before a byte is sent on it.
"""

import contextvars
import socket
import threading

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .endpoint import EndpointRefused, check_address

__all__ = ('BodyTooLarge', 'Deadline', 'DeadlineExpired', 'bound_pool_manager', 'read_capped')

CHUNK_BYTES = 256 * 1024

_active = contextvars.ContextVar('netbox_hedgehog_kube_deadline', default=None)


class DeadlineExpired(Exception):
    """The deadline of a request passed before its response was whole."""


class BodyTooLarge(Exception):
    """A response body exceeded its cap of `limit` bytes."""

    def __init__(self, limit):
        super().__init__(f'the body exceeds {limit} bytes')
        self.limit = limit


class Deadline:
    """
    `with Deadline(seconds):` bounds every request made inside the block on this thread. When the time is up, the
    socket of the connection carrying the request is shut down, and `expired` is set.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.expired = False
        self._connection = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._token = None

    def __enter__(self):
        self._token = _active.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _active.reset(self._token)
        with self._lock:
            self._connection = None

    def watch(self, connection):
        """Called by a connection as it sends this deadline's request."""
        with self._lock:
            if self.expired:
                raise DeadlineExpired()
            self._connection = connection

    def _expire(self):
        with self._lock:
            self.expired = True
            sock = getattr(self._connection, 'sock', None)
        if sock is not None:
            try:
                # The plain socket's shutdown, also for a TLS socket: it wakes a reader blocked in another thread.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass


class _BoundedConnection:
    """What both connection classes add to urllib3's: the peer checked at connect, the deadline watched per request."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0])
        except EndpointRefused:
            sock.close()
            raise
        return sock

    def request(self, *args, **kwargs):
        deadline = _active.get()
        if deadline is not None:
            deadline.watch(self)
        return super().request(*args, **kwargs)


class _BoundedHTTPConnection(_BoundedConnection, HTTPConnection):
    pass


class _BoundedHTTPSConnection(_BoundedConnection, HTTPSConnection):
    pass


class _BoundedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _BoundedHTTPConnection


class _BoundedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _BoundedHTTPSConnection


def bound_pool_manager(pool_manager):
    """Make the connections of a urllib3 PoolManager check their peer and obey the Deadline of their request."""
    pool_manager.clear()
    pool_manager.pool_classes_by_scheme = {
        'http': _BoundedHTTPConnectionPool,
        'https': _BoundedHTTPSConnectionPool,
    }
    return pool_manager


def read_capped(response, max_bytes):
    """
    Read a urllib3 response body of at most `max_bytes`; raise BodyTooLarge as soon as it is longer, without
    reading the rest (a declared Content-Length over the cap is refused before reading anything).
    """
    declared = response.headers.get('Content-Length', '')
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes)
    chunks = []
    size = 0
    while True:
        chunk = response.read(CHUNK_BYTES)
        if not chunk:
            return b''.join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes)
        chunks.append(chunk)
