"""
A Kubernetes API client for one fabric, built from its server URL, token and CA, or from its kubeconfig.

The client reads certificates from file paths (a client key can only be loaded from a file), so the PEM text of the
CA and of a kubeconfig's client certificate lives in files of a private temporary directory for exactly as long as
the client does. Every call carries the configured connect and read timeouts, and urllib3's own retries are off:
a sync decides for itself what to do after a failure, and retrying a hung server would multiply the time it takes
to give up.
"""

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from kubernetes import client as k8s
from netbox.plugins import get_plugin_config

from ..crypto import SecretUnreadable, unseal
from ..validators import parse_kubeconfig
from .endpoint import EndpointRefused, resolve_and_check
from .errors import FabricAPIError, explain

__all__ = ('ConnectionSettings', 'FabricAPI', 'connection_settings', 'fabric_api', 'request_timeout')


@dataclass(frozen=True)
class ConnectionSettings:
    """Where a fabric's Kubernetes API is and how to prove who we are. Holds secrets: never log it."""

    server: str
    token: str = ''
    ca_pem: str = ''
    skip_tls_verify: bool = False
    client_certificate_pem: str = ''
    client_key_pem: str = ''

    def __repr__(self):
        return f'ConnectionSettings(server={self.server!r})'

    @property
    def target(self):
        """host:port, as messages name the server."""
        parts = urlsplit(self.server)
        port = parts.port or (443 if parts.scheme == 'https' else 80)
        return f'{parts.hostname}:{port}'


def _unseal(fabric, field_name, what):
    try:
        return unseal(getattr(fabric, field_name))
    except SecretUnreadable:
        raise FabricAPIError(
            f'NetBox cannot decrypt the stored {what}: was `secret_keys` changed? Re-enter the {what}, or add the '
            'key it was stored with to secret_keys.'
        )


def connection_settings(fabric):
    """
    Read a fabric's connection settings; raise FabricAPIError when they cannot be used. The one place where the
    stored secrets are decrypted, right before a connection is built.
    """
    if not fabric.kubeconfig:
        if not fabric.kubernetes_server:
            raise FabricAPIError('The fabric has neither a Kubernetes API server URL nor a kubeconfig.')
        return ConnectionSettings(
            server=fabric.kubernetes_server,
            token=_unseal(fabric, 'kubernetes_token', 'token').strip(),
            ca_pem=fabric.kubernetes_ca_cert,
            skip_tls_verify=fabric.kubernetes_skip_tls_verify,
        )
    try:
        # The same validator as at save time, so nothing saved is refused here and nothing refused here saves.
        kubeconfig = parse_kubeconfig(_unseal(fabric, 'kubeconfig', 'kubeconfig'))
    except ValidationError as exc:
        raise FabricAPIError(' '.join(exc.messages))
    return ConnectionSettings(
        server=kubeconfig.server,
        token=kubeconfig.token,
        ca_pem=kubeconfig.ca_pem,
        # Skipping verification is the fabric's choice to make, whichever way its connection is given.
        skip_tls_verify=kubeconfig.skip_tls_verify or fabric.kubernetes_skip_tls_verify,
        client_certificate_pem=kubeconfig.client_certificate_pem,
        client_key_pem=kubeconfig.client_key_pem,
    )


def request_timeout():
    """(connect, read) seconds for every call, from the plugin configuration."""
    return (
        float(get_plugin_config('netbox_hedgehog', 'kubernetes_connect_timeout')),
        float(get_plugin_config('netbox_hedgehog', 'kubernetes_read_timeout')),
    )


def _write_private_file(directory, name, text):
    path = os.path.join(directory, name)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
        handle.write(text)
    return path


class FabricAPI:
    """The few read-only calls the plugin makes, each with timeouts, JSON parsing and explained failures."""

    def __init__(self, api_client, settings, timeout):
        self.api_client = api_client
        self.settings = settings
        self.timeout = timeout
        self.custom_objects = k8s.CustomObjectsApi(api_client)

    def _call(self, doing, call, timeout=None):
        """Run one API call and return its JSON body as Python data."""
        timeout = timeout or self.timeout
        try:
            response = call(_request_timeout=timeout, _preload_content=False)
            try:
                body = response.data
            finally:
                response.release_conn()
        except Exception as exc:
            raise explain(
                exc, target=self.settings.target, doing=doing, connect_timeout=timeout[0], read_timeout=timeout[1]
            ) from exc
        try:
            return json.loads(body)
        except ValueError:
            raise FabricAPIError(
                f'The Kubernetes API at {self.settings.target} sent a malformed response {doing} (not valid JSON).'
            )

    def version(self, timeout=None):
        return self._call('while reading its version', k8s.VersionApi(self.api_client).get_code, timeout)

    def api_groups(self, timeout=None):
        return self._call('while listing its API groups', k8s.ApisApi(self.api_client).get_api_versions, timeout)

    def api_resources(self, group, version, timeout=None):
        return self._call(
            f'while listing the resources of {group}/{version}',
            lambda **options: self.custom_objects.get_api_resources(group, version, **options),
            timeout,
        )

    def list_page(self, info, namespace, *, limit, continue_token=None, timeout=None):
        """One page of a kind's objects: the list body with "items" and "metadata.continue"."""
        return self._call(
            f'while listing {info.kind} objects ({info.resource})',
            lambda **options: self.custom_objects.list_namespaced_custom_object(
                info.group, info.version, namespace, info.plural, limit=limit, _continue=continue_token, **options
            ),
            timeout,
        )


@contextmanager
def fabric_api(fabric, settings=None):
    """
    Yield a FabricAPI for a fabric. Certificate files exist only inside the block and are removed on the way out,
    whatever happens inside it.
    """
    settings = settings or connection_settings(fabric)
    # Checked here, as the connection is built, and not only at save: DNS may resolve the name differently now.
    try:
        resolve_and_check(settings.server, unresolvable_ok=False)
    except EndpointRefused as exc:
        raise FabricAPIError(str(exc))
    configuration = k8s.Configuration()
    configuration.host = settings.server.rstrip('/')
    configuration.verify_ssl = not settings.skip_tls_verify
    configuration.retries = False
    if settings.token:
        configuration.api_key = {'authorization': settings.token}
        configuration.api_key_prefix = {'authorization': 'Bearer'}
    with tempfile.TemporaryDirectory(prefix='netbox-hedgehog-') as directory:
        if settings.ca_pem:
            configuration.ssl_ca_cert = _write_private_file(directory, 'ca.crt', settings.ca_pem)
        if settings.client_certificate_pem:
            configuration.cert_file = _write_private_file(directory, 'client.crt', settings.client_certificate_pem)
            configuration.key_file = _write_private_file(directory, 'client.key', settings.client_key_pem)
        api_client = k8s.ApiClient(configuration)
        try:
            yield FabricAPI(api_client, settings, request_timeout())
        finally:
            api_client.close()
