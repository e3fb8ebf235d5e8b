"""
Real `netbox rqworker netbox_hedgehog.sync` processes against the test database and the tasks Redis database.

Workers run the same configuration as the scheduler processes (tests.scheduler_configuration), so their syncs go
through the real sync runner with tests.sync_stub as the mirroring step.
"""

import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection
from rq.worker import Worker

from netbox_hedgehog.sync.queued import QUEUE_NAME, SLOT_KEY_PREFIX, WAITING_KEY_PREFIX, live_workers, sync_queue

from .scheduler_harness import NETBOX, wait_for

RQ_EXECUTOR = {'sync_executor': 'rq'}
# Loading NetBox takes a worker many seconds of CPU; several processes starting at once on a loaded two-core
# machine take minutes.
STARTUP_DEADLINE = 240


class WorkerProcess:
    def __init__(self, log_path):
        self.log_path = log_path
        self.name = f'hedgehog-test-{uuid.uuid4().hex[:12]}'
        env = dict(
            os.environ,
            HEDGEHOG_DB_NAME=connection.settings_dict['NAME'],
            NETBOX_CONFIGURATION='tests.scheduler_configuration',
            HEDGEHOG_SYNC_STUB='1',
            PYTHONUNBUFFERED='1',
        )
        with open(log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [NETBOX, 'rqworker', QUEUE_NAME, '--name', self.name],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )

    @property
    def log(self):
        return self.log_path.read_text()

    def is_registered(self):
        return any(worker.name == self.name for worker in live_workers())

    def wait_until_registered(self, timeout=STARTUP_DEADLINE):
        wait_for(self.is_registered, f'RQ worker {self.name} to register', timeout)

    def children(self):
        """Process ids of the work horses this worker forked (RQ puts each in a process group of its own)."""
        found = []
        for stat in Path('/proc').glob('[0-9]*/stat'):
            try:
                fields = stat.read_text().rsplit(')', 1)[1].split()
            except OSError:
                continue  # exited meanwhile
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def pause(self):
        """SIGSTOP the worker: it stays registered but takes no job until resume()."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self):
        """SIGKILL the worker and the work horse running the sync: a host or container dying."""
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # the work horse finished its job meanwhile
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        self.kill()
        # A killed worker cannot unregister itself; its registration would count as live until it expires.
        redis = sync_queue().connection
        worker = Worker.find_by_key(f'{Worker.redis_worker_namespace_prefix}{self.name}', connection=redis)
        if worker is not None:
            worker.register_death()


def clear_queue():
    """Empty the plugin's queue, its registries and the plugin's own keys in the tasks Redis database."""
    queue = sync_queue()
    redis = queue.connection
    queue.empty()
    for registry in (
        queue.started_job_registry, queue.finished_job_registry, queue.failed_job_registry,
        queue.deferred_job_registry, queue.scheduled_job_registry, queue.canceled_job_registry,
    ):
        redis.delete(registry.key)
    for pattern in ('rq:job:hedgehog-sync-*', f'{SLOT_KEY_PREFIX}*', f'{WAITING_KEY_PREFIX}*'):
        for key in redis.scan_iter(match=pattern, count=1000):
            redis.delete(key)


@pytest.fixture
def rq_executor(settings):
    """This process (pages, commands) reads sync_executor = "rq", like the scheduler; the queue starts empty."""
    settings.PLUGINS_CONFIG = {
        'netbox_hedgehog': {**settings.PLUGINS_CONFIG.get('netbox_hedgehog', {}), **RQ_EXECUTOR},
    }
    clear_queue()
    yield
    clear_queue()


@pytest.fixture
def start_worker(rq_executor, transactional_db, tmp_path):
    """start_worker() starts a `netbox rqworker netbox_hedgehog.sync`; all are stopped in teardown."""
    workers = []

    def start():
        worker = WorkerProcess(tmp_path / f'worker-{len(workers)}.log')
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
