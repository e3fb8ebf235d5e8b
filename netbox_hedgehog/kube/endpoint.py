"""
Which Kubernetes API servers a fabric may talk to: the one policy applied when a fabric is saved and again when a
connection is built.

- The URL is `https://host[:port][/path]`: no user info, query or fragment (a trailing "#" or "?" would let the
  URL choose another path than the client appends). `http://` only with the plugin setting `allow_plain_http`.
- The server's addresses must lie in `allowed_server_networks` (CIDRs; empty allows any). Link-local addresses
  (169.254.0.0/16, fe80::/10: cloud metadata services) are refused unless a listed network contains them.
  Loopback is allowed by the default (empty) list, so a port-forwarded lab fabric on 127.0.0.1 works.
"""

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import URLValidator
from netbox.plugins import get_plugin_config

__all__ = ('EndpointRefused', 'check_address', 'check_server_url', 'resolve_and_check')

_url_syntax = URLValidator(schemes=['http', 'https'])


class EndpointRefused(ValueError):
    """The server URL or one of its addresses is not allowed; the message says why, in a user's words."""


def check_server_url(url):
    """Return the URL's SplitResult if it has the allowed form; raise EndpointRefused otherwise."""
    try:
        _url_syntax(url)
    except ValidationError:
        raise EndpointRefused('Enter the Kubernetes API server as https://host[:port][/path], for example '
                              'https://10.0.0.1:6443.')
    parts = urlsplit(url)
    if parts.scheme == 'http' and not get_plugin_config('netbox_hedgehog', 'allow_plain_http'):
        raise EndpointRefused('The Kubernetes API server must be reached over https:// (plain http:// would send '
                              'the token unencrypted; the setting allow_plain_http permits it for labs).')
    if '@' in parts.netloc:
        raise EndpointRefused('The server URL must not carry user information (user@host).')
    if '?' in url or '#' in url:
        raise EndpointRefused('The server URL must not have a query (?) or a fragment (#).')
    try:
        parts.port
    except ValueError:
        raise EndpointRefused('The server URL has an invalid port.')
    return parts


@lru_cache(maxsize=8)
def _networks(configured):
    try:
        return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in configured)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f'PLUGINS_CONFIG["netbox_hedgehog"]["allowed_server_networks"]: {exc}')


def allowed_networks():
    configured = get_plugin_config('netbox_hedgehog', 'allowed_server_networks') or ()
    if isinstance(configured, str):
        raise ImproperlyConfigured('PLUGINS_CONFIG["netbox_hedgehog"]["allowed_server_networks"] must be a list.')
    return _networks(tuple(configured))


def check_address(address):
    """Raise EndpointRefused if the fabric may not connect to this IP address."""
    ip = ipaddress.ip_address(address.split('%', 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    networks = allowed_networks()
    listed = any(ip in network for network in networks if network.version == ip.version)
    if ip.is_link_local and not listed:
        raise EndpointRefused(f'The Kubernetes API server address {ip} is link-local (where cloud metadata services '
                              'live); list its network in allowed_server_networks to allow it.')
    if networks and not listed:
        raise EndpointRefused(f'The Kubernetes API server address {ip} is outside allowed_server_networks.')


def resolve_and_check(url, *, unresolvable_ok):
    """
    Resolve the URL's host and check every address it resolves to. A name that does not resolve is an error at
    connect time, and is let through at save time (unresolvable_ok), where the network may not be reachable yet.
    """
    parts = check_server_url(url)
    port = parts.port or (443 if parts.scheme == 'https' else 80)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        if unresolvable_ok:
            return
        raise EndpointRefused(f'DNS lookup failed for {parts.hostname}: the name does not resolve.')
    for address in sorted(addresses):
        check_address(address)
