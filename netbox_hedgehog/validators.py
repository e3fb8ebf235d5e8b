"""Validation of fabric connection settings, shared by the model, the forms and the API serializers."""

import base64
import re
from dataclasses import dataclass

import yaml
from cryptography import x509
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from .kube.endpoint import EndpointRefused, resolve_and_check

SYNC_INTERVAL_MIN = 5
SYNC_INTERVAL_MAX = 604800  # one week

sync_interval_validators = [
    MinValueValidator(SYNC_INTERVAL_MIN, _('The sync interval must be at least %(limit_value)s seconds.')),
    MaxValueValidator(SYNC_INTERVAL_MAX, _('The sync interval must be at most %(limit_value)s seconds (one week).')),
]

# A bearer token is one line of printable ASCII without whitespace: what goes after "Bearer " in a header.
TOKEN_PATTERN = re.compile(r'[\x21-\x7e]+')
TOKEN_MAX_LENGTH = 16384


def validate_kubernetes_server(value):
    """The URL form and, when the name resolves now, its addresses (see kube/endpoint.py)."""
    if not value:
        return
    try:
        resolve_and_check(value, unresolvable_ok=True)
    except EndpointRefused as exc:
        raise ValidationError(str(exc))


def validate_token(value):
    if not value:
        return
    if len(value) > TOKEN_MAX_LENGTH or not TOKEN_PATTERN.fullmatch(value):
        raise ValidationError(
            _('The token must be one line of printable ASCII characters without spaces (at most {max}).').format(
                max=TOKEN_MAX_LENGTH
            )
        )


kubernetes_namespace_validator = RegexValidator(
    r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
    _('A Kubernetes namespace is a lowercase RFC 1123 label, for example "default".'),
)


def validate_ca_certificate(value):
    """Accept one or more PEM certificates; anything that does not parse is rejected."""
    if not value:
        return
    try:
        certificates = x509.load_pem_x509_certificates(value.encode())
    except ValueError:
        raise ValidationError(
            _('The CA certificate is not a valid PEM certificate (expected "-----BEGIN CERTIFICATE-----").')
        )
    if not certificates:
        raise ValidationError(_('The CA certificate holds no certificate.'))


@dataclass(frozen=True)
class Kubeconfig:
    """
    What a fabric uses of a kubeconfig: one cluster, one user and the context joining them, with the embedded
    certificates decoded. Holds secrets: never log it.
    """

    context: str
    server: str
    token: str = ''
    ca_pem: str = ''
    skip_tls_verify: bool = False
    client_certificate_pem: str = ''
    client_key_pem: str = ''

    def __repr__(self):
        return f'Kubeconfig(context={self.context!r}, server={self.server!r})'


# Ways of authenticating that NetBox cannot use (programs to run, plugins, passwords) and references to files on
# NetBox's own disk, which a fabric editor could otherwise make the plugin read and send.
REFUSED_USER_KEYS = ('exec', 'auth-provider', 'tokenFile', 'username', 'password')
FILE_KEYS = {'cluster': ('certificate-authority',), 'user': ('client-certificate', 'client-key', 'tokenFile')}


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_('The kubeconfig {what} must be a mapping.').format(what=what))
    return value


def _named_entries(document, key, singular):
    entries = document.get(key) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get('name') for e in entries):
        raise ValidationError(_('The kubeconfig "{key}" must be a list of named entries.').format(key=key))
    if len(entries) != 1:
        raise ValidationError(
            _('The kubeconfig must name exactly one {singular} (found {count}).').format(
                singular=singular, count=len(entries)
            )
        )
    return entries[0]


def _refuse_keys(cluster, user):
    for section, entry in (('cluster', cluster), ('user', user)):
        for key in FILE_KEYS[section]:
            if key in entry:
                embedded = 'token' if key == 'tokenFile' else f'{key}-data'
                raise ValidationError(
                    _('The kubeconfig {section} refers to a file for "{key}"; NetBox reads no files: embed it as '
                      '"{embedded}" instead.').format(section=section, key=key, embedded=embedded)
                )
    unsupported = [key for key in REFUSED_USER_KEYS if key in user]
    if unsupported:
        raise ValidationError(
            _('The kubeconfig user authenticates with {keys}, which NetBox cannot use; give it a token or an '
              'embedded client certificate.').format(keys=', '.join(unsupported))
        )


def _embedded_pem(entry, key):
    data = entry.get(f'{key}-data')
    if data in (None, ''):
        return ''
    try:
        return base64.b64decode(str(data), validate=True).decode('ascii')
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_('The kubeconfig "{key}-data" is not base64-encoded PEM text.').format(key=key))


def parse_kubeconfig(text):
    """
    Parse and check a kubeconfig; return what the fabric will use. The one validator of kubeconfigs: the fabric's
    save and every connection go through it, so nothing is accepted at save time that a connection would refuse.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, 'problem', None) or 'invalid syntax'
        raise ValidationError(_('The kubeconfig is not valid YAML: {problem}.').format(problem=problem))
    except RecursionError:
        raise ValidationError(_('The kubeconfig is nested too deeply.'))
    if not isinstance(document, dict):
        raise ValidationError(_('The kubeconfig must be a YAML mapping with clusters, users and contexts.'))
    _mapping(document.get('preferences'), 'preferences')

    cluster = _named_entries(document, 'clusters', 'cluster')
    user = _named_entries(document, 'users', 'user')
    cluster_body = _mapping(cluster.get('cluster'), 'cluster')
    user_body = _mapping(user.get('user'), 'user')
    _refuse_keys(cluster_body, user_body)

    server = cluster_body.get('server')
    if not server or not isinstance(server, str):
        raise ValidationError(_('The kubeconfig cluster "{name}" has no server.').format(name=cluster['name']))
    validate_kubernetes_server(server)
    skip_tls_verify = cluster_body.get('insecure-skip-tls-verify', False)
    if not isinstance(skip_tls_verify, bool):
        raise ValidationError(_('The kubeconfig "insecure-skip-tls-verify" must be true or false (not a string).'))
    token = user_body.get('token') or ''
    if not isinstance(token, str):
        raise ValidationError(_('The kubeconfig user token must be a string.'))
    validate_token(token)
    ca_pem = _embedded_pem(cluster_body, 'certificate-authority')
    validate_ca_certificate(ca_pem)
    client_certificate_pem = _embedded_pem(user_body, 'client-certificate')
    client_key_pem = _embedded_pem(user_body, 'client-key')
    if bool(client_certificate_pem) != bool(client_key_pem):
        raise ValidationError(_('The kubeconfig user needs both client-certificate-data and client-key-data.'))

    contexts = document.get('contexts') or []
    if not isinstance(contexts, list) or not contexts:
        raise ValidationError(_('The kubeconfig names no context.'))
    wanted = document.get('current-context') or (
        contexts[0].get('name') if len(contexts) == 1 and isinstance(contexts[0], dict) else None
    )
    if not wanted:
        raise ValidationError(_('The kubeconfig has several contexts but no current-context to choose one.'))
    context = next((c for c in contexts if isinstance(c, dict) and c.get('name') == wanted), None)
    if context is None:
        raise ValidationError(_('The kubeconfig current-context "{name}" is not defined.').format(name=wanted))
    body = _mapping(context.get('context'), 'context')
    if body.get('cluster') != cluster['name'] or body.get('user') != user['name']:
        raise ValidationError(
            _('The kubeconfig context "{name}" must refer to cluster "{cluster}" and user "{user}".').format(
                name=wanted, cluster=cluster['name'], user=user['name']
            )
        )
    return Kubeconfig(
        context=str(wanted),
        server=server,
        token=token,
        ca_pem=ca_pem,
        skip_tls_verify=skip_tls_verify,
        client_certificate_pem=client_certificate_pem,
        client_key_pem=client_key_pem,
    )


def validate_kubeconfig(value):
    if value:
        parse_kubeconfig(value)
