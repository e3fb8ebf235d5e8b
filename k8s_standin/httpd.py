"""HTTP plumbing: a threading HTTP/1.1 server (optionally TLS) that hands requests to the API and admin apps.

Keep-alive matters: the kubernetes client pools connections, and a benchmark pages through thousands of objects.
TLS handshakes happen in the per-connection thread, so a client that fails verification never blocks the
accept loop. Open connections are tracked so that stopping the server really disconnects every client.
"""

import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from k8s_standin.admin import PREFIX as ADMIN_PREFIX

logger = logging.getLogger('k8s_standin')

HANDSHAKE_TIMEOUT = 10
IDLE_CONNECTION_TIMEOUT = 120
MAX_BODY = 64 * 1024 * 1024


class StandinRequestHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'k8s-standin'
    sys_version = ''
    timeout = IDLE_CONNECTION_TIMEOUT
    disable_nagle_algorithm = True

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _dispatch(self):
        server = self.server
        split = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        authorization = self.headers.get('Authorization')
        body = self._read_body()
        if body is None:
            return
        if split.path.startswith(ADMIN_PREFIX):
            response = server.admin.handle(self.command, split.path, query, authorization, body)
            self._send(response.code, response.body)
            return
        response = server.api.handle(self.command, split.path, query, authorization)
        if response.delay:
            server.stopping.wait(response.delay)  # a stop cuts the wait short
        if response.drop:
            self._drop()
            return
        self._send(response.code, response.body)

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(400, b'{"error":"bad Content-Length"}')
            return None
        return self.rfile.read(length) if length else b''

    def _send(self, code: int, body: bytes):
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def log_request(self, code='-', size='-'):
        # Never the headers: they carry the bearer token.
        code = int(code) if str(code).isdigit() else 0
        admin = self.path.startswith(ADMIN_PREFIX)
        level = logging.DEBUG if 200 <= code < 300 and not admin else logging.INFO
        logger.log(level, '%s %s %s %s', self.client_address[0], self.command, self.path, code)

    def log_message(self, format, *args):
        logger.info('%s %s', self.client_address[0], format % args)


class StandinHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, api, admin, ssl_context: ssl.SSLContext | None):
        self.api = api
        self.admin = admin
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, StandinRequestHandler)

    def finish_request(self, request, client_address):
        connection = request
        if self.ssl_context is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                connection = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                logger.debug('TLS handshake with %s failed: %s', client_address[0], error)
                request.close()
                return
            connection.settimeout(None)
        with self._connections_lock:
            self._connections.add(connection)
        try:
            super().finish_request(connection, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            if connection is not request:
                connection.close()

    def handle_error(self, request, client_address):
        # Clients that hang up mid-request (timeouts, dropped connections) are routine here.
        logger.debug('connection from %s ended with an error', client_address[0], exc_info=True)

    def disconnect_clients(self):
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
