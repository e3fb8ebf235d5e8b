"""The plugin's commands serve no web request, so none of them waits for Django's web-side system checks."""

import importlib
import pkgutil

import netbox_hedgehog.management.commands as commands
from netbox_hedgehog.management.base import NonWebCommand


def test_every_plugin_command_skips_the_web_side_system_checks():
    names = [module.name for module in pkgutil.iter_modules(commands.__path__)]
    assert {'hedgehog_jobs', 'hedgehog_sync', 'hedgehog_scheduler'} <= set(names)
    for name in names:
        command = importlib.import_module(f'{commands.__name__}.{name}').Command
        assert issubclass(command, NonWebCommand), name
        assert command.requires_system_checks == [], name
