"""A loopback HTTP server owned by the tests: it records the Authorization header of every request it gets."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ('RecordingServer',)


class RecordingServer:
    def __init__(self):
        recorded = self.authorizations = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                recorded.append(self.headers.get('Authorization'))
                body = json.dumps({'gitVersion': 'v0-recording', 'groups': [], 'resources': []}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f'http://127.0.0.1:{self.httpd.server_address[1]}'

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=30)
