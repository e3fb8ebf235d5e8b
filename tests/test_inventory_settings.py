"""The fabric's inventory settings through the edit form, the REST API and CSV import: validated, 400 not 500."""

import re

import pytest
from dcim.models import Site
from tenancy.models import Tenant

from netbox_hedgehog.forms import HedgehogFabricForm
from netbox_hedgehog.models import HedgehogFabric

API = '/api/plugins/hedgehog/fabrics/'
UI = '/plugins/hedgehog/fabrics/'
SITE_REQUIRED = 'A site is required to sync the inventory.'
EDIT = (
    'netbox_hedgehog.view_hedgehogfabric',
    'netbox_hedgehog.add_hedgehogfabric',
    'netbox_hedgehog.change_hedgehogfabric',
    'dcim.view_site',
    'tenancy.view_tenant',
)


@pytest.fixture
def editor(make_user):
    return make_user('fabric-editor', *EDIT)


@pytest.fixture
def site(db):
    return Site.objects.create(name='DC 2', slug='dc-2')


def form_data(**fields):
    return {'name': 'form-fabric', 'sync_interval': 300, 'kubernetes_namespace': 'default',
            'inventory_orphans': 'delete', **fields}


def test_form_requires_a_site_when_the_inventory_is_on(db, site):
    form = HedgehogFabricForm(data=form_data(inventory_sync=True))
    assert not form.is_valid()
    assert form.errors['inventory_site'] == [SITE_REQUIRED]
    form = HedgehogFabricForm(data=form_data(inventory_sync=True, inventory_site=site.pk))
    assert form.is_valid(), form.errors
    fabric = form.save()
    assert fabric.inventory_site == site and fabric.inventory_orphans == 'delete'


def test_form_refuses_an_unknown_orphan_policy(db):
    form = HedgehogFabricForm(data=form_data(inventory_orphans='shred'))
    assert not form.is_valid() and 'inventory_orphans' in form.errors


def test_rest_validates_the_inventory_settings(editor, api_client_for, site):
    api = api_client_for(editor)
    response = api.post(API, {'name': 'rest-fabric', 'inventory_sync': True}, format='json')
    assert response.status_code == 400, response.content
    assert response.json()['inventory_site'] == [SITE_REQUIRED]
    response = api.post(API, {'name': 'rest-fabric', 'inventory_sync': True, 'inventory_orphans': 'shred'},
                        format='json')
    assert response.status_code == 400 and 'inventory_orphans' in response.json()
    response = api.post(API, {'name': 'rest-fabric', 'inventory_site': 999999}, format='json')
    assert response.status_code == 400 and 'inventory_site' in response.json()
    tenant = Tenant.objects.create(name='Tenant A', slug='tenant-a')
    response = api.post(API, {
        'name': 'rest-fabric', 'inventory_sync': True, 'inventory_site': site.pk, 'inventory_tenant': tenant.pk,
        'inventory_orphans': 'mark', 'inventory_adopt_existing': True,
    }, format='json')
    assert response.status_code == 201, response.content
    body = response.json()
    assert body['inventory_site']['id'] == site.pk and body['inventory_tenant']['id'] == tenant.pk
    assert body['inventory_orphans']['value'] == 'mark' and body['inventory_adopt_existing'] is True
    response = api.patch(f'{API}{body["id"]}/', {'inventory_site': None}, format='json')
    assert response.status_code == 400 and response.json()['inventory_site'] == [SITE_REQUIRED]


def test_csv_import_validates_the_inventory_settings(editor, client_for, site):
    ui = client_for(editor)
    data = 'name,sync_interval,kubernetes_namespace,inventory_sync\ncsv-fabric,300,default,true\n'
    response = ui.post(f'{UI}import/', {'data': data, 'format': 'csv', 'csv_delimiter': ','})
    assert response.status_code == 200
    assert SITE_REQUIRED in response.content.decode()
    assert not HedgehogFabric.objects.filter(name='csv-fabric').exists()
    data = (
        'name,sync_interval,kubernetes_namespace,inventory_sync,inventory_site,inventory_orphans\n'
        'csv-fabric,300,default,true,DC 2,mark\n'
    )
    response = ui.post(f'{UI}import/', {'data': data, 'format': 'csv', 'csv_delimiter': ','})
    assert response.status_code == 302, re.findall(r'(?s)toast-body.{0,300}', response.content.decode())
    fabric = HedgehogFabric.objects.get(name='csv-fabric')
    assert (fabric.inventory_sync, fabric.inventory_site, fabric.inventory_orphans) == (True, site, 'mark')
