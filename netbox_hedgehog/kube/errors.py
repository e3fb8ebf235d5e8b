"""Turn failures of Kubernetes API calls into messages a network engineer can act on."""

import json
import socket
import ssl

from kubernetes.client.exceptions import ApiException
from urllib3 import exceptions as urllib3_errors

__all__ = ('FabricAPIError', 'explain')


class FabricAPIError(Exception):
    """
    A call to a fabric's Kubernetes API failed; str() is the explanation.

    `cluster_wide` marks failures that no other call to the same API could escape (the server cannot be reached or
    rejects the credentials), so a sync stops at the first one instead of repeating it for every kind.
    """

    def __init__(self, message, *, status=None, cluster_wide=False, timed_out=False):
        super().__init__(message)
        self.status = status
        self.cluster_wide = cluster_wide
        self.timed_out = timed_out


def _status_message(exc):
    """The server's own explanation from a Kubernetes Status body, if it sent one."""
    try:
        body = json.loads(exc.body or '')
    except (TypeError, ValueError):
        return ''
    return body.get('message', '') if isinstance(body, dict) else ''


def _tls_reason(text):
    text = str(text)
    marker = 'certificate verify failed:'
    if marker in text:
        reason = text.split(marker, 1)[1].split(')', 1)[0].strip()
        return f'the server certificate could not be verified ({reason})'
    if 'WRONG_VERSION_NUMBER' in text or 'wrong version number' in text:
        return 'the server does not speak TLS on this port (is the URL http rather than https?)'
    if "doesn't match" in text or 'Hostname mismatch' in text:
        return 'the server certificate does not name this host'
    return text.replace('\n', ' ').strip()


def _api_exception(exc, target, doing):
    status = exc.status
    detail = _status_message(exc)
    suffix = f': {detail}' if detail else ''
    if status == 0:
        # The client reports TLS failures as a status-less ApiException.
        return FabricAPIError(
            f'TLS verification failed for the Kubernetes API at {target}: {_tls_reason(exc.reason)}. '
            "Check the fabric's CA certificate.",
            cluster_wide=True,
        )
    if status == 401:
        return FabricAPIError(
            f'The Kubernetes API at {target} rejected the token (401 Unauthorized): the token is wrong, expired '
            'or revoked.',
            status=status,
            cluster_wide=True,
        )
    if status == 403:
        return FabricAPIError(
            f"The Kubernetes API refused the fabric's credentials {doing} (403 Forbidden){suffix}. Grant get and "
            'list on it to the account the fabric uses.',
            status=status,
        )
    if status == 404:
        return FabricAPIError(
            f'The Kubernetes API answered 404 Not Found {doing}: it is not installed.', status=status
        )
    if status == 410:
        return FabricAPIError(
            f'The Kubernetes API expired the paged list {doing} (410 Gone); the next sync starts over.',
            status=status,
        )
    if status == 429:
        return FabricAPIError(f'The Kubernetes API is overloaded and refused {doing} (429 Too Many Requests).',
                              status=status)
    if status >= 500:
        return FabricAPIError(
            f'The Kubernetes API at {target} failed {doing} (HTTP {status} {exc.reason}){suffix}.', status=status
        )
    return FabricAPIError(f'The Kubernetes API answered HTTP {status} {exc.reason} {doing}{suffix}.', status=status)


def explain(exc, *, target, doing, connect_timeout, read_timeout):
    """
    Return a FabricAPIError for an exception raised by a Kubernetes API call.

    target: "host:port" of the API server; doing: what was being done ("while listing Switch objects ...").
    """
    if isinstance(exc, FabricAPIError):
        return exc
    if isinstance(exc, ApiException):
        return _api_exception(exc, target, doing)
    host = target.rsplit(':', 1)[0]
    if isinstance(exc, urllib3_errors.NameResolutionError):
        return FabricAPIError(
            f'Cannot resolve the Kubernetes API host name "{host}" (DNS lookup failed). Check the server URL and '
            "NetBox's DNS.",
            cluster_wide=True,
        )
    if isinstance(exc, urllib3_errors.NewConnectionError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ConnectionRefusedError) or 'refused' in str(exc).lower():
            return FabricAPIError(
                f'Connection refused by {target}: nothing listens there, or a firewall rejects the connection.',
                cluster_wide=True,
            )
        return FabricAPIError(f'Cannot connect to the Kubernetes API at {target}: {exc}', cluster_wide=True)
    if isinstance(exc, urllib3_errors.ConnectTimeoutError):
        return FabricAPIError(
            f'Timed out connecting to the Kubernetes API at {target} (no answer within {connect_timeout:g} s): '
            'the host is down or a firewall drops the traffic.',
            cluster_wide=True,
            timed_out=True,
        )
    if isinstance(exc, (urllib3_errors.ReadTimeoutError, socket.timeout)):
        return FabricAPIError(
            f'The Kubernetes API at {target} did not answer within {read_timeout:g} s {doing} (read timeout).',
            timed_out=True,
        )
    if isinstance(exc, (urllib3_errors.SSLError, ssl.SSLError)):
        return FabricAPIError(
            f'TLS verification failed for the Kubernetes API at {target}: {_tls_reason(exc)}. '
            "Check the fabric's CA certificate.",
            cluster_wide=True,
        )
    if isinstance(exc, (urllib3_errors.ProtocolError, ConnectionError)):
        return FabricAPIError(f'The Kubernetes API at {target} dropped the connection {doing}.')
    if isinstance(exc, urllib3_errors.HTTPError):
        return FabricAPIError(f'The Kubernetes API at {target} could not be reached {doing}: {exc}')
    raise exc
