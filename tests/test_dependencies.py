"""
Dependencies run one way: the scheduler (scheduler_worker) imports the plugin, the plugin never imports the scheduler.

The one exception is the lazy import inside `netbox hedgehog_scheduler`'s handle(), which starts the scheduler.
The web process in particular never loads APScheduler: it reads the job store through netbox_hedgehog.scheduling.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

from netbox_hedgehog.models import HedgehogFabric
from netbox_hedgehog.scheduling.job_ids import scheduled_job_id

from .scheduler_harness import drop_job_table

PLUGIN = Path(__file__).resolve().parent.parent / 'netbox_hedgehog'
SCHEDULER_COMMAND = PLUGIN / 'management' / 'commands' / 'hedgehog_scheduler.py'


def imported_modules(node):
    """Every absolute module name an import statement below `node` names (relative imports stay in the plugin)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Import):
            yield from (alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.level == 0:
            yield child.module


def imports_scheduler(node):
    return any(name == 'scheduler_worker' or name.startswith('scheduler_worker.') for name in imported_modules(node))


def test_the_plugin_never_imports_the_scheduler():
    offenders = []
    modules = sorted(PLUGIN.rglob('*.py'))
    assert len(modules) > 50, modules  # the walk really covers the package
    for path in modules:
        tree = ast.parse(path.read_text(), filename=str(path))
        if path == SCHEDULER_COMMAND:
            # Allowed only inside Command.handle(): importing the command must not load the scheduler.
            command = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == 'Command')
            handle = next(node for node in command.body if getattr(node, 'name', None) == 'handle')
            assert imports_scheduler(handle), 'the scheduler command no longer starts the scheduler'
            command.body.remove(handle)
        if imports_scheduler(tree):
            offenders.append(str(path.relative_to(PLUGIN.parent)))
    assert offenders == []


def test_the_check_finds_an_offender():
    """The walk above is only worth something if it sees every form of import."""
    for source in (
        'import scheduler_worker',
        'import scheduler_worker.jobs as jobs',
        'from scheduler_worker.jobs import runs',
        'from scheduler_worker import jobs',
        'def f():\n    from scheduler_worker.service import SchedulerService',
    ):
        assert imports_scheduler(ast.parse(source)), source
    for source in ('from .scheduling import job_ids', 'import scheduler_workers', 'from netbox_hedgehog import sync'):
        assert not imports_scheduler(ast.parse(source)), source


RENDER_FABRIC_LIST = """
import json, sys
import django
django.setup()
from django.test import Client
from users.models import User
loaded_at_start = sorted(name for name in sys.modules if name.split('.')[0] in ('apscheduler', 'scheduler_worker'))
user = User.objects.create_superuser('dependency-check', password='unused-password-0123')
client = Client()
client.force_login(user)
response = client.get('/plugins/hedgehog/fabrics/')
print(json.dumps({
    'status': response.status_code,
    'page': response.content.decode(),
    'loaded_at_start': loaded_at_start,
    'loaded': sorted(name for name in sys.modules if name.split('.')[0] in ('apscheduler', 'scheduler_worker')),
}))
"""


def test_rendering_the_fabric_list_loads_no_scheduler(transactional_db):
    fabric = HedgehogFabric.objects.create(name='listed', kubernetes_server='https://10.0.0.1:6443', sync_interval=600)
    # A job row as the scheduler stores it, but with a state that cannot be unpickled: the list must not try.
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE hedgehog_scheduler_jobs '
            '(id varchar(191) PRIMARY KEY, next_run_time double precision, job_state bytea NOT NULL)'
        )
        cursor.execute(
            "INSERT INTO hedgehog_scheduler_jobs VALUES (%s, extract(epoch FROM now()) + 7200, 'not a pickle')",
            [scheduled_job_id(fabric.pk)],
        )
    try:
        result = subprocess.run(
            [sys.executable, '-c', RENDER_FABRIC_LIST],
            env=dict(
                os.environ, DJANGO_SETTINGS_MODULE='netbox.settings', HEDGEHOG_DB_NAME=connection.settings_dict['NAME']
            ),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        drop_job_table()
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome['status'] == 200
    assert 'listed' in outcome['page']
    # The next sync comes from the job row: two hours ahead.
    assert 'in 2 h' in outcome['page'] or 'in 1 h 59 min' in outcome['page'], outcome['page']
    assert outcome['loaded_at_start'] == []
    assert outcome['loaded'] == []
