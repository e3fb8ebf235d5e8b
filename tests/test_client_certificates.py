"""
Kubeconfigs that authenticate with an embedded client certificate (client-certificate-data, client-key-data),
end to end against a stand-in that requires mutual TLS; the private key appears in no message and no log.
"""

import logging

import pytest
import yaml

from k8s_standin.server import StandinServer
from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kube.connection import test_connection as check_connection
from netbox_hedgehog.sync import sync_fabric

from .sync_fixtures import fabric_objects, make_fabric

__all__ = ('make_fabric',)  # fixtures


@pytest.fixture
def mtls_standin():
    server = StandinServer(objects=fabric_objects(), token=None, tls=True, client_auth=True).start()
    yield server
    server.stop()


def key_lines(certificate):
    """The base64 lines of a private key PEM: any of them in a text would leak part of the key."""
    return [line for line in certificate.key_pem.splitlines() if line and not line.startswith('-----')]


def assert_key_absent(certificate, *texts):
    for text in texts:
        for line in key_lines(certificate):
            assert line not in text


def kubeconfig_with(server, certificate):
    return yaml.safe_dump(server.kubeconfig(certificate=certificate))


def test_a_client_certificate_kubeconfig_syncs_and_passes_the_connection_test(mtls_standin, make_fabric, caplog):
    certificate = mtls_standin.client_certificate()
    fabric = make_fabric(kubeconfig=kubeconfig_with(mtls_standin, certificate))
    with caplog.at_level(logging.DEBUG):
        run = sync_fabric(fabric.pk, 'manual')
        report = check_connection(fabric)

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors
    assert sum(counts['created'] for counts in run.counts.values()) > 0
    assert report.ok, report.error
    assert_key_absent(certificate, caplog.text, report.error)


def test_a_certificate_from_another_ca_is_refused_with_a_clear_message(mtls_standin, make_fabric, caplog):
    stranger = StandinServer(crds=[], tls=True)  # another cluster's CA signs this certificate
    certificate = stranger.client_certificate()
    fabric = make_fabric(kubeconfig=kubeconfig_with(mtls_standin, certificate))
    with caplog.at_level(logging.DEBUG):
        run = sync_fabric(fabric.pk, 'manual')
        report = check_connection(fabric)
    fabric.refresh_from_db()

    assert run.outcome == SyncOutcomeChoices.FAILED
    [error] = run.errors
    assert 'refused the client certificate' in error['message'], error
    assert not report.ok and 'refused the client certificate' in report.error
    assert_key_absent(certificate, caplog.text, error['message'], report.error, fabric.sync_error)


def test_a_kubeconfig_without_a_certificate_is_refused(mtls_standin, make_fabric):
    fabric = make_fabric(kubeconfig=yaml.safe_dump(mtls_standin.kubeconfig()))
    report = check_connection(fabric)

    assert not report.ok and 'refused the client certificate' in report.error


def test_an_unexpected_error_holding_the_key_is_logged_without_it(mtls_standin, make_fabric, monkeypatch, caplog):
    certificate = mtls_standin.client_certificate()

    def leak(response, max_bytes):
        raise RuntimeError(f'client state: {certificate.key_pem}')

    monkeypatch.setattr('netbox_hedgehog.kube.client.read_capped', leak)
    fabric = make_fabric(kubeconfig=kubeconfig_with(mtls_standin, certificate))
    with caplog.at_level(logging.DEBUG):
        run = sync_fabric(fabric.pk, 'manual')
        report = check_connection(fabric)
    fabric.refresh_from_db()

    assert run.outcome == SyncOutcomeChoices.FAILED and 'unexpected error' in run.errors[0]['message']
    assert 'unexpected error' in report.error
    assert 'client state: [secret removed]' in caplog.text
    assert_key_absent(certificate, caplog.text, str(run.errors), report.error, fabric.sync_error)
