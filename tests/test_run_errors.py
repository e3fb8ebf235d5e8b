"""A run's errors: one SyncError shape, capped in number and length however many objects a cluster gets wrong."""

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices
from netbox_hedgehog.models import VPC, SyncRun
from netbox_hedgehog.run_record import (
    MAX_ERRORS,
    MAX_MESSAGE,
    MAX_SUMMARY,
    SyncError,
    error_count,
    merge_errors,
    summarize_errors,
)
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import TOKEN, fabric_objects, make_fabric

__all__ = ('make_fabric',)  # fixtures

VPC_API = 'vpc.githedgehog.com/v1beta1'


def test_a_sync_error_is_cut_and_cleaned_for_postgresql():
    error = SyncError('x' * 5000 + '\x00', kind='Switch', name='bad\ud800name\x00')
    assert len(error.message) == MAX_MESSAGE and error.message.endswith('…')
    assert '\x00' not in error.name and '\ud800' not in error.name
    error.name.encode('utf-8')  # a lone surrogate would raise here, and in PostgreSQL
    assert str(error).startswith('Switch/bad?name')
    assert SyncError.from_dict(error.as_dict()) == error
    assert error.as_dict().keys() == {'kind', 'name', 'message'}


def test_errors_beyond_the_cap_are_counted_not_kept_across_additions():
    stored = merge_errors([], [SyncError(f'error {n}', 'VPC', f'vpc-{n}') for n in range(150)])
    assert len(stored) == MAX_ERRORS + 1
    assert stored[-1]['omitted'] == 50 and stored[-1]['message'] == '50 more errors were not kept'
    # A later addition (the runner's, after the engine's) lands in the count, and the count stays last.
    stored = merge_errors(stored, [SyncError('late')])
    assert len(stored) == MAX_ERRORS + 1
    assert stored[-1]['omitted'] == 51
    assert error_count(stored) == 151
    assert merge_errors([], [SyncError('only')]) == [{'kind': '', 'name': '', 'message': 'only'}]


def test_the_summary_stays_under_its_limit_and_says_how_many_more():
    stored = merge_errors([], [SyncError('m' * 2000, 'ExternalAttachment', 'n' * 300) for _ in range(3)])
    summary = summarize_errors(stored)
    assert len(summary) < MAX_SUMMARY
    assert summary.splitlines()[-1] == '… and 2 more'
    assert summarize_errors(merge_errors([], [SyncError('one'), SyncError('two', 'VPC')])) == 'one\nVPC: two'


def test_three_thousand_malformed_objects_keep_a_hundred_errors_and_a_short_fabric_error(make_fabric):
    malformed = [
        {'apiVersion': VPC_API, 'kind': 'VPC', 'metadata': {'name': f'no-spec-{n:04}', 'namespace': 'default'}}
        for n in range(3000)
    ]
    with StandinServer(objects=[*fabric_objects(), *malformed], token=TOKEN) as server:
        fabric = make_fabric(server)
        run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    run = SyncRun.objects.get(pk=run.pk)
    assert len(run.errors) == MAX_ERRORS + 1
    assert run.errors[-1]['omitted'] == 3000 - MAX_ERRORS
    assert run.error_count == 3000
    assert all(error['kind'] == 'VPC' and 'spec is missing' in error['message'] for error in run.errors[:-1])
    assert all(len(error['message']) <= MAX_MESSAGE for error in run.errors)
    fabric.refresh_from_db()
    assert fabric.sync_status == SyncStatusChoices.ERROR
    assert len(fabric.sync_error) < MAX_SUMMARY
    assert fabric.sync_error.endswith('more')
    # The well-formed objects were applied all the same.
    assert VPC.objects.filter(fabric=fabric).count() == 3
