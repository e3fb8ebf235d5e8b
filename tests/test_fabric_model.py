import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from netbox_hedgehog.choices import SchedulerNoticeActionChoices, SyncStatusChoices
from netbox_hedgehog.models import HedgehogFabric, SchedulerNotice
from netbox_hedgehog.validators import parse_kubeconfig

from .certs import ca_certificate_pem

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://10.0.0.1:6443
users:
- name: netbox
  user:
    token: kubeconfig-secret-token
contexts:
- name: lab
  context: {cluster: lab, user: netbox}
current-context: lab
"""


def fabric(**fields):
    values = {'name': 'fab-1', 'kubernetes_server': 'https://10.0.0.1:6443', 'kubernetes_token': 'secret'}
    values.update(fields)
    return HedgehogFabric(**values)


def errors_of(instance):
    with pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    return excinfo.value.message_dict


@pytest.mark.django_db
class TestFabricValidation:
    def test_defaults(self):
        instance = fabric()
        instance.full_clean()
        assert instance.sync_enabled is True
        assert instance.sync_interval == 300
        assert instance.kubernetes_namespace == 'default'
        assert instance.kubernetes_skip_tls_verify is False
        assert instance.sync_status == SyncStatusChoices.NEVER_SYNCED

    @pytest.mark.parametrize('interval', [0, -1, 4, 604801])
    def test_interval_out_of_range(self, interval):
        assert 'sync_interval' in errors_of(fabric(sync_interval=interval))

    @pytest.mark.parametrize('interval', [5, 60, 604800])
    def test_interval_bounds_accepted(self, interval):
        fabric(sync_interval=interval).full_clean()

    def test_interval_message_is_clear(self):
        assert errors_of(fabric(sync_interval=1))['sync_interval'] == [
            'The sync interval must be at least 5 seconds.'
        ]

    @pytest.mark.parametrize('url', ['not a url', 'ftp://10.0.0.1', '10.0.0.1:6443', 'https://'])
    def test_server_must_be_http_url(self, url):
        assert 'kubernetes_server' in errors_of(fabric(kubernetes_server=url))

    def test_garbage_ca_rejected(self):
        messages = errors_of(fabric(kubernetes_ca_cert='-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----'))
        assert 'not a valid PEM certificate' in messages['kubernetes_ca_cert'][0]

    def test_real_ca_accepted(self):
        fabric(kubernetes_ca_cert=ca_certificate_pem()).full_clean()

    def test_namespace_must_be_a_label(self):
        assert 'kubernetes_namespace' in errors_of(fabric(kubernetes_namespace='Not_Valid'))

    def test_duplicate_name(self):
        fabric().save()
        assert 'name' in errors_of(fabric())

    def test_server_and_kubeconfig_are_exclusive(self):
        assert 'kubeconfig' in errors_of(fabric(kubeconfig=KUBECONFIG))

    def test_has_connection(self):
        assert fabric().has_connection
        assert fabric(kubernetes_server='', kubeconfig=KUBECONFIG).has_connection
        assert not fabric(kubernetes_server='').has_connection
        assert not fabric(sync_enabled=False).is_schedulable


class TestKubeconfig:
    def test_valid(self):
        parsed = parse_kubeconfig(KUBECONFIG)
        assert parsed.server == 'https://10.0.0.1:6443'
        assert parsed.context == 'lab'
        assert parsed.token == 'kubeconfig-secret-token'

    @pytest.mark.parametrize(
        ('text', 'message'),
        [
            ('clusters: [unclosed', 'not valid YAML'),
            ('just a string', 'must be a YAML mapping'),
            ('users: []\ncontexts: []', 'exactly one cluster (found 0)'),
            (KUBECONFIG.replace('current-context: lab', 'current-context: other'), '"other" is not defined'),
            (KUBECONFIG.replace('server: https://10.0.0.1:6443', 'server: nope'), 'https://host[:port][/path]'),
            (KUBECONFIG.replace('context: {cluster: lab, user: netbox}', 'context: {cluster: x, user: netbox}'),
             'must refer to cluster "lab"'),
        ],
    )
    def test_invalid(self, text, message):
        with pytest.raises(ValidationError) as excinfo:
            parse_kubeconfig(text)
        assert message in excinfo.value.messages[0]


@pytest.mark.django_db(transaction=True)
class TestSchedulerNotices:
    """Every committed fabric change leaves exactly one notice; a rolled-back one leaves none."""

    def test_create_update_delete_leave_notices(self):
        instance = fabric()
        instance.save()
        instance.sync_interval = 60
        instance.save()
        pk = instance.pk
        instance.delete()
        assert list(SchedulerNotice.objects.filter(fabric_id=pk).values_list('action', flat=True)) == [
            SchedulerNoticeActionChoices.FABRIC_CHANGED,
            SchedulerNoticeActionChoices.FABRIC_CHANGED,
            SchedulerNoticeActionChoices.FABRIC_DELETED,
        ]

    def test_rolled_back_change_leaves_no_notice(self):
        class Abort(Exception):
            pass

        with pytest.raises(Abort), transaction.atomic():
            fabric().save()
            raise Abort
        assert not HedgehogFabric.objects.exists()
        assert not SchedulerNotice.objects.exists()


@pytest.mark.django_db
def test_saving_a_stale_instance_keeps_the_sync_state():
    """A user's edit of an instance loaded before a sync finished must not undo what the sync recorded."""
    from django.utils import timezone

    stored = fabric()
    stored.save()
    stale = HedgehogFabric.objects.get(pk=stored.pk)
    synced_at = timezone.now()
    HedgehogFabric.objects.filter(pk=stored.pk).update(
        sync_status=SyncStatusChoices.IN_SYNC, last_sync=synced_at, last_successful_sync=synced_at
    )
    stale.sync_interval = 60
    stale.save()
    stored.refresh_from_db()
    assert stored.sync_interval == 60
    assert stored.sync_status == SyncStatusChoices.IN_SYNC
    assert stored.last_sync == synced_at
    assert stale.sync_status == SyncStatusChoices.IN_SYNC, 'the saved instance shows the current state'
