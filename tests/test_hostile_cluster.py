"""
A hostile or broken Kubernetes API server cannot hold, exhaust or leak anything: every request has a deadline for
its whole response, every response a size cap, reports quote only Kubernetes Status messages, unexpected errors
are reported generically with their traceback (secrets cut out) in the log, and an object that cannot be decoded
costs only itself.
"""

import logging
import time

import pytest

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kube.connection import test_connection as check_connection
from netbox_hedgehog.kube.decode import UndecodableItem, decode_list
from netbox_hedgehog.models import Switch
from netbox_hedgehog.sync import sync_fabric
from netbox_hedgehog.sync.runner import UNEXPECTED_MESSAGE

from .hostile_servers import DRIP, ENDLESS, ENDLESS_500, FOREIGN_500, FOREIGN_MESSAGE, STATUS_500, HostileServer
from .sync_fixtures import TOKEN, make_fabric, plugin_settings, standin

__all__ = ('make_fabric', 'standin')  # fixtures

MIB = 1024 * 1024


def messages(run):
    return [error['message'] for error in run.errors]


#
# Deadlines
#


def test_connection_test_keeps_its_budget_against_a_dripping_server(make_fabric):
    with HostileServer(DRIP) as server:
        fabric = make_fabric(server)
        started = time.monotonic()
        report = check_connection(fabric)
        elapsed = time.monotonic() - started

    assert not report.ok and '(timeout)' in report.error
    # The budget is 5 s; a dripping server used to hold the test for as long as it kept dripping.
    assert elapsed < 7, elapsed


def test_a_sync_against_a_dripping_server_ends_at_the_deadline(make_fabric):
    with plugin_settings(kubernetes_read_timeout=2), HostileServer(DRIP) as server:
        fabric = make_fabric(server)
        started = time.monotonic()
        run = sync_fabric(fabric.pk, 'manual')
        elapsed = time.monotonic() - started

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert any('whole answer within 2 s' in message for message in messages(run)), run.errors
    # Two timeouts end the listing (sync.listing.MAX_TIMEOUTS): about 4 s, never as long as the server drips.
    assert elapsed < 30, elapsed


#
# Byte caps
#


def test_an_endless_body_is_abandoned_at_the_page_cap(make_fabric):
    with plugin_settings(kubernetes_max_page_bytes=MIB), HostileServer(ENDLESS) as server:
        fabric = make_fabric(server)
        run = sync_fabric(fabric.pk, 'manual')
        report = check_connection(fabric)

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert run.errors and all('sent more than 1 MiB' in message for message in messages(run)), run.errors
    assert any('while listing Switch objects' in message for message in messages(run))
    assert not report.ok and 'sent more than 1 MiB' in report.error


def test_an_endless_error_body_is_read_only_as_far_as_a_status_needs(make_fabric):
    with HostileServer(ENDLESS_500) as server:
        started = time.monotonic()
        report = check_connection(make_fabric(server))
        elapsed = time.monotonic() - started

    assert not report.ok and report.error.endswith('(HTTP 500 Internal Server Error).'), report.error
    assert elapsed < 7, elapsed


#
# What reports quote
#


def test_a_foreign_500_body_is_never_quoted(make_fabric):
    with HostileServer(FOREIGN_500) as server:
        fabric = make_fabric(server)
        report = check_connection(fabric)
        run = sync_fabric(fabric.pk, 'manual')
    fabric.refresh_from_db()

    assert not report.ok and 'HTTP 500 Internal Server Error' in report.error
    assert 'ORA-00942' not in report.error and FOREIGN_MESSAGE not in report.error
    assert run.errors and not any('ORA-00942' in message for message in messages(run))
    assert 'ORA-00942' not in fabric.sync_error


def test_a_status_message_is_quoted_shortened_to_300_characters(make_fabric):
    with HostileServer(STATUS_500) as server:
        report = check_connection(make_fabric(server))

    assert 'HTTP 500 Internal Server Error): etcd is unhappy: xxx' in report.error
    quoted = report.error.split('): ', 1)[1]
    assert len(quoted.rstrip('.')) == 300 and quoted.rstrip('.').endswith('\u2026')


def test_an_unexpected_client_error_is_generic_and_its_logged_traceback_holds_no_token(
    standin, make_fabric, monkeypatch, caplog
):
    def leak(response, max_bytes):
        raise RuntimeError(f'cannot read; request headers were {{"Authorization": "Bearer {TOKEN}"}}')

    monkeypatch.setattr('netbox_hedgehog.kube.client.read_capped', leak)
    fabric = make_fabric(standin)
    with caplog.at_level(logging.DEBUG):
        run = sync_fabric(fabric.pk, 'manual')
    fabric.refresh_from_db()

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert 'unexpected error' in run.errors[0]['message'] and 'NetBox log' in run.errors[0]['message']
    assert TOKEN not in str(run.errors) and TOKEN not in fabric.sync_error
    assert 'RuntimeError' in caplog.text and '[secret removed]' in caplog.text
    assert TOKEN not in caplog.text


def test_an_unexpected_sync_error_is_generic_in_the_run(standin, make_fabric, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError(f'Authorization: Bearer {TOKEN}')

    monkeypatch.setattr('netbox_hedgehog.sync.engine.list_kinds', fail)
    fabric = make_fabric(standin)
    run = sync_fabric(fabric.pk, 'manual')
    fabric.refresh_from_db()

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert messages(run) == [UNEXPECTED_MESSAGE]
    assert TOKEN not in fabric.sync_error and fabric.sync_error == UNEXPECTED_MESSAGE


#
# Objects that cannot be decoded
#


def deeply_nested_switch(name, uid, depth=100_000):
    return (
        b'{"apiVersion":"wiring.githedgehog.com/v1beta1","kind":"Switch","metadata":{"name":"%s","namespace":'
        b'"default","uid":"%s","resourceVersion":"99"},"spec":%s1%s}'
        % (name.encode(), uid.encode(), b'{"a":' * depth, b'}' * depth)
    )


def test_a_deeply_nested_object_is_skipped_and_named_and_the_run_is_partial(standin, make_fabric):
    switches = [obj['metadata']['name'] for obj in standin.objects('switches')]
    standin.put_raw('switches', 'zz-deep', deeply_nested_switch('zz-deep', 'f00d0000-0000-4000-8000-000000000001'))
    fabric = make_fabric(standin)
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    [error] = run.errors
    assert error['kind'] == 'Switch' and error['name'] == 'zz-deep'
    assert 'nested too deeply' in error['message']
    # The rest of the page, and every other kind, is mirrored.
    assert sorted(Switch.objects.filter(fabric=fabric).values_list('name', flat=True)) == sorted(switches)
    assert run.counts['Switch']['created'] == len(switches)


def test_an_undecodable_object_keeps_its_previous_mirror(standin, make_fabric):
    fabric = make_fabric(standin)
    assert sync_fabric(fabric.pk, 'manual').outcome == SyncOutcomeChoices.SUCCESS
    switch = standin.objects('switches')[0]
    name, uid = switch['metadata']['name'], switch['metadata']['uid']
    standin.put_raw('switches', name, deeply_nested_switch(name, uid))
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    assert [(error['kind'], error['name']) for error in run.errors] == [('Switch', name)]
    assert Switch.objects.filter(fabric=fabric, name=name, uid=uid).exists()
    assert run.counts['Switch']['deleted'] == 0


def test_decode_list_loses_only_the_items_it_cannot_decode():
    good = b'{"metadata":{"name":"a","uid":"u-1"},"spec":{"text":"[{,\\"]}"}}'
    invalid_utf8 = b'{"metadata":{"name":"b","uid":"u-2"},"spec":{"text":"\xff\xfe"}}'
    deep = b'{"metadata":{"name":"c"},"spec":' + b'[' * 5000 + b']' * 5000 + b'}'
    items = (good, invalid_utf8, deep, good)
    body = b'{"kind":"SwitchList","metadata":{"continue":"t"},"items":[%s, %s ,%s,%s]}' % items

    page = decode_list(body)

    assert page['kind'] == 'SwitchList' and page['metadata'] == {'continue': 't'}
    first, second, third, fourth = page['items']
    assert first == fourth == {'metadata': {'name': 'a', 'uid': 'u-1'}, 'spec': {'text': '[{,"]}'}}
    assert isinstance(second, UndecodableItem) and second['metadata'] == {'name': 'b', 'uid': 'u-2'}
    assert second.reason == 'not valid JSON'
    assert isinstance(third, UndecodableItem) and third['metadata'] == {'name': 'c'}
    assert third.reason == 'nested too deeply to decode'


@pytest.mark.parametrize('body', [b'{"items":[{"a":1}', b'{"items":[{"a":1}]', b'[1,2', b'<html>oops</html>'])
def test_decode_list_refuses_a_broken_list(body):
    with pytest.raises(ValueError):
        decode_list(body)


def test_a_kind_with_more_objects_than_the_cap_fails_alone(standin, make_fabric, monkeypatch):
    monkeypatch.setattr('netbox_hedgehog.sync.listing.MAX_ITEMS', 5)
    fabric = make_fabric(standin)
    with plugin_settings(kubernetes_page_size=2):
        run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.PARTIAL
    capped = {error['kind'] for error in run.errors if 'listed more than 5' in error['message']}
    assert 'Connection' in capped and 'Switch' in capped  # 26 and 6 objects in the samples
    assert not Switch.objects.filter(fabric=fabric).exists()
    assert run.counts['VPC']['created'] == 3  # kinds within the cap are mirrored
