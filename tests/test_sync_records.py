"""What a sync leaves behind besides the mirror: logs, run records and their pruning, and the changed names."""

import logging

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.models import SyncRun
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import TOKEN, expected_counts, plugin_settings


def test_the_token_appears_in_no_log_line_error_or_run(standin, make_fabric, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # every logger, the Kubernetes client's and urllib3's included
    fabric = make_fabric(standin)
    synced = sync_fabric(fabric.pk, 'manual')
    assert synced.outcome == SyncOutcomeChoices.SUCCESS, synced.errors
    standin.set_fault(None, '401')
    rejected = sync_fabric(fabric.pk, 'manual')

    assert rejected.outcome == SyncOutcomeChoices.FAILED
    assert '401 Unauthorized' in rejected.errors[0]['message']
    fabric.refresh_from_db()
    assert '401 Unauthorized' in fabric.sync_error
    captured = capfd.readouterr()
    logged = [record.getMessage() for record in caplog.records]
    assert any('Sync of fabric fabric-1 finished' in line for line in logged)  # the log was captured at all
    texts = {
        'log records': '\n'.join(logged),
        'formatted log': caplog.text,
        'stdout': captured.out,
        'stderr': captured.err,
        'sync_error': fabric.sync_error,
        'run errors': repr([run.errors for run in SyncRun.objects.filter(fabric=fabric)]),
    }
    for where, text in texts.items():
        assert TOKEN not in text, f'the token leaked into {where}'
        assert TOKEN[:12] not in text, f'part of the token leaked into {where}'


def test_runs_are_pruned_to_the_retention_newest_first(standin, make_fabric):
    fabric = make_fabric(standin)
    other = make_fabric(standin, name='fabric-2')
    kept_elsewhere = sync_fabric(other.pk, 'manual')
    with plugin_settings(sync_run_retention=3):
        runs = [sync_fabric(fabric.pk, 'manual') for _ in range(5)]

    assert list(SyncRun.objects.filter(fabric=fabric).order_by('started').values_list('pk', flat=True)) == [
        run.pk for run in runs[-3:]
    ]
    assert SyncRun.objects.filter(pk=kept_elsewhere.pk).exists()  # another fabric's runs are not counted


def test_changed_names_are_capped_in_all_kinds_together(standin, make_fabric):
    fabric = make_fabric(standin)
    with plugin_settings(sync_changed_names_cap=5):
        run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert sum(expected_counts().values()) > 5
    assert sum(run.counts[kind]['created'] for kind in run.counts) == sum(expected_counts().values())
    names = [name for actions in run.changes.values() for listed in actions.values() for name in listed]
    assert len(names) == 5
    # Kinds in sync order: the first kinds fill the cap.
    first_kind = next(kind for kind, count in expected_counts().items() if count)
    assert run.changes[first_kind]['created'] == sorted(run.changes[first_kind]['created'])
    assert len(run.changes[first_kind]['created']) == min(5, expected_counts()[first_kind])
