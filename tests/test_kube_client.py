"""The Kubernetes client built from a fabric (TLS, kubeconfig, credential files) and the connection test."""

import base64
import os
import stat
import time

import pytest
import yaml

from netbox_hedgehog.choices import SyncOutcomeChoices
from netbox_hedgehog.kinds import HEDGEHOG_GROUPS, KINDS
from netbox_hedgehog.kube.client import fabric_api
from netbox_hedgehog.kube.connection import test_connection as check_connection
from netbox_hedgehog.kube.errors import FabricAPIError
from netbox_hedgehog.sync import sync_fabric

from .certs import ca_certificate_pem
from .sync_fixtures import TOKEN


def kubeconfig_text(server, **user):
    config = server.kubeconfig()
    config['users'][0]['user'].update(user)
    return yaml.safe_dump(config)


#
# TLS and credentials
#


def test_tls_with_the_fabric_ca_verifies(tls_standin, make_fabric):
    fabric = make_fabric(tls_standin, kubernetes_ca_cert=tls_standin.ca_pem)
    run = sync_fabric(fabric.pk, 'manual')

    assert tls_standin.url.startswith('https://')
    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors


def test_tls_without_the_ca_fails_with_a_tls_message(tls_standin, make_fabric):
    fabric = make_fabric(tls_standin)
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    [error] = run.errors
    assert 'TLS verification failed' in error['message'] and 'certificate' in error['message']


def test_tls_with_another_ca_fails(tls_standin, make_fabric):
    fabric = make_fabric(tls_standin, kubernetes_ca_cert=ca_certificate_pem())
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert 'TLS verification failed' in run.errors[0]['message']


def test_skipping_tls_verification_is_the_fabric_choice(tls_standin, make_fabric):
    fabric = make_fabric(tls_standin, kubernetes_skip_tls_verify=True)
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors


def test_a_kubeconfig_with_embedded_ca_and_token_works(tls_standin, make_fabric):
    fabric = make_fabric(kubeconfig=kubeconfig_text(tls_standin))
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.SUCCESS, run.errors


def test_a_kubeconfig_that_needs_a_plugin_is_refused_with_a_reason(tls_standin, make_fabric):
    fabric = make_fabric(kubeconfig=kubeconfig_text(tls_standin, exec={'command': 'aws'}))
    run = sync_fabric(fabric.pk, 'manual')

    assert run.outcome == SyncOutcomeChoices.FAILED
    assert 'authenticates with exec' in run.errors[0]['message']


def test_the_ca_file_exists_only_while_the_client_does(tls_standin, make_fabric):
    fabric = make_fabric(tls_standin, kubernetes_ca_cert=tls_standin.ca_pem)
    with fabric_api(fabric) as api:
        path = api.api_client.configuration.ssl_ca_cert
        assert open(path).read() == tls_standin.ca_pem
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert api.version()['gitVersion']
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))

    with pytest.raises(RuntimeError), fabric_api(fabric) as api:
        path = api.api_client.configuration.ssl_ca_cert
        raise RuntimeError('the sync failed')
    assert not os.path.exists(path)


def test_client_certificate_files_are_private_and_removed(tls_standin, make_fabric):
    pem = ca_certificate_pem()  # any PEM will do: only the file handling is under test
    encoded = base64.b64encode(pem.encode()).decode()
    fabric = make_fabric(kubeconfig=kubeconfig_text(
        tls_standin, **{'client-certificate-data': encoded, 'client-key-data': encoded}
    ))
    with fabric_api(fabric) as api:
        configuration = api.api_client.configuration
        paths = [configuration.ssl_ca_cert, configuration.cert_file, configuration.key_file]
        assert all(stat.S_IMODE(os.stat(path).st_mode) == 0o600 for path in paths)
        assert open(configuration.key_file).read() == pem
    assert not any(os.path.exists(path) for path in paths)


def test_every_call_has_the_configured_timeouts(standin, make_fabric):
    fabric = make_fabric(standin)
    with fabric_api(fabric) as api:
        assert api.timeout == (5.0, 30.0)
        assert api.api_client.configuration.retries is False  # a hung server is not asked again


#
# test_connection
#


def test_connection_reports_version_groups_and_access(standin, make_fabric):
    report = check_connection(make_fabric(standin))

    assert report.ok, report.error
    assert report.server_version.startswith('v1.')
    assert report.groups == dict.fromkeys(HEDGEHOG_GROUPS, True)
    assert [access.kind for access in report.kinds] == [info.kind for info in KINDS]
    assert all(access.installed and access.can_list for access in report.kinds)


def test_connection_names_a_forbidden_kind(standin, make_fabric):
    standin.set_fault('vpcs', '403')
    report = check_connection(make_fabric(standin))

    assert not report.ok
    vpc = next(access for access in report.kinds if access.kind == 'VPC')
    assert vpc.installed and not vpc.can_list
    assert '403 Forbidden' in vpc.message and 'vpcs.vpc.githedgehog.com' in vpc.message
    assert 'VPC objects' in report.error
    assert all(access.can_list for access in report.kinds if access.kind != 'VPC')


def test_connection_reports_a_kind_not_installed_without_failing(standin, make_fabric):
    standin.uninstall('agent.githedgehog.com')
    report = check_connection(make_fabric(standin))

    assert report.ok, report.error
    assert report.groups['agent.githedgehog.com'] is False
    agent = next(access for access in report.kinds if access.kind == 'Agent')
    assert not agent.installed and 'not installed' in agent.message


def test_connection_rejected_token(standin, make_fabric):
    report = check_connection(make_fabric(standin, kubernetes_token=TOKEN + '-revoked'))

    assert not report.ok and '401 Unauthorized' in report.error


def test_connection_refused(standin, make_fabric):
    fabric = make_fabric(standin)
    standin.stop()
    report = check_connection(fabric)

    assert not report.ok and report.error.startswith('Connection refused by 127.0.0.1:')


def test_connection_dns_failure(make_fabric):
    report = check_connection(make_fabric(kubernetes_server='https://no-such-fabric.invalid:6443'))

    assert not report.ok and 'DNS lookup failed' in report.error and 'no-such-fabric.invalid' in report.error


def test_connection_tls_failure(tls_standin, make_fabric):
    report = check_connection(make_fabric(tls_standin))

    assert not report.ok and 'TLS verification failed' in report.error


def test_connection_timeout_within_the_budget(standin, make_fabric):
    standin.set_fault(None, 'slow', delay=30)
    started = time.monotonic()
    report = check_connection(make_fabric(standin))

    assert not report.ok and '(timeout)' in report.error
    assert time.monotonic() - started < 7


def test_connection_settings_missing(make_fabric):
    report = check_connection(make_fabric())

    assert not report.ok and 'neither a Kubernetes API server URL nor a kubeconfig' in report.error


def test_fabric_api_refuses_a_kubeconfig_file_reference(make_fabric, tls_standin):
    config = tls_standin.kubeconfig()
    cluster = config['clusters'][0]['cluster']
    cluster['certificate-authority'] = '/etc/kubernetes/ca.crt'
    fabric = make_fabric(kubeconfig=yaml.safe_dump(config))
    with pytest.raises(FabricAPIError, match='embed it as "certificate-authority-data"'), fabric_api(fabric):
        pass
