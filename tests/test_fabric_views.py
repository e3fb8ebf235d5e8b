import pytest
from core.models import ObjectChange
from django.test import Client

from netbox_hedgehog.crypto import unseal
from netbox_hedgehog.models import HedgehogFabric

from .test_fabric_model import KUBECONFIG

TOKEN = 'tok-ui-9c1e-never-show-this'
BASE = '/plugins/hedgehog/fabrics/'
ALL = (
    'netbox_hedgehog.view_hedgehogfabric',
    'netbox_hedgehog.add_hedgehogfabric',
    'netbox_hedgehog.change_hedgehogfabric',
    'netbox_hedgehog.delete_hedgehogfabric',
)


@pytest.fixture
def operator(make_user, client_for):
    return client_for(make_user('operator', *ALL))


@pytest.fixture
def stored(db):
    return HedgehogFabric.objects.create(
        name='lab-fabric',
        description='the lab',
        kubernetes_server='https://10.0.0.9:6443',
        kubernetes_token=TOKEN,
        sync_interval=90,
        sync_error='vpcs: 403 forbidden',
    )


def form_data(**overrides):
    data = {
        'name': 'ui-fabric',
        'kubernetes_server': 'https://10.2.0.1:6443',
        'kubernetes_token': TOKEN,
        'kubernetes_namespace': 'default',
        'sync_enabled': 'on',
        'sync_interval': '60',
        'inventory_orphans': 'delete',
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
class TestPages:
    @pytest.mark.parametrize(
        'path', ['', '?sync_status=never_synced', '?sync_enabled=true', '?q=lab', 'add/', '{pk}/', '{pk}/edit/',
                 '{pk}/delete/', '{pk}/changelog/', '{pk}/journal/', 'edit/', 'delete/']
    )
    def test_page_renders_without_secret(self, operator, stored, path):
        url = BASE + path.format(pk=stored.pk)
        response = operator.post(url, {'pk': [stored.pk]}) if path in ('edit/', 'delete/') else operator.get(url)
        assert response.status_code == 200, url
        assert TOKEN not in response.content.decode()

    def test_list_shows_fields(self, operator, stored):
        html = operator.get(BASE).content.decode()
        for text in ('lab-fabric', 'https://10.0.0.9:6443', '1 min 30 s', 'Never synced', 'vpcs: 403 forbidden'):
            assert text in html

    def test_detail_shows_fields(self, operator, stored):
        html = operator.get(f'{BASE}{stored.pk}/').content.decode()
        for text in ('lab-fabric', 'the lab', 'https://10.0.0.9:6443', '1 min 30 s', 'Never synced', 'set',
                     'not set', 'vpcs: 403 forbidden', 'verified against the system CAs'):
            assert text in html

    def test_status_filter(self, operator, stored):
        html = operator.get(f'{BASE}?sync_status=in_sync').content.decode()
        assert 'lab-fabric' not in html

    def test_global_search_finds_fabric(self, operator, stored):
        assert 'lab-fabric' in operator.get('/search/?q=lab-fabric').content.decode()

    def test_menu_entry(self, operator, stored):
        assert '/plugins/hedgehog/fabrics/' in operator.get('/').content.decode()


@pytest.mark.django_db
class TestForm:
    def test_create(self, operator):
        response = operator.post(f'{BASE}add/', form_data())
        assert response.status_code == 302, response.content.decode()[:2000]
        fabric = HedgehogFabric.objects.get(name='ui-fabric')
        assert unseal(fabric.kubernetes_token) == TOKEN
        assert fabric.sync_interval == 60

    def test_change_log_pages_never_show_token(self, make_user, client_for):
        client = client_for(make_user('auditor', *ALL, 'core.view_objectchange'))
        assert client.post(f'{BASE}add/', form_data()).status_code == 302
        fabric = HedgehogFabric.objects.get(name='ui-fabric')
        response = client.post(
            f'{BASE}{fabric.pk}/edit/', form_data(kubernetes_token='second-secret-token', description='rotated')
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        fabric.refresh_from_db()
        assert (unseal(fabric.kubernetes_token), fabric.description) == ('second-secret-token', 'rotated')
        actions = ObjectChange.objects.filter(changed_object_id=fabric.pk).values_list('action', flat=True)
        assert sorted(actions) == ['create', 'update']
        for url in (f'{BASE}{fabric.pk}/changelog/', '/core/changelog/'):
            html = client.get(url).content.decode()
            assert 'ui-fabric' in html
            assert TOKEN not in html
            assert 'second-secret-token' not in html

    def test_edit_with_empty_token_keeps_it(self, operator, stored):
        response = operator.post(
            f'{BASE}{stored.pk}/edit/',
            form_data(name='lab-fabric', kubernetes_server=stored.kubernetes_server, kubernetes_token='',
                      sync_interval='30'),
        )
        assert response.status_code == 302
        stored.refresh_from_db()
        assert unseal(stored.kubernetes_token) == TOKEN
        assert stored.sync_interval == 30

    def test_clear_token_explicitly(self, operator, stored):
        response = operator.post(
            f'{BASE}{stored.pk}/edit/', form_data(name='lab-fabric', kubernetes_token='', clear_kubernetes_token='on')
        )
        assert response.status_code == 302
        stored.refresh_from_db()
        assert stored.kubernetes_token == ''

    def test_edit_form_never_renders_token(self, operator, stored):
        html = operator.get(f'{BASE}{stored.pk}/edit/').content.decode()
        assert TOKEN not in html
        assert '(set; leave empty to keep)' in html

    def test_clear_boxes_only_for_what_is_stored(self, operator, stored):
        html = operator.get(f'{BASE}{stored.pk}/edit/').content.decode()
        assert 'Clear the stored token' in html and 'name="clear_kubernetes_token"' in html
        assert 'Clear the stored kubeconfig' not in html and 'clear_kubeconfig' not in html
        html = operator.get(f'{BASE}add/').content.decode()
        assert 'Clear the stored' not in html and 'name="clear_' not in html

    def test_kubeconfig_fabric(self, operator):
        response = operator.post(f'{BASE}add/', form_data(kubernetes_server='', kubernetes_token='',
                                                          kubeconfig=KUBECONFIG))
        assert response.status_code == 302
        fabric = HedgehogFabric.objects.get(name='ui-fabric')
        html = operator.get(fabric.get_absolute_url()).content.decode()
        assert 'kubeconfig-secret-token' not in html
        assert 'from kubeconfig' in html

    @pytest.mark.parametrize(
        ('overrides', 'message'),
        [
            ({'sync_interval': '0'}, 'at least 5 seconds'),
            ({'sync_interval': '-1'}, 'at least 5 seconds'),
            ({'sync_interval': '604801'}, 'at most 604800 seconds'),
            ({'sync_interval': 'abc'}, 'Enter a whole number'),
            ({'kubernetes_server': 'not a url'}, 'https://host[:port][/path]'),
            ({'kubernetes_ca_cert': 'garbage'}, 'not a valid PEM certificate'),
            ({'kubernetes_server': '', 'kubeconfig': 'a: [b'}, 'not valid YAML'),
            ({'kubernetes_server': '', 'kubeconfig': 'clusters: []'}, 'exactly one cluster'),
            ({'name': 'lab-fabric'}, 'already exists'),
        ],
    )
    def test_bad_input_gets_form_errors(self, operator, stored, overrides, message):
        response = operator.post(f'{BASE}add/', form_data(**overrides))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert HedgehogFabric.objects.count() == 1

    def test_bad_edit_changes_nothing(self, operator, stored):
        response = operator.post(f'{BASE}{stored.pk}/edit/', form_data(name='lab-fabric', sync_interval='1'))
        assert response.status_code == 200
        stored.refresh_from_db()
        assert stored.sync_interval == 90

    def test_bulk_edit_interval(self, operator, stored):
        response = operator.post(
            f'{BASE}edit/', {'pk': [stored.pk], '_apply': '1', 'sync_interval': '45', 'sync_enabled': 'false'}
        )
        assert response.status_code == 302
        stored.refresh_from_db()
        assert (stored.sync_interval, stored.sync_enabled) == (45, False)

    def test_bulk_edit_rejects_bad_interval(self, operator, stored):
        response = operator.post(f'{BASE}edit/', {'pk': [stored.pk], '_apply': '1', 'sync_interval': '3'})
        assert response.status_code == 200
        stored.refresh_from_db()
        assert stored.sync_interval == 90

    def test_bulk_delete(self, operator, stored):
        response = operator.post(f'{BASE}delete/', {'pk': [stored.pk], '_confirm': '1', 'confirm': 'true'})
        assert response.status_code == 302
        assert not HedgehogFabric.objects.exists()


@pytest.mark.django_db
class TestPermissions:
    def test_no_view_permission(self, make_user, stored, client_for):
        client = client_for(make_user('nobody'))
        assert client.get(BASE).status_code == 403
        assert client.get(f'{BASE}{stored.pk}/').status_code == 403

    def test_view_only_cannot_change(self, make_user, stored, client_for):
        client = client_for(make_user('viewer', 'netbox_hedgehog.view_hedgehogfabric'))
        assert client.get(f'{BASE}{stored.pk}/').status_code == 200
        assert client.get(f'{BASE}{stored.pk}/edit/').status_code == 403
        assert client.post(f'{BASE}{stored.pk}/edit/', form_data(name='renamed')).status_code == 403
        assert client.post(f'{BASE}{stored.pk}/delete/', {'confirm': 'true'}).status_code == 403
        stored.refresh_from_db()
        assert stored.name == 'lab-fabric'

    def test_anonymous_is_sent_to_login(self, stored):
        response = Client().get(BASE)
        assert response.status_code == 302
        assert '/login/' in response['Location']
