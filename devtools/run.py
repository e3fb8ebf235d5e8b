"""`make run`: the whole product on this machine, against the local PostgreSQL and Redis.

Starts NetBox with the plugin on 127.0.0.1:8000, NetBox's RQ worker, the Hedgehog scheduler and the project's
Kubernetes API stand-in serving the sample fabric (with --executor rq also one worker on the plugin's sync queue,
which then runs the syncs), and creates a demo fabric (synced every 30 s) that points at
the stand-in, or at a real cluster with --kubeconfig. Idempotent: the configuration, database, admin user, token
and demo fabric are created only when missing, so a second run is up in seconds. Ctrl-C (or SIGTERM) stops every
process this command started, by process id.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools import dbsetup

REPO = Path(__file__).resolve().parent.parent
NETBOX_ROOT = Path(os.environ.get('NETBOX_ROOT', REPO / '.netbox'))
CONFIG_FILE = NETBOX_ROOT / 'conf' / 'configuration.py'
ADMIN_PASSWORD_FILE = NETBOX_ROOT / 'admin-password'
STANDIN_TOKEN_FILE = NETBOX_ROOT / 'k8s-standin-token'
ADMIN_USER = 'admin'

HOST = '127.0.0.1'
STANDIN_FIXTURES = REPO / 'k8s_standin' / 'fixtures'
# Paths of the plugin's pages (base_url "hedgehog"); built here because resolving them would cost a NetBox start.
FABRIC_PAGE = '/plugins/hedgehog/fabrics/{id}/'
SCHEDULER_PAGE = '/plugins/hedgehog/scheduler/'

# The plugin's RQ queue (netbox_hedgehog.sync.queued.QUEUE_NAME; importing it would need a configured NetBox).
SYNC_QUEUE = 'netbox_hedgehog.sync'
EXECUTORS = ('thread', 'rq')

STARTUP_TIMEOUT = 120
# The scheduler gives running syncs scheduler_shutdown_grace_period (30 s by default) to finish on SIGTERM.
SCHEDULER_STOP_TIMEOUT = 45
STOP_TIMEOUT = 15

CONFIG_TEMPLATE = """\
# Written by `make run` for this checkout only (ignored by git). Edit freely; it is never overwritten.
from devtools.netbox_configuration import *  # noqa: F403

SECRET_KEY = {secret_key!r}
"""


class StartupError(Exception):
    """Something the person running the demo must fix; printed without a traceback."""


def netbox_env(executor=None):
    """The environment for NetBox processes: the local configuration file, not the test module."""
    env = dict(os.environ)
    env.pop('NETBOX_CONFIGURATION', None)
    env['NETBOX_ROOT'] = str(NETBOX_ROOT)
    env['PYTHONUNBUFFERED'] = '1'
    if executor is not None:
        # Read by devtools.netbox_configuration as PLUGINS_CONFIG['netbox_hedgehog']['sync_executor'].
        env['HEDGEHOG_SYNC_EXECUTOR'] = executor
    return env


def write_once(path, content, *, private=False):
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    if private:
        path.chmod(0o600)
    print(f'Wrote {path}')


def write_local_files():
    write_once(CONFIG_FILE, CONFIG_TEMPLATE.format(secret_key=secrets.token_urlsafe(50)))
    write_once(ADMIN_PASSWORD_FILE, secrets.token_urlsafe(12), private=True)
    write_once(STANDIN_TOKEN_FILE, secrets.token_urlsafe(32), private=True)


def check_port_free(port, what):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves do: a port left in TIME_WAIT by the previous run is free to listen on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise StartupError(f'{HOST}:{port} ({what}) is already in use{port_owner(port)}.') from None


def port_owner(port):
    """Who listens on a port, as `ss` tells it (process names need the same user or root)."""
    if not shutil.which('ss'):
        return ''
    result = subprocess.run(['ss', '-Hltnp', f'sport = :{port}'], capture_output=True, text=True)
    users = re.findall(r'users:\(\((.*?)\)\)', result.stdout)
    return f' by {users[0]}' if users else ''


def prepare_database():
    """The role, the migrated template and the demo database; migrations are left to devtools.demo_objects."""
    with dbsetup.admin_connection() as conn:
        dbsetup.ensure_role(conn)
        dbsetup.ensure_template(conn)
        if dbsetup.database_comment(conn, dbsetup.RUN_DB) is None:
            dbsetup.ensure_run_database(conn)


def ensure_demo_objects(connection_args):
    """Admin user and demo fabric through the ORM (devtools.demo_objects); returns its JSON summary."""
    argv = [sys.executable, '-m', 'devtools.demo_objects', '--admin-password-file', str(ADMIN_PASSWORD_FILE)]
    result = subprocess.run([*argv, *connection_args], env=netbox_env(), stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise StartupError('Could not set up the admin user and the demo fabric (see above).')
    return json.loads(result.stdout.strip().splitlines()[-1])


def _interrupt(signum, frame):
    # Treat SIGTERM like Ctrl-C so both take the same clean shutdown path.
    raise KeyboardInterrupt


class Supervisor:
    """Starts the processes, and on Ctrl-C or SIGTERM stops each one by its process id, newest first."""

    def __init__(self, executor=None):
        self.processes = []
        self.executor = executor

    def start(self, name, argv, *, stop_timeout=STOP_TIMEOUT, stdout=None):
        # A session of its own keeps Ctrl-C from reaching the children directly: they are stopped in order below.
        process = subprocess.Popen(
            argv, env=netbox_env(self.executor), start_new_session=True, stdout=stdout, text=True
        )
        self.processes.append((name, process, stop_timeout))
        print(f'Started {name} (pid {process.pid})', flush=True)
        return process

    def check_alive(self):
        for name, process, _ in self.processes:
            if process.poll() is not None:
                raise StartupError(f'{name} exited with code {process.returncode}.')

    def wait(self):
        while True:
            self.check_alive()
            time.sleep(0.5)

    def stop(self):
        # Newest first: the scheduler finishes its running syncs while NetBox's database and the stand-in are up.
        for name, process, timeout in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    print(f'{name} did not stop within {timeout} s; killing it', flush=True)
                    process.kill()
                    process.wait()
            print(f'Stopped {name} (pid {process.pid}, exit code {process.returncode})', flush=True)
        self.processes.clear()


def wait_until(condition, what, supervisor, timeout=STARTUP_TIMEOUT):
    """Poll until condition() is true, failing early if a started process dies meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        supervisor.check_alive()
        if time.monotonic() > deadline:
            raise StartupError(f'{what} was not ready within {timeout} s.')
        time.sleep(0.2)


class StandinOutput:
    """Echoes the stand-in's output and catches the URL it prints once it is ready to serve."""

    URL = re.compile(r'https?://\S+')

    def __init__(self, stream):
        self.url = None
        threading.Thread(target=self._follow, args=(stream,), daemon=True).start()

    def _follow(self, stream):
        for line in stream:
            if self.url is None and (match := self.URL.search(line)):
                self.url = match.group(0).rstrip('/')
            print(f'[k8s-standin] {line}', end='', flush=True)


def start_standin(supervisor, port):
    argv = [
        sys.executable, '-m', 'k8s_standin',
        '--host', HOST, '--port', str(port), '--token-file', str(STANDIN_TOKEN_FILE),
        '--crds', str(STANDIN_FIXTURES / 'crds'),
        '--objects', str(STANDIN_FIXTURES / 'samples'),
        # Live switch agents report every 15 s; without this every switch of the demo would look unreachable.
        '--agent-heartbeats', '15',
    ]  # fmt: skip
    process = supervisor.start('k8s-standin', argv, stdout=subprocess.PIPE)
    return StandinOutput(process.stdout)


def netbox_answers(port):
    try:
        with urllib.request.urlopen(f'http://{HOST}:{port}/login/', timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_background_processes(supervisor):
    supervisor.start('rqworker', ['netbox', 'rqworker', 'high', 'default', 'low'])
    if supervisor.executor == 'rq':
        supervisor.start('hedgehog-worker', ['netbox', 'rqworker', SYNC_QUEUE], stop_timeout=SCHEDULER_STOP_TIMEOUT)
    supervisor.start(
        'hedgehog-scheduler', ['netbox', 'hedgehog_scheduler'], stop_timeout=SCHEDULER_STOP_TIMEOUT
    )


def print_where_to_look(port, fabric, source, elapsed):
    base = f'http://{HOST}:{port}'
    jobs = f'NETBOX_ROOT={NETBOX_ROOT} PYTHONPATH={REPO} {REPO}/.venv/bin/netbox hedgehog_jobs'
    print(
        f'\nUp in {elapsed:.1f} s. NetBox with netbox-hedgehog: {base}/\n'
        f'  Log in as        {ADMIN_USER} / {ADMIN_PASSWORD_FILE.read_text().strip()}\n'
        f'  Demo fabric      {base}{FABRIC_PAGE.format(id=fabric["fabric_id"])}  '
        f'({fabric["fabric"]}: {fabric["action"]}; source: {source})\n'
        f'  Scheduler        {base}{SCHEDULER_PAGE}\n'
        f'  Jobs (terminal)  {jobs}\n'
        'Press Ctrl-C to stop everything.\n',
        flush=True,
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, default=8000, help='NetBox port (default 8000)')
    parser.add_argument(
        '--standin-port',
        type=int,
        default=int(os.environ.get('HEDGEHOG_DEMO_STANDIN_PORT', '16443')),
        help='Kubernetes API stand-in port (default 16443, or $HEDGEHOG_DEMO_STANDIN_PORT)',
    )
    parser.add_argument(
        '--kubeconfig',
        type=Path,
        default=os.environ.get('HEDGEHOG_DEMO_KUBECONFIG') or None,
        help="point the demo fabric at a real cluster's kubeconfig (one cluster, user and context) instead of the "
        'stand-in; default $HEDGEHOG_DEMO_KUBECONFIG',
    )
    parser.add_argument(
        '--executor',
        choices=EXECUTORS,
        default='thread',
        help="where syncs run: 'thread' in the scheduler (default) or 'rq' on a worker of the queue " + SYNC_QUEUE,
    )
    args = parser.parse_args()
    if args.kubeconfig and not args.kubeconfig.is_file():
        parser.error(f'kubeconfig {args.kubeconfig} is not a file')
    return args


def run(args, supervisor):
    started = time.monotonic()
    check_port_free(args.port, 'NetBox')
    if not args.kubeconfig:
        check_port_free(args.standin_port, 'Kubernetes API stand-in')
    write_local_files()

    # Loading NetBox's URLs and API schema takes the web server about ten seconds, so everything else happens
    # meanwhile: the stand-in boots while the database is prepared, and the admin user and demo fabric are set
    # up while NetBox loads. A migration that a new plugin version brings is applied in that window too; the
    # readiness poll below simply sees NetBox answer once it is in.
    standin = None if args.kubeconfig else start_standin(supervisor, args.standin_port)
    prepare_database()
    supervisor.start('netbox', [sys.executable, '-m', 'devtools.serve', f'{HOST}:{args.port}'])
    if args.kubeconfig:
        source = f'kubeconfig {args.kubeconfig}'
        connection_args = ['--kubeconfig', str(args.kubeconfig)]
    else:
        wait_until(lambda: standin.url, 'The Kubernetes API stand-in', supervisor)
        source = f'Kubernetes API stand-in at {standin.url} (token in {STANDIN_TOKEN_FILE})'
        connection_args = ['--server', standin.url, '--token-file', str(STANDIN_TOKEN_FILE)]
    fabric = ensure_demo_objects(connection_args)

    # The worker and the scheduler read the plugin's tables from their first second: they start once the
    # migrations are surely in.
    start_background_processes(supervisor)
    wait_until(lambda: netbox_answers(args.port), 'NetBox', supervisor)
    print_where_to_look(args.port, fabric, source, time.monotonic() - started)
    supervisor.wait()


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)
    supervisor = Supervisor(args.executor)
    try:
        run(args, supervisor)
    except KeyboardInterrupt:
        print('\nStopping...', flush=True)
        status = 0
    except StartupError as error:
        print(f'\nmake run: {error}', file=sys.stderr, flush=True)
        status = 1
    finally:
        # Ctrl-C again while stopping would orphan processes; the stop order finishes first.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop()
    sys.exit(status)


if __name__ == '__main__':
    main()
