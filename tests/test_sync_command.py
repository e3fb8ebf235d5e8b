"""`netbox hedgehog_sync`: foreground sync with a summary, exit codes for scripts."""

import io
import json

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from netbox_hedgehog.sync.lock import FABRIC_SYNC_LOCK_SPACE

from .sync_fixtures import expected_counts


def run_command(*args):
    """(exit code, stdout, stderr) of hedgehog_sync."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command('hedgehog_sync', *args, stdout=stdout, stderr=stderr)
    return exit_info.value.code, stdout.getvalue(), stderr.getvalue()


def test_json_summary_by_name(standin, make_fabric):
    make_fabric(standin, name='lab')
    code, stdout, _ = run_command('lab', '--json')

    assert code == 0
    summary = json.loads(stdout)
    assert summary['fabric'] == 'lab' and summary['outcome'] == 'success' and summary['trigger'] == 'manual'
    assert {kind: counts['created'] for kind, counts in summary['counts'].items()} == expected_counts()


def test_text_summary_by_id(standin, make_fabric):
    fabric = make_fabric(standin)
    code, stdout, _ = run_command(str(fabric.pk))

    assert code == 0
    assert f'Fabric {fabric.name}: success' in stdout
    assert 'Switch' in stdout and 'unchanged' in stdout


def test_failed_sync_exits_non_zero_with_the_reason(standin, make_fabric):
    make_fabric(standin, name='lab')
    standin.set_fault(None, '401')
    code, stdout, _ = run_command('lab')

    assert code == 1
    assert 'failed' in stdout and '401 Unauthorized' in stdout


def test_partial_sync_exits_with_its_own_code(standin, make_fabric):
    make_fabric(standin, name='lab')
    standin.set_fault('vpcs', '500')
    code, stdout, _ = run_command('lab', '--json')

    assert code == 2
    assert json.loads(stdout)['errors'][0]['kind'] == 'VPC'


def test_a_sync_already_running_is_reported_at_once(standin, make_fabric):
    fabric = make_fabric(standin, name='lab')
    settings = connection.settings_dict
    # Another session holds the fabric's lock, as a running sync would.
    with psycopg.connect(
        host=settings['HOST'], port=settings['PORT'], user=settings['USER'], password=settings['PASSWORD'],
        dbname=settings['NAME'], autocommit=True,
    ) as other:
        other.execute('SELECT pg_advisory_lock(%s, %s)', [FABRIC_SYNC_LOCK_SPACE, fabric.pk])
        code, _, stderr = run_command('lab')

    assert code == 3
    assert 'already running' in stderr


def test_unknown_fabric(db):
    with pytest.raises(CommandError, match='No fabric is named "nope"'):
        call_command('hedgehog_sync', 'nope')
