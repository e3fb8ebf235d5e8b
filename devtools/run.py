"""`make run`: NetBox with the plugin on 127.0.0.1:8000, backed by the local PostgreSQL and Redis.

Idempotent: the configuration, database and admin user are created only when missing, so a second run is up in
seconds. Ctrl-C stops every process this command started.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

NETBOX_ROOT = Path(os.environ.get('NETBOX_ROOT', Path.cwd() / '.netbox'))
CONFIG_FILE = NETBOX_ROOT / 'conf' / 'configuration.py'
ADMIN_PASSWORD_FILE = NETBOX_ROOT / 'admin-password'
ADMIN_USER = 'admin'

CONFIG_TEMPLATE = """\
# Written by `make run` for this checkout only (ignored by git). Edit freely; it is never overwritten.
from devtools.netbox_configuration import *  # noqa: F403

SECRET_KEY = {secret_key!r}
"""


def netbox_env():
    """The environment for NetBox processes: the local configuration file, not the test module."""
    env = dict(os.environ)
    env.pop('NETBOX_CONFIGURATION', None)
    env['NETBOX_ROOT'] = str(NETBOX_ROOT)
    return env


def write_configuration():
    if CONFIG_FILE.exists():
        return
    CONFIG_FILE.parent.mkdir(parents=True, exist_ok=True)
    CONFIG_FILE.write_text(CONFIG_TEMPLATE.format(secret_key=secrets.token_urlsafe(50)))
    print(f'Wrote {CONFIG_FILE}')


def netbox(*args, check=True, **kwargs):
    return subprocess.run(['netbox', *args], env=netbox_env(), check=check, **kwargs)


def ensure_admin():
    if not ADMIN_PASSWORD_FILE.exists():
        ADMIN_PASSWORD_FILE.write_text(secrets.token_urlsafe(12))
        ADMIN_PASSWORD_FILE.chmod(0o600)
    password = ADMIN_PASSWORD_FILE.read_text().strip()
    script = (
        'from users.models import User\n'
        f'user, _ = User.objects.get_or_create(username={ADMIN_USER!r}, '
        'defaults={"is_superuser": True})\n'
        f'user.set_password({password!r}); user.is_superuser = True; user.save()\n'
    )
    netbox('shell', '--no-imports', '-c', script, stdout=subprocess.DEVNULL)
    return password


def prepare():
    write_configuration()
    subprocess.run([sys.executable, '-m', 'devtools.dbsetup', 'run'], check=True)
    return ensure_admin()


def _interrupt(signum, frame):
    # Treat SIGTERM like Ctrl-C so both take the same clean shutdown path.
    raise KeyboardInterrupt


class Supervisor:
    """Starts the processes, and on Ctrl-C or SIGTERM stops each one by its process id."""

    def __init__(self):
        self.processes = []

    def start(self, name, argv, env=None):
        process = subprocess.Popen(argv, env=env or netbox_env(), start_new_session=True)
        self.processes.append((name, process))
        print(f'Started {name} (pid {process.pid})')
        return process

    def wait(self):
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while True:
                for name, process in self.processes:
                    if process.poll() is not None:
                        print(f'{name} exited with code {process.returncode}; stopping everything')
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def stop(self):
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            print(f'Stopped {name} (pid {process.pid})')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--port', type=int, default=8000)
    args = parser.parse_args()

    password = prepare()
    supervisor = Supervisor()
    supervisor.start('netbox', ['netbox', 'runserver', f'127.0.0.1:{args.port}', '--insecure', '--noreload'])
    print(
        f'\nNetBox with netbox-hedgehog: http://127.0.0.1:{args.port}/plugins/hedgehog/fabrics/\n'
        f'Log in as {ADMIN_USER} / {password}\n'
        'Press Ctrl-C to stop.\n',
        flush=True,
    )
    sys.exit(supervisor.wait())


if __name__ == '__main__':
    main()
