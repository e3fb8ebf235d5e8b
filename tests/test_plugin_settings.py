"""Plugin settings are checked once, at start: a bad value stops NetBox with a message naming key, value and range."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from netbox_hedgehog import HedgehogConfig
from netbox_hedgehog.settings import SETTINGS, declared_defaults, validate_settings

NETBOX = str(Path(sys.executable).with_name('netbox'))
SECRET = 'k' * 31 + '-never-show-this-secret-key'

# For every setting, values that must be refused, and what the message must say is allowed.
BAD_VALUES = {
    'secret_keys': ([SECRET[:31]], 'secret_keys', 'a list of strings of at least 32 characters'),
    'allow_plain_http': ('yes', 'allow_plain_http', 'True or False'),
    'allowed_server_networks': (['10.0.0.0/33'], 'allowed_server_networks', 'a list of networks in CIDR notation'),
    'kubernetes_connect_timeout': (0, 'kubernetes_connect_timeout', 'a number from 0.1 to 300'),
    'kubernetes_read_timeout': (-1, 'kubernetes_read_timeout', 'a number from 0.1 to 3600'),
    'kubernetes_max_page_bytes': (512, 'kubernetes_max_page_bytes', 'an integer from 1024 to 4294967296'),
    'kubernetes_page_size': (0, 'kubernetes_page_size', 'an integer from 1 to 100000'),
    'sync_run_retention': (0, 'sync_run_retention', 'an integer from 1 to 1000000'),
    'sync_changed_names_cap': (-5, 'sync_changed_names_cap', 'an integer from 0 to 1000000'),
    'sync_mirror_step': ('not a path', 'sync_mirror_step', 'the dotted path of a function'),
    'sync_executor': ('celery', 'sync_executor', "one of 'thread', 'rq'"),
    'inventory_user': ('no spaces allowed', 'inventory_user', 'a username of 1 to 150 letters'),
    'scheduler_thread_pool_size': (0, 'scheduler_thread_pool_size', 'an integer from 1 to 256'),
    'scheduler_poll_interval': (0, 'scheduler_poll_interval', 'a number from 0.1 to 86400'),
    'scheduler_reconcile_interval': (10**6, 'scheduler_reconcile_interval', 'a number from 1 to 86400'),
    'scheduler_heartbeat_interval': (0, 'scheduler_heartbeat_interval', 'a number from 0.1 to 3600'),
    'scheduler_heartbeat_timeout': (3, 'scheduler_heartbeat_timeout', 'greater than scheduler_heartbeat_interval'),
    'scheduler_shutdown_grace_period': (-1, 'scheduler_shutdown_grace_period', 'a number from 0 to 86400'),
    'scheduler_listen': (1, 'scheduler_listen', 'True or False'),
}
# Wrong types are refused too, not coerced.
WRONG_TYPES = [
    ('secret_keys', SECRET),
    ('allowed_server_networks', '10.0.0.0/8'),
    ('allowed_server_networks', [10]),
    ('kubernetes_page_size', 2.5),
    ('kubernetes_page_size', '500'),
    ('kubernetes_read_timeout', True),
    ('scheduler_thread_pool_size', None),
    ('sync_mirror_step', None),
    ('sync_executor', ['rq']),
    ('inventory_user', ''),
]


def test_every_setting_is_declared_once_and_has_a_bad_value_case():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    assert HedgehogConfig.default_settings == declared_defaults()
    assert set(BAD_VALUES) == set(names)


def test_the_defaults_and_the_boundaries_are_valid():
    validate_settings({})
    validate_settings(declared_defaults())
    for setting in SETTINGS:
        if setting.kind in ('integer', 'number'):
            for value in (setting.minimum, setting.maximum):
                value = int(value) if setting.kind == 'integer' else value
                config = {setting.name: value}
                if setting.name == 'scheduler_heartbeat_interval':
                    config['scheduler_heartbeat_timeout'] = value * 2
                if setting.name == 'scheduler_heartbeat_timeout':
                    config['scheduler_heartbeat_interval'] = 0.1
                validate_settings(config)
    validate_settings({
        'secret_keys': [SECRET], 'allowed_server_networks': ['10.0.0.0/8', 'fd00::/8'],
        'sync_mirror_step': 'tests.sync_stub.mirror_fabric', 'kubernetes_read_timeout': 12.5,
    })


@pytest.mark.parametrize('name', sorted(BAD_VALUES))
def test_a_bad_value_is_refused_naming_key_value_and_range(name):
    value, named, allowed = BAD_VALUES[name]
    with pytest.raises(ImproperlyConfigured) as raised:
        validate_settings({name: value})
    message = str(raised.value)
    assert f'PLUGINS_CONFIG["netbox_hedgehog"]["{named}"]' in message
    assert allowed in message
    if name == 'secret_keys':
        assert SECRET[:31] not in message and 'not shown' in message
    else:
        assert repr(value) in message


@pytest.mark.parametrize(('name', 'value'), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_refused(name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        validate_settings({name: value})


def test_an_unknown_key_is_refused():
    with pytest.raises(ImproperlyConfigured, match=r'\["scheduler_pool_size"\] is not a setting') as raised:
        validate_settings({'scheduler_pool_size': 8})
    assert 'scheduler_thread_pool_size' in str(raised.value)


def test_a_long_value_is_cut_in_the_message():
    with pytest.raises(ImproperlyConfigured) as raised:
        validate_settings({'sync_mirror_step': 'x ' * 500})
    assert len(str(raised.value)) < 300


def test_netbox_does_not_start_with_a_bad_setting():
    """The real start: `netbox check` loads the plugin, whose ready() refuses the value."""
    env = dict(
        os.environ,
        NETBOX_CONFIGURATION='tests.scheduler_configuration',
        HEDGEHOG_PLUGIN_CONFIG=json.dumps({'scheduler_thread_pool_size': 0}),
    )
    result = subprocess.run([NETBOX, 'check'], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert 'PLUGINS_CONFIG["netbox_hedgehog"]["scheduler_thread_pool_size"] = 0 is not allowed' in result.stderr
    assert 'an integer from 1 to 256' in result.stderr
    env['HEDGEHOG_PLUGIN_CONFIG'] = json.dumps({'scheduler_thread_pool_size': 8})
    result = subprocess.run([NETBOX, 'check'], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
