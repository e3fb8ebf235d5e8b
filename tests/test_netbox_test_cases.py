"""
NetBox's own generic test cases (utilities.testing) for the fabric and for every mirrored kind: the same broad
checks of permissions, object constraints, exports, change logging and brief API output that NetBox runs on its
own models. Mirrored kinds are read-only, so they get only the read test cases; that their write routes do not
exist is tested in test_mirror_pages and test_mirror_api, and their Sync history tab (in place of the Changelog
tab) in test_sync_history.

These are Django TestCases (pytest-django runs each in a transaction, like NetBox's test runner).
Query counts of the list views are kept in netbox_hedgehog/tests/query_counts.json, where NetBox looks for an
app's baselines; rerun with UPDATE_QUERY_COUNTS=1 to record a deliberate change.
"""

from utilities.testing import APIViewTestCases, ViewTestCases

from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import HedgehogFabric

from .conftest import grant

API_NAMESPACE = 'plugins-api:netbox_hedgehog'
FABRIC_BRIEF_FIELDS = ['description', 'display', 'id', 'name', 'sync_status', 'url']
MIRROR_BRIEF_FIELDS = ['display', 'id', 'name', 'namespace', 'url']


class PluginViewURLs:
    """NetBox's UI test cases name views `<app>:<model>_<action>`; a plugin's live under `plugins:`."""

    def _get_base_url(self):
        return f'plugins:{self.model._meta.app_label}:{self.model._meta.model_name}_{{}}'


def make_fabrics(count=3):
    return [
        HedgehogFabric.objects.create(
            name=f'fabric-{n}', kubernetes_server=f'https://10.9.0.{n}:6443', kubernetes_token=f'token-{n}',
            sync_enabled=False,
        )
        for n in range(1, count + 1)
    ]


class HedgehogFabricViewTestCase(
    PluginViewURLs,
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    """Every UI view of the fabric but bulk import, which the fabric does not offer (credentials are typed in)."""

    model = HedgehogFabric
    # Secrets are write-only: the stored token is never shown, so it cannot be compared with what was typed.
    validation_excluded_fields = ['kubernetes_token']

    @classmethod
    def setUpTestData(cls):
        make_fabrics()
        cls.form_data = {
            'name': 'fabric-new',
            'description': 'made by a view test',
            'kubernetes_server': 'https://10.9.1.1:6443',
            'kubernetes_token': 'token-new',
            'kubernetes_namespace': 'default',
            'sync_enabled': False,
            'sync_interval': 120,
            'inventory_orphans': 'delete',
        }
        cls.bulk_edit_data = {'sync_interval': 900, 'description': 'edited in bulk'}


class HedgehogFabricAPITestCase(APIViewTestCases.APIViewTestCase):
    model = HedgehogFabric
    view_namespace = API_NAMESPACE
    brief_fields = FABRIC_BRIEF_FIELDS
    graphql_base_name = 'hedgehog_fabric'
    create_data = [
        {'name': f'api-fabric-{n}', 'kubernetes_server': f'https://10.9.2.{n}:6443', 'kubernetes_token': f't-{n}',
         'sync_enabled': False}
        for n in range(1, 4)
    ]
    bulk_update_data = {'description': 'updated in bulk', 'sync_interval': 600}
    bulk_update_invalid_data = {'sync_interval': 1}  # below the 5 s minimum
    # Write-only: the API answers kubernetes_token_set instead.
    validation_excluded_fields = ['kubernetes_token']

    @classmethod
    def setUpTestData(cls):
        make_fabrics()


def _mirror_objects(model):
    fabric = HedgehogFabric.objects.create(name='mirror-fabric', sync_enabled=False)
    for n in range(1, 4):
        model.objects.create(fabric=fabric, name=f'object-{n}', namespace='default', uid=f'uid-{n}',
                             resource_version=str(n))


class FabricViewer:
    """
    Mirrored objects are visible only to users who may view their fabric (docs/security.md); NetBox's test cases
    grant permissions on the model under test alone, so the test user also gets view on every fabric.
    """

    def setUp(self):
        super().setUp()
        grant(self.user, 'netbox_hedgehog.view_hedgehogfabric')


def _read_only_cases():
    """One UI and one REST test case per mirrored kind, named after its model, in this module's namespace."""
    cases = {}
    for info in KINDS:
        setup = classmethod(lambda cls: _mirror_objects(cls.model))
        name = info.model.__name__
        cases[f'{name}ViewTestCase'] = type(f'{name}ViewTestCase', (
            FabricViewer,
            PluginViewURLs,
            ViewTestCases.GetObjectViewTestCase,
            ViewTestCases.ListObjectsViewTestCase,
        ), {'model': info.model, 'setUpTestData': setup, '__module__': __name__})
        cases[f'{name}APITestCase'] = type(f'{name}APITestCase', (
            FabricViewer,
            APIViewTestCases.GetObjectViewTestCase,
            APIViewTestCases.ListObjectsViewTestCase,
        ), {'model': info.model, 'setUpTestData': setup, 'view_namespace': API_NAMESPACE,
            'brief_fields': MIRROR_BRIEF_FIELDS, '__module__': __name__})
    return cases


globals().update(_read_only_cases())
