"""Turn failures of Kubernetes API calls into messages a network engineer can act on."""

import re
import socket
import ssl
from http import HTTPStatus

from kubernetes.client.exceptions import ApiException
from urllib3 import exceptions as urllib3_errors

from .decode import decode

__all__ = ('STATUS_MESSAGE_LIMIT', 'FabricAPIError', 'explain', 'explain_status', 'status_message')

# OpenSSL's reason code in an ssl error, e.g. "[SSL: UNSUPPORTED_PROTOCOL] ...": a fixed vocabulary, safe to quote.
_OPENSSL_REASON = re.compile(r'\[SSL: ([A-Z0-9_]{1,64})\]')
# How much of a Kubernetes Status message a report quotes.
STATUS_MESSAGE_LIMIT = 300
# OpenSSL alerts by which a server refuses the client certificate (TLS 1.2 and 1.3).
CLIENT_CERTIFICATE_ALERTS = ('ALERT_BAD_CERTIFICATE', 'ALERT_UNKNOWN_CA', 'ALERT_CERTIFICATE_REQUIRED',
                             'ALERT_CERTIFICATE_EXPIRED', 'ALERT_CERTIFICATE_UNKNOWN', 'ALERT_HANDSHAKE_FAILURE')


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


def status_message(body):
    """
    The message of a Kubernetes Status body, on one line and shortened to STATUS_MESSAGE_LIMIT characters; '' for
    any other body. Only a Status is the API's own explanation: anything else (a proxy's error page, a foreign
    application's JSON) is never quoted.
    """
    try:
        document = decode(body or b'')
    except ValueError:
        return ''
    if not isinstance(document, dict) or document.get('kind') != 'Status':
        return ''
    message = document.get('message')
    if not isinstance(message, str):
        return ''
    message = ' '.join(''.join(c if c.isprintable() else ' ' for c in message).split())
    if len(message) > STATUS_MESSAGE_LIMIT:
        message = message[: STATUS_MESSAGE_LIMIT - 1] + '\u2026'
    return message


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
    code = _OPENSSL_REASON.search(text)
    return f'the TLS handshake failed ({code.group(1)})' if code else 'the TLS handshake failed'


def _client_certificate_refused(text):
    """Whether a TLS failure is the server refusing our client certificate (or asking for one we lack)."""
    text = str(text).upper()
    return any(alert in text for alert in CLIENT_CERTIFICATE_ALERTS)


def _reason_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return 'error'


def explain_status(status, body, *, target, doing):
    """A FabricAPIError for an HTTP error answer; `body` is quoted only as far as it is a Kubernetes Status."""
    detail = status_message(body)
    suffix = f': {detail}' if detail else ''
    if status == 401:
        return FabricAPIError(
            f'The Kubernetes API at {target} rejected the credentials (401 Unauthorized): the token or client '
            'certificate is wrong, expired or revoked.',
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
            f'The Kubernetes API at {target} failed {doing} (HTTP {status} {_reason_phrase(status)}){suffix}.',
            status=status,
        )
    return FabricAPIError(
        f'The Kubernetes API answered HTTP {status} {_reason_phrase(status)} {doing}{suffix}.', status=status
    )


def explain(exc, *, target, doing, connect_timeout, read_timeout):
    """
    Return a FabricAPIError for a failure of the transport of a Kubernetes API call, or None for an exception
    that is not one (the caller reports it generically and logs it).

    target: "host:port" of the API server; doing: what was being done ("while listing Switch objects ...").
    """
    if isinstance(exc, FabricAPIError):
        return exc
    if isinstance(exc, ApiException) and exc.status == 0:
        # The client reports TLS failures as a status-less ApiException.
        return _tls_error(exc.reason, target)
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
        return FabricAPIError(f'Cannot connect to the Kubernetes API at {target}.', cluster_wide=True)
    if isinstance(exc, urllib3_errors.ConnectTimeoutError):
        return FabricAPIError(
            f'Timed out connecting to the Kubernetes API at {target} (no answer within {connect_timeout:g} s): '
            'the host is down or a firewall drops the traffic.',
            cluster_wide=True,
            timed_out=True,
        )
    if isinstance(exc, (urllib3_errors.ReadTimeoutError, socket.timeout)):
        return FabricAPIError(
            f'The Kubernetes API at {target} did not send its whole answer within {read_timeout:g} s {doing} '
            '(timeout).',
            timed_out=True,
        )
    if isinstance(exc, (urllib3_errors.SSLError, ssl.SSLError)):
        return _tls_error(exc, target)
    if isinstance(exc, (urllib3_errors.ProtocolError, ConnectionError)):
        if _client_certificate_refused(exc):
            return _tls_error(exc, target)
        return FabricAPIError(f'The Kubernetes API at {target} dropped the connection {doing}.')
    if isinstance(exc, urllib3_errors.HTTPError):
        return FabricAPIError(f'The Kubernetes API at {target} could not be reached {doing}.')
    return None


def _tls_error(text, target):
    if _client_certificate_refused(text):
        return FabricAPIError(
            f'The Kubernetes API at {target} refused the client certificate during the TLS handshake: it is not '
            "signed by a CA the server trusts, has expired, or is missing. Check the kubeconfig's client "
            'certificate.',
            cluster_wide=True,
        )
    return FabricAPIError(
        f'TLS verification failed for the Kubernetes API at {target}: {_tls_reason(text)}. '
        "Check the fabric's CA certificate.",
        cluster_wide=True,
    )
