"""Validation of fabric connection settings, shared by the model, the forms and the API serializers."""

from dataclasses import dataclass

import yaml
from cryptography import x509
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _

SYNC_INTERVAL_MIN = 5
SYNC_INTERVAL_MAX = 604800  # one week

sync_interval_validators = [
    MinValueValidator(SYNC_INTERVAL_MIN, _('The sync interval must be at least %(limit_value)s seconds.')),
    MaxValueValidator(SYNC_INTERVAL_MAX, _('The sync interval must be at most %(limit_value)s seconds (one week).')),
]

kubernetes_server_validator = URLValidator(
    schemes=['http', 'https'],
    message=_('Enter the Kubernetes API server as an http(s) URL, for example https://10.0.0.1:6443.'),
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
    """The parts of a kubeconfig that a fabric uses: exactly one cluster, one user and the context joining them."""

    context: str
    cluster: dict
    user: dict

    @property
    def server(self):
        return self.cluster.get('server', '')


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


def parse_kubeconfig(text):
    """Parse and check a kubeconfig; return the cluster, user and context the fabric will use."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, 'problem', None) or 'invalid syntax'
        raise ValidationError(_('The kubeconfig is not valid YAML: {problem}.').format(problem=problem))
    if not isinstance(document, dict):
        raise ValidationError(_('The kubeconfig must be a YAML mapping with clusters, users and contexts.'))

    cluster = _named_entries(document, 'clusters', 'cluster')
    user = _named_entries(document, 'users', 'user')
    cluster_body = cluster.get('cluster')
    if not isinstance(cluster_body, dict) or not cluster_body.get('server'):
        raise ValidationError(_('The kubeconfig cluster "{name}" has no server.').format(name=cluster['name']))
    try:
        kubernetes_server_validator(cluster_body['server'])
    except ValidationError:
        raise ValidationError(
            _('The kubeconfig cluster server "{server}" is not an http(s) URL.').format(server=cluster_body['server'])
        )

    contexts = document.get('contexts') or []
    if not isinstance(contexts, list) or not contexts:
        raise ValidationError(_('The kubeconfig names no context.'))
    wanted = document.get('current-context') or (contexts[0].get('name') if len(contexts) == 1 else None)
    if not wanted:
        raise ValidationError(_('The kubeconfig has several contexts but no current-context to choose one.'))
    context = next((c for c in contexts if isinstance(c, dict) and c.get('name') == wanted), None)
    if context is None:
        raise ValidationError(_('The kubeconfig current-context "{name}" is not defined.').format(name=wanted))
    body = context.get('context') or {}
    if body.get('cluster') != cluster['name'] or body.get('user') != user['name']:
        raise ValidationError(
            _('The kubeconfig context "{name}" must refer to cluster "{cluster}" and user "{user}".').format(
                name=wanted, cluster=cluster['name'], user=user['name']
            )
        )
    return Kubeconfig(context=wanted, cluster=cluster_body, user=user.get('user') or {})


def validate_kubeconfig(value):
    if value:
        parse_kubeconfig(value)
