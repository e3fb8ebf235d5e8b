"""
Loopback HTTP servers that misbehave as a hostile or broken Kubernetes API server might, for the tests that prove
the client survives them. Each answers every request the same way:

- DRIP: a 200 whose status line and headers arrive one byte a second, forever;
- ENDLESS: a 200 JSON list whose body never ends;
- ENDLESS_500: a 500 whose body never ends;
- FOREIGN_500: a 500 whose JSON body is not a Kubernetes Status but carries a "message" (a proxy's or another
  application's error), which must never be quoted;
- STATUS_500: a 500 with a Kubernetes Status whose message is 1,000 characters long.
"""

import json
import socket
import socketserver
import threading

__all__ = ('DRIP', 'ENDLESS', 'ENDLESS_500', 'FOREIGN_500', 'FOREIGN_MESSAGE', 'STATUS_500', 'HostileServer')

DRIP = 'drip'
ENDLESS = 'endless'
ENDLESS_500 = 'endless-500'
FOREIGN_500 = 'foreign-500'
STATUS_500 = 'status-500'

FOREIGN_MESSAGE = 'ORA-00942 internal detail from db-7.corp.example: table SESSIONS at /srv/app/secret.py line 12'
LONG_STATUS_MESSAGE = 'etcd is unhappy: ' + 'x' * 983


def _response(status, body, content_type='application/json'):
    return (
        f'HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n'
        'Connection: close\r\n\r\n'
    ).encode() + body


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        self.request.settimeout(5)
        try:
            received = b''
            while b'\r\n\r\n' not in received:
                data = self.request.recv(65536)
                if not data:
                    return
                received += data
            with server.lock:
                server.requests += 1
            getattr(self, 'answer_' + server.behaviour.replace('-', '_'))()
        except OSError:
            pass  # the client gave up, which is what these servers are for

    def answer_drip(self):
        for byte in b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' + b'X-Padding: ' + b'a' * 100_000:
            if self.server.stopping.wait(1):
                return
            self.request.sendall(bytes([byte]))

    def answer_endless(self, status=b'200 OK'):
        self.request.sendall(
            b'HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n'
            b'{"kind":"SwitchList","items":[' % status
        )
        chunk = b'{"metadata":{"name":"filler"}},' * 4096
        while not self.server.stopping.is_set():
            self.request.sendall(chunk)

    def answer_endless_500(self):
        self.answer_endless(b'500 Internal Server Error')

    def answer_foreign_500(self):
        body = json.dumps({'error': 'Internal Server Error', 'message': FOREIGN_MESSAGE}).encode()
        self.request.sendall(_response('500 Internal Server Error', body))

    def answer_status_500(self):
        body = json.dumps({
            'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'InternalError', 'code': 500,
            'message': LONG_STATUS_MESSAGE,
        }).encode()
        self.request.sendall(_response('500 Internal Server Error', body))


class HostileServer(socketserver.ThreadingTCPServer):
    """`with HostileServer(DRIP) as server:` serves on 127.0.0.1:<server.port> until the block ends."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        super().__init__(('127.0.0.1', 0), _Handler)
        self.port = self.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self._thread = threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address
