"""
The sync history of mirrored objects: what the real engine records (and does not), what survives deletion and
pruning, and the Sync history tab that replaces the Changelog tab of every mirrored kind.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import VPC, HedgehogFabric, MirrorChange, Switch, SyncRun
from netbox_hedgehog.sync import sync_fabric

from .conftest import grant
from .mirror_fixtures import VIEW_ALL
from .sync_fixtures import expected_counts, plugin_settings

KIND_PARAMS = [pytest.param(kind, id=kind.model_name) for kind in KINDS]
VIEW_HISTORY = (*VIEW_ALL, 'netbox_hedgehog.view_syncrun')


def history(fabric, kind, uid):
    changes = MirrorChange.objects.filter(fabric=fabric, kind=kind, uid=uid).order_by('pk')
    return list(changes.values_list('run', 'action', 'name'))


def history_url(obj):
    return reverse(f'plugins:netbox_hedgehog:{obj._meta.model_name}_sync_history', args=[obj.pk])


def test_the_first_sync_records_every_object_as_created(synced_fabric):
    [run] = SyncRun.objects.filter(fabric=synced_fabric)
    recorded = MirrorChange.objects.filter(run=run)

    assert recorded.count() == sum(expected_counts().values())
    assert set(recorded.values_list('action', flat=True)) == {'created'}
    for info in KINDS:
        rows = set(info.model.objects.filter(fabric=synced_fabric).values_list('uid', 'name'))
        assert set(recorded.filter(kind=info.kind).values_list('uid', 'name')) == rows, info.kind


def test_a_resync_without_changes_records_nothing_and_writes_no_history(standin, synced_fabric):
    before = MirrorChange.objects.count()
    with CaptureQueriesContext(connection) as queries:
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert MirrorChange.objects.count() == before
    table = MirrorChange._meta.db_table
    assert not [q['sql'] for q in queries if table in q['sql']]


def test_an_update_and_a_deletion_are_recorded_for_those_objects_only(standin, synced_fabric):
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    vpc = VPC.objects.get(fabric=synced_fabric, name='demo-vpc-3')
    [first] = SyncRun.objects.filter(fabric=synced_fabric)
    standin.patch('switches', 'ds3000-01', spec={'description': 'moved to rack 7'})
    standin.delete('vpcs', 'demo-vpc-3')
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert sorted(MirrorChange.objects.filter(run=run).values_list('kind', 'name', 'action')) == [
        ('Switch', 'ds3000-01', 'updated'), ('VPC', 'demo-vpc-3', 'deleted'),
    ]
    assert history(synced_fabric, 'Switch', switch.uid) == [
        (first.pk, 'created', 'ds3000-01'), (run.pk, 'updated', 'ds3000-01'),
    ]
    # The row is gone; its history, keyed by uid and keeping the name, is not.
    assert not VPC.objects.filter(pk=vpc.pk).exists()
    assert history(synced_fabric, 'VPC', vpc.uid) == [
        (first.pk, 'created', 'demo-vpc-3'), (run.pk, 'deleted', 'demo-vpc-3'),
    ]


def test_a_pruned_run_takes_its_history_with_it(standin, synced_fabric):
    [first] = SyncRun.objects.filter(fabric=synced_fabric)
    other = HedgehogFabric.objects.create(name='fabric-2', kubernetes_server=standin.url,
                                          kubernetes_token=synced_fabric.kubernetes_token, sync_enabled=False)
    elsewhere = sync_fabric(other.pk, 'manual')
    assert elsewhere.outcome == SyncOutcomeChoices.SUCCESS, elsewhere.errors
    with plugin_settings(sync_run_retention=2):
        standin.patch('switches', 'ds3000-01', spec={'description': 'first change'})
        changed = sync_fabric(synced_fabric.pk, 'manual')
        latest = sync_fabric(synced_fabric.pk, 'manual')

    assert list(SyncRun.objects.filter(fabric=synced_fabric).order_by('pk')) == [changed, latest]
    assert not MirrorChange.objects.filter(run=first.pk).exists()
    assert list(MirrorChange.objects.filter(fabric=synced_fabric).values_list('run', 'name', 'action')) == [
        (changed.pk, 'ds3000-01', 'updated'),
    ]
    # Another fabric's runs and history are neither counted nor pruned.
    assert MirrorChange.objects.filter(run=elsewhere).count() == sum(expected_counts().values())


def test_deleting_a_fabric_deletes_its_runs_and_history_only(standin, synced_fabric, make_fabric):
    other = make_fabric(standin, name='fabric-2')
    assert sync_fabric(other.pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS
    kept = MirrorChange.objects.filter(fabric=other).count()
    synced_fabric.delete()

    assert not SyncRun.objects.filter(fabric_id=synced_fabric.pk).exists()
    assert not MirrorChange.objects.filter(fabric_id=synced_fabric.pk).exists()
    assert MirrorChange.objects.filter(fabric=other).count() == kept == sum(expected_counts().values())


#
# The Sync history tab
#


@pytest.mark.parametrize('kind', KIND_PARAMS)
def test_every_kind_has_a_sync_history_tab_and_no_changelog(kind, mirrored_fabric, make_user, client_for):
    viewer = client_for(make_user('history-viewer', *VIEW_HISTORY))
    obj = kind.model.objects.filter(fabric=mirrored_fabric).order_by('name').first()
    [run] = SyncRun.objects.filter(fabric=mirrored_fabric)

    detail = viewer.get(obj.get_absolute_url()).content.decode()
    assert history_url(obj) in detail and 'Sync history' in detail
    assert f'{obj.get_absolute_url()}changelog/' not in detail
    with pytest.raises(NoReverseMatch):
        reverse(f'plugins:netbox_hedgehog:{kind.url_name}_changelog', args=[obj.pk])

    response = viewer.get(history_url(obj))
    assert response.status_code == 200
    page = response.content.decode()
    assert run.get_absolute_url() in page and f'#{run.pk}' in page
    assert 'Created' in page and 'Success' in page
    assert obj.name in page  # the object's own header around the tab


def test_the_tab_lists_each_run_that_changed_the_object_newest_first(standin, synced_fabric, make_user, client_for):
    viewer = client_for(make_user('history-viewer', *VIEW_HISTORY))
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    untouched = Switch.objects.get(fabric=synced_fabric, name='ds3000-02')
    [first] = SyncRun.objects.filter(fabric=synced_fabric)
    standin.patch('switches', 'ds3000-01', spec={'description': 'moved to rack 7'})
    updated = sync_fabric(synced_fabric.pk, 'manual')
    quiet = sync_fabric(synced_fabric.pk, 'manual')

    page = viewer.get(history_url(switch)).content.decode()
    assert page.index(updated.get_absolute_url()) < page.index(first.get_absolute_url())
    assert 'Updated' in page and 'Created' in page
    assert quiet.get_absolute_url() not in page  # it changed nothing
    untouched_page = viewer.get(history_url(untouched)).content.decode()
    assert first.get_absolute_url() in untouched_page and updated.get_absolute_url() not in untouched_page


def test_the_tab_shows_only_this_fabrics_runs_for_a_shared_uid(standin, synced_fabric, make_fabric, make_user,
                                                                client_for):
    # A second fabric on the same cluster mirrors the same objects under the same uids.
    other = make_fabric(standin, name='fabric-2')
    other_run = sync_fabric(other.pk, 'manual')
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    assert Switch.objects.get(fabric=other, name='ds3000-01').uid == switch.uid

    page = client_for(make_user('history-viewer', *VIEW_HISTORY)).get(history_url(switch)).content.decode()
    assert SyncRun.objects.get(fabric=synced_fabric).get_absolute_url() in page
    assert other_run.get_absolute_url() not in page


def test_a_user_who_may_not_view_the_fabric_sees_nothing(synced_fabric, make_user, client_for):
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    without_fabric = [name for name in VIEW_HISTORY if not name.endswith('.view_hedgehogfabric')]
    client = client_for(make_user('no-fabric', *without_fabric))

    assert client.get(history_url(switch)).status_code == 404
    assert client.get(switch.get_absolute_url()).status_code == 404


def test_runs_the_user_may_not_view_are_left_out(standin, synced_fabric, make_user, client_for):
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    [manual] = SyncRun.objects.filter(fabric=synced_fabric)
    standin.patch('switches', 'ds3000-01', spec={'description': 'moved to rack 7'})
    scheduled = sync_fabric(synced_fabric.pk, 'scheduled')
    user = make_user('scheduled-only', *VIEW_ALL)
    grant(user, 'netbox_hedgehog.view_syncrun', constraints={'trigger': 'scheduled'})

    page = client_for(user).get(history_url(switch)).content.decode()
    assert scheduled.get_absolute_url() in page
    assert manual.get_absolute_url() not in page


def test_without_view_on_runs_the_tab_is_hidden_and_forbidden(synced_fabric, make_user, client_for):
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    client = client_for(make_user('no-runs', *VIEW_ALL))

    assert history_url(switch) not in client.get(switch.get_absolute_url()).content.decode()
    assert client.get(history_url(switch)).status_code == 403
