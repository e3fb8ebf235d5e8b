"""Create the development role and databases, paying for NetBox's own migrations only once per machine.

NetBox's migrations take minutes of CPU. They run once into a template database (without the plugin) that is
stamped with the NetBox version. The demo database and every test database are cloned from it, after which only
the plugin's migrations run.

Usage: python -m devtools.dbsetup template|run|drop
"""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

ROLE = os.environ.get('HEDGEHOG_DB_USER', 'netbox_hedgehog')
TEMPLATE_DB = os.environ.get('HEDGEHOG_TEMPLATE_DB_NAME', 'netbox_hedgehog_template')
RUN_DB = os.environ.get('HEDGEHOG_DB_NAME', 'netbox_hedgehog')


def admin_connection():
    return psycopg.connect(
        host=os.environ.get('HEDGEHOG_DB_HOST', '127.0.0.1'),
        port=os.environ.get('HEDGEHOG_DB_PORT', '5432'),
        user=os.environ.get('HEDGEHOG_DB_ADMIN_USER', 'postgres'),
        dbname='postgres',
        autocommit=True,
    )


def netbox_version():
    from importlib.metadata import version

    return version('netbox')


def ensure_role(conn):
    if not conn.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', [ROLE]).fetchone():
        conn.execute(sql.SQL('CREATE ROLE {} LOGIN CREATEDB').format(sql.Identifier(ROLE)))


def database_comment(conn, name):
    row = conn.execute(
        'SELECT shobj_description(oid, %s) FROM pg_database WHERE datname = %s', ['pg_database', name]
    ).fetchone()
    return None if row is None else (row[0] or '')


def migrate(database, *, with_plugin):
    env = dict(os.environ, HEDGEHOG_DB_NAME=database)
    env['HEDGEHOG_WITHOUT_PLUGIN'] = '' if with_plugin else '1'
    # The console script beside this interpreter: the one of the project's virtual environment.
    netbox = str(Path(sys.executable).with_name('netbox'))
    subprocess.run([netbox, 'migrate', '--no-input', '--verbosity', '0'], env=env, check=True)


def ensure_template(conn):
    stamp = f'netbox {netbox_version()} migrated'
    comment = database_comment(conn, TEMPLATE_DB)
    if comment == stamp:
        return
    if comment is not None:
        # A half-migrated or outdated template: start over rather than guess what it holds.
        conn.execute(sql.SQL('DROP DATABASE {} WITH (FORCE)').format(sql.Identifier(TEMPLATE_DB)))
    print(f'Migrating NetBox into {TEMPLATE_DB} (once per machine; takes several minutes)...', flush=True)
    conn.execute(sql.SQL('CREATE DATABASE {} OWNER {}').format(sql.Identifier(TEMPLATE_DB), sql.Identifier(ROLE)))
    migrate(TEMPLATE_DB, with_plugin=False)
    conn.execute(sql.SQL('COMMENT ON DATABASE {} IS {}').format(sql.Identifier(TEMPLATE_DB), sql.Literal(stamp)))


def ensure_run_database(conn):
    if database_comment(conn, RUN_DB) is None:
        conn.execute(
            sql.SQL('CREATE DATABASE {} OWNER {} TEMPLATE {}').format(
                sql.Identifier(RUN_DB), sql.Identifier(ROLE), sql.Identifier(TEMPLATE_DB)
            )
        )
    migrate(RUN_DB, with_plugin=True)


def drop_database(conn, name):
    conn.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))


def drop_databases(conn):
    for name in (RUN_DB, TEMPLATE_DB):
        drop_database(conn, name)


def fresh_database(name):
    """(Re)create database `name` as a clone of the template with the plugin migrated, e.g. for a benchmark."""
    with admin_connection() as conn:
        ensure_role(conn)
        ensure_template(conn)
        drop_database(conn, name)
        conn.execute(
            sql.SQL('CREATE DATABASE {} OWNER {} TEMPLATE {}').format(
                sql.Identifier(name), sql.Identifier(ROLE), sql.Identifier(TEMPLATE_DB)
            )
        )
    migrate(name, with_plugin=True)


def discard_database(name):
    with admin_connection() as conn:
        drop_database(conn, name)


def main(argv):
    target = argv[1] if len(argv) > 1 else 'template'
    with admin_connection() as conn:
        if target == 'drop':
            drop_databases(conn)
            return
        ensure_role(conn)
        ensure_template(conn)
        if target == 'run':
            ensure_run_database(conn)


if __name__ == '__main__':
    main(sys.argv)
