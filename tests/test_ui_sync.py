"""Fabric sync state, Sync now, run pages, scheduler page and banner, as a browser user sees them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from netbox_hedgehog.models import HedgehogFabric, SchedulerHeartbeat, SyncRun

from .conftest import FABRIC_TOKEN, VIEW_SYNC, grant

FABRICS = '/plugins/hedgehog/fabrics/'
RUNS = '/plugins/hedgehog/sync-runs/'
SCHEDULER = '/plugins/hedgehog/scheduler/'


@pytest.fixture
def run(fabric):
    started = timezone.now() - timedelta(minutes=3)
    return SyncRun.objects.create(
        fabric=fabric,
        trigger='manual',
        outcome='partial',
        started=started,
        finished=started + timedelta(seconds=2),
        duration=2.0,
        counts={'Switch': {'created': 3, 'updated': 1, 'deleted': 0, 'unchanged': 5}},
        changes={'Switch': {'created': ['leaf-01', 'leaf-02', 'spine-01'], 'updated': ['leaf-03'], 'deleted': []}},
        not_installed=['External'],
        errors=[{'kind': 'VPC', 'name': '', 'message': 'listing VPC is forbidden (403)'}],
    )


@pytest.fixture
def viewer(make_user, client_for):
    return client_for(make_user('viewer', *VIEW_SYNC))


@pytest.fixture
def syncer(make_user, client_for):
    return client_for(make_user('syncer', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))


@pytest.fixture
def changer(make_user, client_for):
    return client_for(make_user('changer', *VIEW_SYNC, 'netbox_hedgehog.change_hedgehogfabric'))


@pytest.mark.django_db
class TestFabricPage:
    def test_detail_shows_sync_state_and_runs(self, viewer, fabric, run):
        html = viewer.get(f'{FABRICS}{fabric.pk}/').content.decode()
        for text in ('id="sync-card"', 'Never synced', '1 min', 'Run history', 'Partial', 'Manual',
                     '3 created, 1 updated', 'listing VPC is forbidden', f'{RUNS}{run.pk}/', 'hx-trigger="every 5s"',
                     'Next run', 'scheduler never ran'):
            assert text in html, text
        assert FABRIC_TOKEN not in html

    def test_live_partial(self, viewer, fabric, run):
        response = viewer.get(f'{FABRICS}{fabric.pk}/live/', HTTP_HX_REQUEST='true')
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="sync-card"' in html
        assert '<html' not in html
        assert 'Partial' in html

    def test_relative_times(self, viewer, fabric):
        HedgehogFabric.objects.filter(pk=fabric.pk).update(
            sync_status='in_sync', last_sync=timezone.now() - timedelta(seconds=130),
            last_successful_sync=timezone.now() - timedelta(seconds=130),
        )
        html = viewer.get(f'{FABRICS}{fabric.pk}/live/').content.decode()
        assert 'In sync' in html
        assert '2 min 10 s ago' in html or '2 min 11 s ago' in html

    def test_view_only_user_sees_no_action_buttons(self, viewer, fabric):
        html = viewer.get(f'{FABRICS}{fabric.pk}/').content.decode()
        assert 'sync-now-button' not in html

    @pytest.mark.parametrize('user', ['syncer', 'changer'])
    def test_permitted_user_sees_action_buttons(self, request, fabric, user):
        html = request.getfixturevalue(user).get(f'{FABRICS}{fabric.pk}/').content.decode()
        assert 'sync-now-button' in html
        assert 'csrfmiddlewaretoken' in html

    def test_live_partial_needs_view_permission(self, make_user, fabric, client_for):
        client = client_for(make_user('nobody'))
        assert client.get(f'{FABRICS}{fabric.pk}/live/').status_code == 403


@pytest.mark.django_db
class TestSyncNow:
    @pytest.mark.parametrize('user', ['syncer', 'changer'])
    def test_queues_a_notice(self, request, fabric, leader, user, sync_notices):
        response = request.getfixturevalue(user).post(f'{FABRICS}{fabric.pk}/sync/', follow=True)
        assert response.status_code == 200
        assert sync_notices(fabric).count() == 1
        assert 'queued; the scheduler will start it within a few seconds' in response.content.decode()

    def test_warns_without_scheduler(self, syncer, fabric, sync_notices):
        response = syncer.post(f'{FABRICS}{fabric.pk}/sync/', follow=True)
        assert sync_notices(fabric).count() == 1
        html = response.content.decode()
        assert 'it will not run until' in html
        assert 'netbox hedgehog_scheduler' in html

    def test_stale_leader_counts_as_stopped(self, syncer, fabric, leader):
        SchedulerHeartbeat.objects.update(last_beat=timezone.now() - timedelta(minutes=5))
        html = syncer.post(f'{FABRICS}{fabric.pk}/sync/', follow=True).content.decode()
        assert 'it will not run until' in html

    def test_view_only_user_gets_403(self, viewer, fabric, leader, sync_notices):
        assert viewer.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()

    def test_object_constraint_limits_which_fabric(self, make_user, fabric, leader, client_for, sync_notices):
        other = HedgehogFabric.objects.create(name='other', kubernetes_server='https://10.0.0.8:6443')
        user = make_user('scoped', *VIEW_SYNC)
        grant(user, 'netbox_hedgehog.sync_hedgehogfabric', constraints={'name': 'other'})
        client = client_for(user)
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert client.post(f'{FABRICS}{other.pk}/sync/').status_code == 302
        assert not sync_notices(fabric).exists()
        assert sync_notices(other).count() == 1

    def test_get_does_not_queue(self, syncer, fabric, sync_notices):
        response = syncer.get(f'{FABRICS}{fabric.pk}/sync/')
        assert response.status_code == 302
        assert not sync_notices(fabric).exists()

    def test_csrf_is_enforced(self, make_user, fabric, sync_notices):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user('csrf', *VIEW_SYNC, 'netbox_hedgehog.sync_hedgehogfabric'))
        assert client.post(f'{FABRICS}{fabric.pk}/sync/').status_code == 403
        assert not sync_notices(fabric).exists()

    def test_fabric_without_connection_is_refused(self, syncer, sync_notices):
        bare = HedgehogFabric.objects.create(name='bare')
        html = syncer.post(f'{FABRICS}{bare.pk}/sync/', follow=True).content.decode()
        assert 'has no Kubernetes connection' in html
        assert not sync_notices(bare).exists()

    def test_anonymous_is_sent_to_login(self, fabric, sync_notices):
        response = Client().post(f'{FABRICS}{fabric.pk}/sync/')
        assert response.status_code == 302
        assert '/login/' in response['Location']
        assert not sync_notices(fabric).exists()


@pytest.mark.django_db
class TestRunPages:
    def test_list(self, viewer, run):
        html = viewer.get(RUNS).content.decode()
        for text in ('live-fabric', 'Manual', 'Partial', '2.0 s', '3 created, 1 updated', 'listing VPC is forbidden'):
            assert text in html, text
        assert f'{RUNS}add/' not in html

    @pytest.mark.parametrize('query', ['?fabric_id={fabric}', '?outcome=partial', '?trigger=manual', '?q=forbidden'])
    def test_filters_keep_the_run(self, viewer, run, query):
        html = viewer.get(RUNS + query.format(fabric=run.fabric_id)).content.decode()
        assert f'{RUNS}{run.pk}/' in html

    @pytest.mark.parametrize('query', ['?outcome=success', '?trigger=scheduled', '?q=nothing-like-this'])
    def test_filters_drop_the_run(self, viewer, run, query):
        assert f'{RUNS}{run.pk}/' not in viewer.get(RUNS + query).content.decode()

    def test_detail_lists_changes_kind_by_kind(self, viewer, run):
        html = viewer.get(f'{RUNS}{run.pk}/').content.decode()
        for text in ('Changes by kind', 'Switch', 'leaf-01, leaf-02, spine-01', 'leaf-03', 'External',
                     'listing VPC is forbidden (403)', 'live-fabric'):
            assert text in html, text
        assert f'{RUNS}{run.pk}/delete/' not in html
        assert f'{RUNS}{run.pk}/edit/' not in html

    def test_no_write_routes(self, viewer, run):
        for path in ('add/', f'{run.pk}/edit/', f'{run.pk}/delete/', 'import/'):
            assert viewer.get(RUNS + path).status_code == 404, path

    def test_permissions(self, make_user, run, client_for):
        nobody = client_for(make_user('nobody'))
        assert nobody.get(RUNS).status_code == 403
        assert nobody.get(f'{RUNS}{run.pk}/').status_code == 403
        scoped = client_for(make_user('scoped', 'netbox_hedgehog.view_syncrun', constraints={'fabric__name': 'other'}))
        assert scoped.get(f'{RUNS}{run.pk}/').status_code == 404
        assert f'{RUNS}{run.pk}/' not in scoped.get(RUNS).content.decode()


@pytest.mark.django_db
class TestScheduler:
    def test_page_with_leader(self, viewer, fabric, leader, run):
        html = viewer.get(SCHEDULER).content.decode()
        for text in ('sched-host', '4242', 'Up since', 'Standbys', 'Recent runs', 'live-fabric'):
            assert text in html, text
        assert 'hedgehog-scheduler-banner' not in html

    def test_page_without_scheduler(self, viewer, fabric):
        html = viewer.get(SCHEDULER).content.decode()
        assert 'hedgehog-scheduler-banner' in html
        assert 'no scheduler has ever reported a heartbeat' in html

    def test_needs_permission(self, make_user, client_for):
        client = client_for(make_user('fabric-only', 'netbox_hedgehog.view_hedgehogfabric'))
        assert client.get(SCHEDULER).status_code == 403


@pytest.mark.django_db
class TestBanner:
    @pytest.mark.parametrize('path', [FABRICS, '{fabric}', RUNS, '{run}'])
    def test_shown_on_plugin_pages_when_leader_is_stale(self, viewer, fabric, run, leader, path):
        SchedulerHeartbeat.objects.update(last_beat=timezone.now() - timedelta(minutes=10))
        url = path.format(fabric=fabric.get_absolute_url(), run=run.get_absolute_url())
        html = viewer.get(url).content.decode()
        assert 'The Hedgehog scheduler is not running, so periodic sync has been stopped since' in html
        assert 'netbox hedgehog_scheduler' in html

    @pytest.mark.parametrize('path', [FABRICS, '{fabric}', RUNS])
    def test_hidden_while_leader_beats(self, viewer, fabric, leader, path):
        html = viewer.get(path.format(fabric=fabric.get_absolute_url())).content.decode()
        assert 'hedgehog-scheduler-banner' not in html

    def test_never_started(self, viewer, fabric):
        html = viewer.get(fabric.get_absolute_url()).content.decode()
        assert 'it has never been started' in html

    def test_standby_alone_is_not_enough(self, viewer, fabric, leader):
        SchedulerHeartbeat.objects.update(role='standby')
        assert 'hedgehog-scheduler-banner' in viewer.get(FABRICS).content.decode()

    def test_not_on_core_pages(self, viewer, fabric):
        assert 'hedgehog-scheduler-banner' not in viewer.get('/').content.decode()


@pytest.mark.django_db
class TestDashboardWidget:
    def render(self, user):
        from django.test import RequestFactory

        from netbox_hedgehog.widgets import FabricSyncWidget

        request = RequestFactory().get('/')
        request.user = user
        return FabricSyncWidget().render(request)

    def test_registered(self):
        from netbox.registry import registry

        assert 'netbox_hedgehog.FabricSyncWidget' in registry['widgets']

    def test_on_the_development_dashboard_without_the_news_feed(self, make_user, fabric):
        client = Client()
        client.force_login(make_user('viewer', *VIEW_SYNC))
        html = client.get('/').content.decode()
        assert 'Hedgehog fabrics' in html and 'live-fabric' in html
        assert 'NetBox News' not in html

    def test_lists_fabrics_with_errors_first(self, make_user, fabric):
        HedgehogFabric.objects.create(name='zz-broken', sync_status='error')
        html = self.render(make_user('viewer', *VIEW_SYNC))
        assert html.index('zz-broken') < html.index('live-fabric')
        assert 'Never synced' in html and 'Error' in html
        assert 'The Hedgehog scheduler is not running' in html

    def test_scheduler_running(self, make_user, fabric, leader):
        assert 'hedgehog-widget-scheduler-down' not in self.render(make_user('viewer', *VIEW_SYNC))

    def test_without_permission(self, make_user, fabric):
        html = self.render(make_user('nobody'))
        assert 'live-fabric' not in html
        assert 'No permission' in html
