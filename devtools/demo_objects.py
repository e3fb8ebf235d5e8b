"""The database side of `make run`: pending migrations, the admin user and the demo fabric, in one NetBox start.

Run by devtools.run as `python -m devtools.demo_objects` with the environment of the NetBox processes. Secrets
arrive in files (never on the command line), and the single line printed at the end is JSON for devtools.run:
it names the fabric, never its token.

Usage: python -m devtools.demo_objects --admin-password-file F (--server URL --token-file F | --kubeconfig F)
"""

import argparse
import json
import os
import sys
from pathlib import Path

import django

DEMO_FABRIC = 'demo'
DEMO_SYNC_INTERVAL = 30
ADMIN_USER = 'admin'


def pending_migrations():
    """
    Migration files on disk that the database has not recorded, without importing them.

    `migrate` (even `migrate --check`) loads all of NetBox's several hundred migration modules and costs over ten
    seconds; comparing file names with django_migrations costs milliseconds, and a new migration is always a new
    file. Squashed migrations are recorded too once their replaced ones are applied, so they do not show up here.
    """
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    with connection.cursor() as cursor:
        cursor.execute('SELECT app, name FROM django_migrations')
        applied = set(cursor.fetchall())
    pending = []
    for app_config in apps.get_app_configs():
        module_name, _ = MigrationLoader.migrations_module(app_config.label)
        directory = Path(app_config.path) / module_name.rsplit('.', 1)[-1] if module_name else None
        if directory is None or not directory.is_dir():
            continue
        for path in directory.glob('[0-9]*.py'):
            if (app_config.label, path.stem) not in applied:
                pending.append(f'{app_config.label}.{path.stem}')
    return pending


def migrate_if_needed():
    from django.core.management import call_command

    pending = pending_migrations()
    if pending:
        print(f'Applying {len(pending)} migration(s): {", ".join(sorted(pending)[:5])}...', flush=True)
        call_command('migrate', interactive=False, verbosity=0)


def ensure_admin(password):
    from users.models import User

    user, _ = User.objects.get_or_create(username=ADMIN_USER, defaults={'is_superuser': True})
    if not user.check_password(password) or not user.is_superuser:
        user.set_password(password)
        user.is_superuser = True
        user.save()


def demo_connection(args):
    """The connection fields the demo fabric should have: the stand-in's URL and token, or a kubeconfig."""
    if args.kubeconfig:
        return {'kubernetes_server': '', 'kubernetes_token': '', 'kubeconfig': args.kubeconfig.read_text()}
    return {
        'kubernetes_server': args.server,
        'kubernetes_token': args.token_file.read_text().strip(),
        'kubeconfig': '',
    }


def ensure_demo_fabric(connection_fields):
    """
    Create the demo fabric if it is missing; otherwise only re-point its connection when this run serves another.

    Everything else a user changed on the fabric (interval, enabled, description) is left alone. The save writes
    the scheduler notice by itself, and a fabric whose connection already matches is not saved at all.
    """
    from netbox_hedgehog.models import HedgehogFabric

    fabric = HedgehogFabric.objects.filter(name=DEMO_FABRIC).first()
    if fabric is None:
        fabric = HedgehogFabric(
            name=DEMO_FABRIC,
            description='Created by make run',
            sync_interval=DEMO_SYNC_INTERVAL,
            **connection_fields,
        )
        action = 'created'
    elif any(getattr(fabric, field) != value for field, value in connection_fields.items()):
        for field, value in connection_fields.items():
            setattr(fabric, field, value)
        action = 'connection updated'
    else:
        return fabric, 'unchanged'
    fabric.full_clean()
    fabric.save()
    return fabric, action


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--admin-password-file', type=Path, required=True)
    parser.add_argument('--server', help="the Kubernetes API stand-in's URL")
    parser.add_argument('--token-file', type=Path, help="file holding the stand-in's bearer token")
    parser.add_argument('--kubeconfig', type=Path, help="a real cluster's kubeconfig, instead of the stand-in")
    args = parser.parse_args()
    if not args.kubeconfig and not (args.server and args.token_file):
        parser.error('give --kubeconfig, or --server with --token-file')
    return args


def main():
    args = parse_args()
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'netbox.settings')
    django.setup()
    from django.core.exceptions import ValidationError

    migrate_if_needed()
    ensure_admin(args.admin_password_file.read_text().strip())
    try:
        fabric, action = ensure_demo_fabric(demo_connection(args))
    except ValidationError as error:
        sys.exit(f'The demo fabric was refused: {"; ".join(error.messages)}')
    # No reverse() here: loading NetBox's URL configuration alone would double this script's run time.
    print(json.dumps({'fabric': fabric.name, 'fabric_id': fabric.pk, 'action': action}))


if __name__ == '__main__':
    main()
