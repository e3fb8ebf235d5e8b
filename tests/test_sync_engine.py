"""The sync engine against the Kubernetes API stand-in: counts, relations, no-op resyncs, changes, faults."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from k8s_standin.agents import FAKE_PASSWORD_HASH, FAKE_SSH_KEY
from k8s_standin.server import StandinServer
from k8s_standin.synthetic import FabricSize, generate
from netbox_hedgehog.choices import SyncOutcomeChoices, SyncStatusChoices
from netbox_hedgehog.kinds import KINDS
from netbox_hedgehog.models import VPC, Agent, Connection, HedgehogFabric, Switch, SyncRun, VPCAttachment
from netbox_hedgehog.sync import SyncAlreadyRunning, is_sync_running, sync_fabric

from .sync_fixtures import (
    AGENT_PASSWORD_HASH,
    REGISTRY_PASSWORD,
    REGISTRY_USERNAME,
    TOKEN,
    expected_counts,
    mirror_counts,
    mirror_row_versions,
    mirror_tables_text,
    plugin_settings,
)


def test_every_sample_syncs_with_the_counts_of_the_yaml(standin, make_fabric):
    fabric = make_fabric(standin)
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert run.errors == [] and run.not_installed == []
    expected = expected_counts()
    assert {kind: counts['created'] for kind, counts in run.counts.items()} == expected
    assert mirror_counts(fabric) == expected
    fabric.refresh_from_db()
    assert fabric.sync_status == SyncStatusChoices.IN_SYNC
    assert fabric.last_successful_sync == run.started


def test_references_become_relations_and_dangling_ones_stay_visible(synced_fabric):
    leaf = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    assert leaf.redundancy_group.name == 'eslag-2'
    assert [ns.name for ns in leaf.vlan_namespaces.all()] == ['default']
    assert leaf.agent.serial_number == 'SN-ds3000-01'
    assert leaf.agent.ready and leaf.agent.interfaces_up == 2 and leaf.agent.bgp_neighbors_established == 1
    assert leaf.connections.filter(connection_type='eslag').count() == 2

    eslag = Connection.objects.get(fabric=synced_fabric, name='server-1--eslag--ds3000-01--ds3000-02')
    assert sorted(eslag.switches.values_list('name', flat=True)) == ['ds3000-01', 'ds3000-02']
    assert list(eslag.servers.values_list('name', flat=True)) == ['server-1']
    assert eslag.endpoints == ['server-1/enp2s1', 'ds3000-01/E1/1/2', 'server-1/enp2s2', 'ds3000-02/E1/1/2']

    attachment = VPCAttachment.objects.get(fabric=synced_fabric, name='demo-vpc-3--server-3--bundled--s5248-01')
    assert attachment.vpc.name == 'demo-vpc-3' and attachment.subnet_name == 'subnet-1'
    # The demo samples attach to connections of another fabric: the reference is kept, the relation empty.
    assert attachment.connection is None
    assert attachment.connection_name == 'server-3--bundled--s5248-01'


def test_a_resync_without_changes_writes_no_mirror_row(synced_fabric):
    before = mirror_row_versions()
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert mirror_row_versions() == before
    assert all(counts == {'created': 0, 'updated': 0, 'deleted': 0, 'unchanged': expected}
               for counts, expected in zip(run.counts.values(), expected_counts().values(), strict=True))
    assert run.changes == {}


def test_an_edit_updates_only_that_object(standin, synced_fabric):
    before = mirror_row_versions()
    standin.patch('switches', 'ds3000-01', spec={'description': 'leaf one, moved to rack 7'})
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.counts['Switch']['updated'] == 1
    assert run.changes == {'Switch': {'updated': ['ds3000-01']}}
    switch = Switch.objects.get(fabric=synced_fabric, name='ds3000-01')
    assert switch.description == 'leaf one, moved to rack 7'
    assert switch.spec['description'] == 'leaf one, moved to rack 7'
    after = mirror_row_versions()
    changed = {table for table in before if before[table] != after[table]}
    assert changed == {Switch._meta.db_table}
    assert [pk for pk in before[Switch._meta.db_table] if before[Switch._meta.db_table][pk] !=
            after[Switch._meta.db_table][pk]] == [switch.pk]


def test_a_deletion_in_the_cluster_deletes_in_netbox(standin, synced_fabric):
    standin.delete('vpcs', 'demo-vpc-3')
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.counts['VPC']['deleted'] == 1
    assert run.changes == {'VPC': {'deleted': ['demo-vpc-3']}}
    assert not VPC.objects.filter(fabric=synced_fabric, name='demo-vpc-3').exists()
    attachment = VPCAttachment.objects.get(fabric=synced_fabric, name='demo-vpc-3--server-3--bundled--s5248-01')
    assert attachment.vpc is None and attachment.vpc_name == 'demo-vpc-3'


def test_a_recreated_object_gets_its_relations_back(standin, synced_fabric):
    vpc = standin.get('vpcs', 'demo-vpc-3')
    standin.delete('vpcs', 'demo-vpc-3')
    del vpc['metadata']['uid'], vpc['metadata']['resourceVersion']
    standin.upsert(vpc)
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.counts['VPC']['created'] == 1 and run.counts['VPC']['deleted'] == 1
    attachment = VPCAttachment.objects.get(fabric=synced_fabric, name='demo-vpc-3--server-3--bundled--s5248-01')
    assert attachment.vpc == VPC.objects.get(fabric=synced_fabric, name='demo-vpc-3')


def test_listing_follows_continue_tokens_across_pages(standin, make_fabric):
    fabric = make_fabric(standin)
    with plugin_settings(kubernetes_page_size=2):
        run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert mirror_counts(fabric) == expected_counts()
    assert expected_counts()['Connection'] > 10  # several pages


def test_agent_secrets_are_never_stored(synced_fabric):
    rows = '\n'.join(mirror_tables_text())
    assert 'SN-ds3000-01' in rows  # the search does see agent rows
    for secret in (AGENT_PASSWORD_HASH, REGISTRY_PASSWORD, REGISTRY_USERNAME):
        assert secret not in rows
    agent = Agent.objects.get(fabric=synced_fabric, name='ds3000-01')
    assert agent.spec == {'role': 'server-leaf', 'description': 'agent of ds3000-01'}


# What each injected fault on one kind must say about it, in the run's errors.
KIND_FAULTS = {
    '403': '403 Forbidden',
    '500': 'HTTP 500',
    'malformed': 'malformed response',
    'drop': 'dropped the connection',
}


@pytest.mark.parametrize('fault', KIND_FAULTS)
def test_a_kind_that_fails_to_list_keeps_its_mirror(standin, synced_fabric, fault):
    before = mirror_counts(synced_fabric)
    standin.delete('vpcs', 'demo-vpc-3')  # would be deleted by a sync that took the failure for an empty list
    standin.delete('switches', 'ds3000-01')  # other kinds still sync
    standin.set_fault('vpcs', fault)
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert error['kind'] == 'VPC' and KIND_FAULTS[fault] in error['message'], error
    assert 'VPC' not in run.counts
    assert mirror_counts(synced_fabric) == {**before, 'Switch': before['Switch'] - 1}
    synced_fabric.refresh_from_db()
    assert synced_fabric.sync_status == SyncStatusChoices.ERROR
    assert KIND_FAULTS[fault] in synced_fabric.sync_error


# Faults that break a paged list after its first page, and what the run's error for the kind says.
PAGED_FAULTS = {
    '410': '410 Gone',
    'repeat-continue': 'repeated a continue token',
    'overlap': 'twice in one paged list',
}


@pytest.mark.parametrize('fault', PAGED_FAULTS)
def test_a_listing_that_breaks_after_its_first_page_deletes_nothing(standin, synced_fabric, fault):
    before = mirror_row_versions()
    # Both would be deleted by a sync that took the pages it got for the whole list.
    standin.delete('connections', 'server-1--eslag--ds3000-01--ds3000-02')
    standin.delete('connections', sorted(obj['metadata']['name'] for obj in standin.objects('connections'))[-1])
    standin.set_fault('connections', fault)
    with plugin_settings(kubernetes_page_size=2):
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    assert {error['kind'] for error in run.errors} == {'Connection'}, run.errors
    assert any(PAGED_FAULTS[fault] in error['message'] for error in run.errors), run.errors
    assert mirror_row_versions() == before
    synced_fabric.refresh_from_db()
    assert synced_fabric.sync_status == SyncStatusChoices.ERROR


def test_a_slow_kind_hits_the_read_timeout_and_keeps_its_mirror(standin, synced_fabric):
    before = mirror_counts(synced_fabric)
    standin.delete('vpcs', 'demo-vpc-3')
    standin.set_fault('vpcs', 'slow', delay=5)
    with plugin_settings(kubernetes_read_timeout=0.5):
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert error['kind'] == 'VPC' and 'did not send its whole answer within 0.5 s' in error['message']
    assert mirror_counts(synced_fabric) == before
    assert run.duration < 5


def test_a_hung_server_fails_the_run_quickly_and_keeps_the_mirror(standin, synced_fabric):
    before = mirror_row_versions()
    standin.set_fault(None, 'slow', delay=10)
    with plugin_settings(kubernetes_read_timeout=0.5):
        run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert '(timeout)' in run.errors[0]['message']
    assert run.duration < 5
    assert mirror_row_versions() == before


def test_a_kind_that_is_not_installed_is_reported_and_keeps_its_mirror(standin, synced_fabric):
    before = mirror_counts(synced_fabric)
    standin.set_fault('externalpeerings', '404')
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert run.not_installed == ['ExternalPeering']
    assert mirror_counts(synced_fabric) == before


def test_a_rejected_token_fails_the_run_and_deletes_nothing(standin, synced_fabric):
    before = mirror_row_versions()
    standin.set_fault(None, '401')
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert run.errors == [{'kind': '', 'name': '', 'message': run.errors[0]['message']}]
    assert '401 Unauthorized' in run.errors[0]['message']
    assert mirror_row_versions() == before
    synced_fabric.refresh_from_db()
    assert synced_fabric.sync_status == SyncStatusChoices.ERROR


def test_an_unreachable_cluster_fails_the_run_and_deletes_nothing(standin, synced_fabric):
    before = mirror_row_versions()
    standin.stop()
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    [error] = run.errors
    assert 'Connection refused' in error['message']
    assert mirror_row_versions() == before
    synced_fabric.refresh_from_db()
    assert synced_fabric.sync_status == SyncStatusChoices.ERROR
    assert synced_fabric.last_successful_sync < run.started


def test_malformed_objects_are_skipped_and_named_and_the_rest_applies(standin, synced_fabric):
    standin.patch('switches', 'ds3000-02', spec={'asn': 'sixty-five thousand'})
    vpc = standin.get('vpcs', 'demo-vpc-1')
    standin.upsert({'apiVersion': vpc['apiVersion'], 'kind': 'VPC', 'metadata': {'name': 'no-spec'}})
    standin.patch('switches', 'ds3000-01', spec={'description': 'still applied'})
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    assert sorted((error['kind'], error['name']) for error in run.errors) == [('Switch', 'ds3000-02'),
                                                                              ('VPC', 'no-spec')]
    assert any('spec.asn must be a whole number' in error['message'] for error in run.errors)
    assert Switch.objects.get(fabric=synced_fabric, name='ds3000-01').description == 'still applied'
    # The malformed switch keeps its previous mirror; the malformed new VPC is not created.
    assert Switch.objects.filter(fabric=synced_fabric, name='ds3000-02', asn=None).exists()
    assert not VPC.objects.filter(fabric=synced_fabric, name='no-spec').exists()


@pytest.mark.django_db(transaction=True)
def test_a_second_sync_while_one_runs_is_refused_at_once(standin):
    fabric = HedgehogFabric.objects.create(
        name='concurrent', kubernetes_server=standin.url, kubernetes_token=TOKEN, sync_enabled=False
    )
    standin.set_fault('switchprofiles', 'slow', delay=5)  # holds the first sync in its first list call
    outcome = {}

    def first_sync():
        try:
            outcome['run'] = sync_fabric(fabric.pk, 'scheduled')
        finally:
            connection.close()

    thread = threading.Thread(target=first_sync)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not SyncRun.objects.filter(fabric=fabric, outcome=SyncOutcomeChoices.RUNNING).exists():
            assert time.monotonic() < deadline, 'the first sync never started'
            time.sleep(0.05)
        assert is_sync_running(fabric.pk)
        asked = time.monotonic()
        with pytest.raises(SyncAlreadyRunning):
            sync_fabric(fabric.pk, 'manual')
        assert time.monotonic() - asked < 1
    finally:
        thread.join(timeout=60)
    assert outcome['run'].outcome == SyncOutcomeChoices.SUCCESS, outcome['run'].errors
    assert SyncRun.objects.filter(fabric=fabric).count() == 1
    assert not is_sync_running(fabric.pk)


def test_a_synthetic_fabric_mirrors_what_the_server_holds(make_fabric):
    objects = generate(FabricSize(switches=20, connections=120, vpcs=40, attachments=80), seed=7)
    with StandinServer(objects=objects, token=TOKEN) as server:
        fabric = make_fabric(server)
        with plugin_settings(kubernetes_page_size=25):
            run = sync_fabric(fabric.pk, 'manual')
        served = server.counts()

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert {kind: n for kind, n in mirror_counts(fabric).items() if n} == {
        kind: n for kind, n in served.items() if kind in mirror_counts(fabric) and n
    }
    assert not VPCAttachment.objects.filter(fabric=fabric, vpc=None).exists()
    assert not VPCAttachment.objects.filter(fabric=fabric, connection=None).exists()
    assert not Agent.objects.filter(fabric=fabric, switch=None).exists()
    for connection_row in Connection.objects.filter(fabric=fabric).prefetch_related('switches', 'servers'):
        assert sorted(s.name for s in connection_row.switches.all()) == sorted(connection_row.switch_names)
        assert sorted(s.name for s in connection_row.servers.all()) == sorted(connection_row.server_names)
    rows = '\n'.join(mirror_tables_text())
    for secret in (FAKE_PASSWORD_HASH, FAKE_SSH_KEY, 'fake-registry-password', 'fabric-agent-reader'):
        assert secret not in rows


def test_text_postgresql_cannot_store_is_a_malformed_object(standin, synced_fabric):
    standin.patch('switches', 'ds3000-02', spec={'description': 'nul \x00 byte'})
    standin.patch('switches', 'ds3000-01', spec={'description': 'still applied'})
    run = sync_fabric(synced_fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert error['name'] == 'ds3000-02' and 'NUL' in error['message']
    assert Switch.objects.get(fabric=synced_fabric, name='ds3000-01').description == 'still applied'


def test_deleting_a_fabric_takes_the_same_statements_whatever_its_size(make_fabric):
    """Django's collector would load every mirrored row and its run records; the purge deletes them by set."""
    small_size = FabricSize(switches=4, connections=8, vpcs=4, attachments=8)
    # The first deletion in a process fills per-process caches (content types, custom fields, and whatever earlier
    # tests left cold); a warm-up deletion makes the two measured ones start alike.
    sizes = {
        'warm-up': small_size,
        'small': small_size,
        'big': FabricSize(switches=20, connections=120, vpcs=40, attachments=80),
    }
    fabrics = {}
    for name, size in sizes.items():
        with StandinServer(objects=generate(size, seed=7), token=TOKEN) as server:
            fabrics[name] = make_fabric(server, name=name)
            assert sync_fabric(fabrics[name].pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS
    small, big = (mirror_counts(fabrics[name]) for name in ('small', 'big'))
    assert {kind for kind, n in small.items() if n} == {kind for kind, n in big.items() if n}
    assert sum(big.values()) > 5 * sum(small.values())

    statements = {}
    for name, fabric in fabrics.items():
        pk = fabric.pk
        with CaptureQueriesContext(connection) as queries:
            fabric.delete()
        statements[name] = len(queries)
        assert not any(info.model.objects.filter(fabric_id=pk).exists() for info in KINDS)
        assert not SyncRun.objects.filter(fabric_id=pk).exists()
    assert statements['small'] == statements['big'], statements
