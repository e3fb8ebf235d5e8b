"""Starting real `netbox hedgehog_scheduler` processes against the test database, and waiting on conditions."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from netbox_hedgehog.scheduling.job_store import JOB_TABLE, list_jobs
from netbox_hedgehog.scheduling.state import scheduler_state

NETBOX = str(Path(sys.executable).with_name('netbox'))

# Quick heartbeats and short grace so tests observe changes in seconds.
FAST_SETTINGS = {
    'scheduler_poll_interval': 2,
    'scheduler_heartbeat_interval': 1,
    'scheduler_heartbeat_timeout': 10,
    'scheduler_shutdown_grace_period': 5,
}

# On a busy two-core machine a Django process alone takes several seconds to start.
DEADLINE = 60


def wait_for(condition, message, timeout=DEADLINE):
    """Poll `condition` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f'Timed out after {timeout} s waiting for {message}')
        time.sleep(0.05)


class SchedulerProcess:
    """A `netbox hedgehog_scheduler` child; its mirroring step is tests.sync_stub unless `real_sync` is set."""

    def __init__(self, log_path, settings, extra_env=None, *, real_sync=False):
        self.log_path = log_path
        env = dict(
            os.environ,
            HEDGEHOG_DB_NAME=connection.settings_dict['NAME'],
            NETBOX_CONFIGURATION='tests.scheduler_configuration',
            HEDGEHOG_SYNC_STUB='0' if real_sync else '1',
            HEDGEHOG_PLUGIN_CONFIG=json.dumps(settings),
            PYTHONUNBUFFERED='1',
        )
        env.update(extra_env or {})  # may override the defaults above, e.g. HEDGEHOG_SYNC_STUB='' for real syncs
        with open(log_path, 'wb') as log:
            self.process = subprocess.Popen(
                [NETBOX, 'hedgehog_scheduler'], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    @property
    def pid(self):
        return self.process.pid

    @property
    def log(self):
        return self.log_path.read_text()

    def wait_for_log(self, text, timeout=DEADLINE):
        return wait_for(lambda: text in self.log, f'"{text}" in the log of scheduler {self.pid}', timeout)

    def is_leader(self):
        state = scheduler_state()
        return state.healthy and state.leader.pid == self.pid

    def wait_until_leader(self, timeout=DEADLINE):
        wait_for(self.is_leader, f'scheduler {self.pid} to lead', timeout)

    def send(self, signum):
        self.process.send_signal(signum)

    def wait_exit(self, timeout=DEADLINE):
        return self.process.wait(timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def print_log_tail(self, characters=8000):
        """Captured by pytest, and shown with the report of a test that failed: what the scheduler was doing."""
        print(f'--- end of the log of scheduler {self.pid} ---\n{self.log[-characters:]}')


def jobs_by_id():
    return {job.job_id: job for job in list_jobs()}


def terminate_backends(database, application_prefix):
    """pg_terminate_backend() on every session of the given application, as the superuser."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings['HOST'], port=settings['PORT'], user='postgres', dbname='postgres', autocommit=True
    ) as admin:
        return admin.execute(
            'SELECT pid, application_name, pg_terminate_backend(pid) FROM pg_stat_activity '
            'WHERE datname = %s AND application_name LIKE %s',
            [database, f'{application_prefix}%'],
        ).fetchall()


def drop_job_table():
    """The job store is not a Django model, so a test database flush leaves it behind for later tests."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS {JOB_TABLE}')


@pytest.fixture
def start_scheduler(transactional_db, tmp_path):
    """start_scheduler(real_sync=False, **settings) starts a scheduler process; all are killed in teardown."""
    processes = []

    def start(*, real_sync=False, **settings):
        log_path = tmp_path / f'scheduler-{len(processes)}.log'
        process = SchedulerProcess(log_path, {**FAST_SETTINGS, **settings}, real_sync=real_sync)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()
        process.print_log_tail()
    drop_job_table()
