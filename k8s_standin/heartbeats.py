"""Keep Agent heartbeats moving, as the switch agents of a live fabric do every 15 s.

Served fixtures carry fixed timestamps, so without this every switch of a long-running demo would look
unreachable. Each agent keeps the lag it had behind the freshest one when loaded: a switch that was fixture-stale
stays stale, the others stay current.
"""

import threading
from datetime import UTC, datetime

__all__ = ('AgentHeartbeats',)


def _parse(timestamp):
    return datetime.strptime(timestamp, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=UTC)


def _format(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


class AgentHeartbeats:
    def __init__(self, server, interval):
        self.server = server
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='agent-heartbeats', daemon=True)
        self._lags = {}

    def start(self):
        agents = self.server.objects('agents')
        beats = {
            (a['metadata']['namespace'], a['metadata']['name']): _parse(a['status']['lastHeartbeat'])
            for a in agents
            if (a.get('status') or {}).get('lastHeartbeat')
        }
        if beats:
            freshest = max(beats.values())
            self._lags = {key: freshest - beat for key, beat in beats.items()}
            self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def beat(self):
        now = datetime.now(UTC)
        for (namespace, name), lag in self._lags.items():
            self.server.patch('agents', name, namespace, status={'lastHeartbeat': _format(now - lag)})

    def _run(self):
        while True:
            self.beat()
            if self._stop.wait(self.interval):
                return
