"""
A PostgreSQL cluster of a test's own, made with the machine's initdb on a free port, that the test may stop,
restart or break without touching the shared server.

The database is a copy (pg_dump, then psql) of the test database, so it holds NetBox's and the plugin's schema and
whatever the test created before copying. Run as root, the cluster's processes run as the `postgres` system user,
since PostgreSQL refuses to run as root.
"""

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
from django.db import connection

__all__ = ('PrivateCluster',)

POSTGRES_BIN = Path(os.environ.get('HEDGEHOG_POSTGRES_BIN', '/usr/lib/postgresql/15/bin'))
# The role NetBox connects as inside the private cluster: its bootstrap superuser.
ROLE = 'netbox_hedgehog'
START_TIMEOUT = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class PrivateCluster:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.data = self.directory / 'data'
        self.log = self.directory / 'postgres.log'
        self.port = free_port()
        self.database = connection.settings_dict['NAME']
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam('postgres')
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)

    def run(self, argv, **kwargs):
        return subprocess.run(
            argv, check=True, capture_output=True, text=True,
            user=self.user.pw_uid if self.user else None, group=self.user.pw_gid if self.user else None, **kwargs,
        )

    def create(self):
        """initdb, start, and copy the test database into the new cluster."""
        self.run([
            str(POSTGRES_BIN / 'initdb'), '-D', str(self.data), '-U', ROLE, '--auth=trust', '--no-sync',
            '--encoding=UTF8', '--locale=C',
        ])
        self.start()
        settings = connection.settings_dict
        dump = subprocess.run(
            [
                str(POSTGRES_BIN / 'pg_dump'), '--no-owner', '--no-acl', '-h', settings['HOST'],
                '-p', str(settings['PORT']), '-U', settings['USER'], '-d', self.database,
            ],
            check=True, capture_output=True,
        ).stdout
        with self.admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        psql = shutil.which('psql') or str(POSTGRES_BIN / 'psql')
        restore = subprocess.run(
            [psql, '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', str(self.port), '-U', ROLE,
             '-d', self.database],
            input=dump, capture_output=True,
        )
        assert restore.returncode == 0, restore.stderr.decode()[-2000:]

    def pg_ctl(self, *args):
        return self.run([str(POSTGRES_BIN / 'pg_ctl'), '-D', str(self.data), *args])

    def start(self):
        self.pg_ctl(
            '-l', str(self.log), '-w', '-t', str(START_TIMEOUT),
            '-o', f'-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off', 'start',
        )

    def stop(self):
        """Stop at once: every session is terminated, as in a crash-free restart of a real server."""
        self.pg_ctl('-m', 'fast', '-w', '-t', str(START_TIMEOUT), 'stop')

    def is_running(self):
        return (self.data / 'postmaster.pid').exists()

    def destroy(self):
        if self.is_running():
            self.pg_ctl('-m', 'immediate', '-w', 'stop')
        shutil.rmtree(self.directory, ignore_errors=True)

    def connect(self, dbname=None):
        return psycopg.connect(
            host='127.0.0.1', port=self.port, user=ROLE, dbname=dbname or self.database, autocommit=True
        )

    def admin(self):
        return self.connect('postgres')

    def query(self, sql, params=None):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def environment(self):
        """What a NetBox process needs in its environment to use this cluster (devtools.netbox_configuration)."""
        return {
            'HEDGEHOG_DB_HOST': '127.0.0.1',
            'HEDGEHOG_DB_PORT': str(self.port),
            'HEDGEHOG_DB_USER': ROLE,
            'HEDGEHOG_DB_PASSWORD': '',
            'HEDGEHOG_DB_NAME': self.database,
        }

    def wait_until_accepting(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
