"""
A Kubernetes API client for one fabric, built from its server URL, token and CA, or from its kubeconfig.

The client reads certificates from file paths (a client key can only be loaded from a file), so the PEM text of the
CA and of a kubeconfig's client certificate lives in files of a private temporary directory for exactly as long as
the client does. Every call has the configured connect timeout and a deadline for its whole response, its body is
capped in size, and urllib3's own retries are off: a sync decides for itself what to do after a failure, and
retrying a hung server would multiply the time it takes to give up.
"""

import logging
import os
import tempfile
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from kubernetes import client as k8s
from netbox.plugins import get_plugin_config

from ..crypto import SecretUnreadable, unseal
from ..validators import parse_kubeconfig
from .decode import decode, decode_list
from .endpoint import EndpointRefused, resolve_and_check
from .errors import FabricAPIError, explain, explain_status
from .transport import BodyTooLarge, Deadline, bound_pool_manager, read_capped

__all__ = ('ConnectionSettings', 'FabricAPI', 'connection_settings', 'fabric_api', 'request_timeout')

logger = logging.getLogger('netbox_hedgehog.kube')

# An error answer is read only as far as a Kubernetes Status needs.
ERROR_BODY_BYTES = 64 * 1024


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

    def secrets(self):
        """The texts that must never reach a message or a log: the token, the client key and each line of it."""
        key_lines = [line.strip() for line in self.client_key_pem.splitlines() if len(line.strip()) >= 16]
        return [secret for secret in (self.token, self.client_key_pem, *key_lines) if secret]

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
    """
    (connect, whole response) seconds for every call, from the plugin configuration. The second is a deadline
    from sending the request to the last byte of its response, not a bound on each socket read.
    """
    return (
        float(get_plugin_config('netbox_hedgehog', 'kubernetes_connect_timeout')),
        float(get_plugin_config('netbox_hedgehog', 'kubernetes_read_timeout')),
    )


def _size(limit):
    return f'{limit / (1024 * 1024):g} MiB' if limit >= 1024 * 1024 else f'{limit} bytes'


def _write_private_file(directory, name, text):
    path = os.path.join(directory, name)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
        handle.write(text)
    return path


class FabricAPI:
    """
    The few read-only calls the plugin makes. The kubernetes client builds each request (URL, query, credentials);
    the response is read here, under a deadline for the whole response and a cap on its size, and decoded here,
    so that nothing a server sends can hold a worker, exhaust its memory or reach a report unexplained.
    """

    def __init__(self, api_client, settings, timeout, max_page_bytes):
        self.api_client = api_client
        self.settings = settings
        self.timeout = timeout
        self.max_page_bytes = max_page_bytes
        bound_pool_manager(api_client.rest_client.pool_manager)

    def _get(self, doing, path, *, path_params=None, query=(), timeout=None, max_bytes=None, decoder=decode):
        """GET one path and return its JSON body as Python data; raise FabricAPIError for every failure."""
        connect_timeout, deadline_seconds = timeout or self.timeout
        request = self.api_client.param_serialize(
            'GET', path, path_params=path_params, query_params=list(query),
            header_params={'Accept': 'application/json'}, auth_settings=['BearerToken'],
        )
        target = self.settings.target
        response = None
        with Deadline(deadline_seconds) as deadline:
            try:
                response = self.api_client.call_api(
                    *request, _request_timeout=(min(connect_timeout, deadline_seconds), deadline_seconds)
                ).response
                ok = 200 <= response.status <= 299
                if ok:
                    body = read_capped(response, max_bytes or self.max_page_bytes)
                else:
                    body = self._error_body(response)
            except BodyTooLarge as exc:
                raise FabricAPIError(
                    f'The Kubernetes API at {target} sent more than {_size(exc.limit)} {doing}; the response was '
                    'abandoned. Raise kubernetes_max_page_bytes, or lower kubernetes_page_size, if the objects are '
                    'really that large.'
                ) from None
            except EndpointRefused as exc:
                # The address this connection reached is not one the fabric may talk to (transport.py).
                raise FabricAPIError(str(exc)) from None
            except Exception as exc:
                if deadline.expired:
                    raise FabricAPIError(
                        f'The Kubernetes API at {target} did not send its whole answer within '
                        f'{deadline_seconds:g} s {doing} (timeout).',
                        timed_out=True,
                    ) from None
                error = explain(
                    exc, target=target, doing=doing, connect_timeout=connect_timeout, read_timeout=deadline_seconds
                )
                if error is None:
                    error = self._unexpected(exc, doing)
                raise error from None
            finally:
                if response is not None:
                    # An abandoned body is never drained: the connection goes, not the rest of the body.
                    if deadline.expired or not response.isclosed():
                        response.close()
                    response.release_conn()
        if not ok:
            raise explain_status(response.status, body, target=target, doing=doing)
        try:
            return decoder(body)
        except ValueError:
            raise FabricAPIError(
                f'The Kubernetes API at {target} sent a malformed response {doing} (not valid JSON).'
            ) from None

    @staticmethod
    def _error_body(response):
        """The body of an error answer as far as a Kubernetes Status needs; a longer one is not a Status."""
        try:
            return read_capped(response, ERROR_BODY_BYTES)
        except BodyTooLarge:
            return b''

    def _unexpected(self, exc, doing):
        """A generic error for an exception nobody expected; its traceback goes to the log, secrets cut out."""
        reference = uuid.uuid4().hex[:8]
        trace = ''.join(traceback.format_exception(exc))
        for secret in self.settings.secrets():
            trace = trace.replace(secret, '[secret removed]')
        logger.error('Unexpected error %s %s (reference %s):\n%s', doing, self.settings.target, reference, trace)
        return FabricAPIError(
            f'An unexpected error occurred {doing} at {self.settings.target}; the NetBox log ("netbox_hedgehog" '
            f'logger) has the details under reference {reference}.'
        )

    def version(self, timeout=None):
        return self._get('while reading its version', '/version/', timeout=timeout)

    def api_groups(self, timeout=None):
        return self._get('while listing its API groups', '/apis/', timeout=timeout)

    def api_resources(self, group, version, timeout=None):
        return self._get(
            f'while listing the resources of {group}/{version}',
            '/apis/{group}/{version}',
            path_params={'group': group, 'version': version},
            timeout=timeout,
        )

    def list_page(self, info, namespace, *, limit, continue_token=None, timeout=None):
        """
        One page of a kind's objects: the list body with "items" and "metadata.continue". An item that cannot be
        decoded is an UndecodableItem in "items"; the others are not lost with it.
        """
        query = [('limit', limit)]
        if continue_token:
            query.append(('continue', continue_token))
        return self._get(
            f'while listing {info.kind} objects ({info.resource})',
            '/apis/{group}/{version}/namespaces/{namespace}/{plural}',
            path_params={'group': info.group, 'version': info.version, 'namespace': namespace, 'plural': info.plural},
            query=query,
            timeout=timeout,
            decoder=decode_list,
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
            yield FabricAPI(
                api_client,
                settings,
                request_timeout(),
                int(get_plugin_config('netbox_hedgehog', 'kubernetes_max_page_bytes')),
            )
        finally:
            api_client.close()
