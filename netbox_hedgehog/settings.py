"""
Every plugin setting, declared once: its type, default and allowed range.

PluginConfig.default_settings is built from this table, and PluginConfig.ready() checks the whole of
PLUGINS_CONFIG['netbox_hedgehog'] against it, so a bad value stops NetBox (and the scheduler, and every command) at
start with a message naming the key, the value and what is allowed, instead of failing the first sync that reads
it. Code reads a setting through plugin_setting(), which knows only declared names. README.md and
docs/configuration.md document each setting.
"""

import ipaddress
import re
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from netbox.plugins import get_plugin_config

__all__ = ('SETTINGS', 'Setting', 'declared_defaults', 'plugin_setting', 'validate_settings')

PLUGIN = 'netbox_hedgehog'
DOTTED_PATH = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+')
USERNAME = re.compile(r'[\w.@+-]{1,150}')


@dataclass(frozen=True)
class Setting:
    """
    One setting. `kind` is one of: 'integer', 'number' (integer or decimal), 'boolean', 'choice' (one of
    `choices`), 'dotted path' (empty allowed), 'secret strings' (a list of strings of at least `minimum`
    characters, never echoed), 'networks' (a list of CIDRs), 'username' (a NetBox username: 1 to 150 letters,
    digits and @.+-_).
    """

    name: str
    default: object
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()

    def allowed(self):
        """What a valid value looks like, in words."""
        if self.kind in ('integer', 'number'):
            noun = 'an integer' if self.kind == 'integer' else 'a number'
            return f'{noun} from {plain(self.minimum)} to {plain(self.maximum)}'
        if self.kind == 'secret strings':
            return f'a list of strings of at least {plain(self.minimum)} characters'
        if self.kind == 'choice':
            return 'one of ' + ', '.join(repr(choice) for choice in self.choices)
        return {
            'boolean': 'True or False',
            'dotted path': 'empty, or the dotted path of a function (package.module.function)',
            'networks': 'a list of networks in CIDR notation, such as "10.0.0.0/8"',
            'username': 'a username of 1 to 150 letters, digits and @.+-_',
        }[self.kind]

    def is_valid(self, value):
        if self.kind in ('integer', 'number'):
            types = (int,) if self.kind == 'integer' else (int, float)
            return (
                isinstance(value, types) and not isinstance(value, bool) and self.minimum <= value <= self.maximum
            )
        if self.kind == 'boolean':
            return isinstance(value, bool)
        if self.kind == 'choice':
            return isinstance(value, str) and value in self.choices
        if self.kind == 'dotted path':
            return isinstance(value, str) and (value == '' or DOTTED_PATH.fullmatch(value) is not None)
        if self.kind == 'secret strings':
            return isinstance(value, list | tuple) and all(
                isinstance(item, str) and len(item) >= self.minimum for item in value
            )
        if self.kind == 'username':
            return isinstance(value, str) and USERNAME.fullmatch(value) is not None
        return isinstance(value, list | tuple) and all(is_network(item) for item in value)

    def describe(self, value):
        """The value as an error message may show it: never a secret, never more than a line."""
        if self.kind == 'secret strings':
            return '(not shown: it holds secrets)'
        text = repr(value)
        return text if len(text) <= 80 else text[:79] + '…'


def plain(number):
    """1000000 rather than 1e+06, 0.1 as 0.1."""
    return str(int(number)) if float(number).is_integer() else str(number)


def is_network(value):
    try:
        ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


SECONDS_PER_DAY = 86400

SETTINGS = (
    # Keys encrypting the fabrics' tokens and kubeconfigs at rest: the first encrypts, all decrypt (rotation).
    # Empty: a key derived from NetBox's SECRET_KEY. See docs/security.md.
    Setting('secret_keys', [], 'secret strings', minimum=32),
    # Allow http:// Kubernetes API servers (the token then crosses the network unencrypted). Labs only.
    Setting('allow_plain_http', False, 'boolean'),
    # CIDRs the Kubernetes API servers' addresses must lie in; empty allows any, except link-local.
    Setting('allowed_server_networks', [], 'networks'),
    # Seconds to open a connection to a Kubernetes API.
    Setting('kubernetes_connect_timeout', 5, 'number', minimum=0.1, maximum=300),
    # Seconds from sending a request to the last byte of its response (a deadline, not a per-read timeout).
    Setting('kubernetes_read_timeout', 30, 'number', minimum=0.1, maximum=3600),
    # Bytes a single response (one page of a listing) may hold; a larger one fails that kind's listing.
    Setting('kubernetes_max_page_bytes', 64 * 1024 * 1024, 'integer', minimum=1024, maximum=4 * 1024**3),
    # Objects requested per page when listing a kind.
    Setting('kubernetes_page_size', 500, 'integer', minimum=1, maximum=100_000),
    # Sync run records kept per fabric; older ones are pruned after each run.
    Setting('sync_run_retention', 100, 'integer', minimum=1, maximum=1_000_000),
    # Names of changed objects stored per run record.
    Setting('sync_changed_names_cap', 200, 'integer', minimum=0, maximum=1_000_000),
    # Development and tests only: dotted path of a function(fabric, run) replacing the mirroring step.
    Setting('sync_mirror_step', '', 'dotted path'),
    # Where the scheduler's due runs go: "thread" runs them in the scheduler process (scheduler_thread_pool_size
    # threads); "rq" hands them to RQ workers on the queue netbox_hedgehog.sync. See docs/operations.md.
    Setting('sync_executor', 'thread', 'choice', choices=('thread', 'rq')),
    # The user NetBox's change log attributes inventory changes to; created (unable to log in) when missing.
    Setting('inventory_user', 'hedgehog-sync', 'username'),
    # Scheduler process.
    Setting('scheduler_thread_pool_size', 4, 'integer', minimum=1, maximum=256),
    Setting('scheduler_poll_interval', 5, 'number', minimum=0.1, maximum=SECONDS_PER_DAY),
    Setting('scheduler_reconcile_interval', 300, 'number', minimum=1, maximum=SECONDS_PER_DAY),
    Setting('scheduler_heartbeat_interval', 5, 'number', minimum=0.1, maximum=3600),
    # Must exceed scheduler_heartbeat_interval (checked below), or every leader would count as gone.
    Setting('scheduler_heartbeat_timeout', 30, 'number', minimum=0.2, maximum=SECONDS_PER_DAY),
    Setting('scheduler_shutdown_grace_period', 30, 'number', minimum=0, maximum=SECONDS_PER_DAY),
    # False: no LISTEN, notices are only polled (for poolers such as PgBouncer in transaction mode).
    Setting('scheduler_listen', True, 'boolean'),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}


def declared_defaults():
    """PluginConfig.default_settings: every setting with its default (lists copied, so nobody shares them)."""
    return {
        setting.name: list(setting.default) if isinstance(setting.default, list) else setting.default
        for setting in SETTINGS
    }


def key(name):
    return f'PLUGINS_CONFIG["{PLUGIN}"]["{name}"]'


def validate_settings(config):
    """Raise ImproperlyConfigured for the first problem in the plugin's configuration (a dict of its settings)."""
    if not isinstance(config, dict):
        raise ImproperlyConfigured(f'PLUGINS_CONFIG["{PLUGIN}"] must be a dict of settings.')
    unknown = sorted(str(name) for name in config if name not in BY_NAME)
    if unknown:
        raise ImproperlyConfigured(
            f'{key(unknown[0])} is not a setting of the plugin; the settings are: {", ".join(BY_NAME)}.'
        )
    for setting in SETTINGS:
        value = config.get(setting.name, setting.default)
        if not setting.is_valid(value):
            raise ImproperlyConfigured(
                f'{key(setting.name)} = {setting.describe(value)} is not allowed: it must be {setting.allowed()}.'
            )
    interval = config.get('scheduler_heartbeat_interval', BY_NAME['scheduler_heartbeat_interval'].default)
    timeout = config.get('scheduler_heartbeat_timeout', BY_NAME['scheduler_heartbeat_timeout'].default)
    if timeout <= interval:
        raise ImproperlyConfigured(
            f'{key("scheduler_heartbeat_timeout")} = {timeout!r} is not allowed: it must be greater than '
            f'scheduler_heartbeat_interval ({interval!r}), preferably several times it.'
        )


def plugin_setting(name):
    """The configured value of a declared setting (validated at start)."""
    if name not in BY_NAME:
        raise KeyError(f'{name} is not a setting of the plugin')
    return get_plugin_config(PLUGIN, name)
