from importlib.metadata import PackageNotFoundError, version

from django.conf import settings as django_settings
from netbox.plugins import PluginConfig

from .settings import declared_defaults, validate_settings

try:
    __version__ = version('netbox-hedgehog')
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = '0.0.0'


class HedgehogConfig(PluginConfig):
    name = 'netbox_hedgehog'
    verbose_name = 'Hedgehog Fabrics'
    description = 'Mirror Hedgehog Open Network Fabrics into NetBox and keep each fabric in sync on its own interval'
    version = __version__
    author = 'netbox-hedgehog developers'
    base_url = 'hedgehog'
    min_version = '4.7.0'
    # The RQ queue "netbox_hedgehog.sync" that runs the syncs when sync_executor is "rq".
    queues = ['sync']
    # Every tunable with its type, default and range is declared in settings.py and documented in README.md
    # ("Configuration") and docs/configuration.md. Override under PLUGINS_CONFIG['netbox_hedgehog'].
    default_settings = declared_defaults()

    def ready(self):
        # First, so a bad value stops NetBox at start with a message naming it rather than failing a sync later.
        validate_settings(django_settings.PLUGINS_CONFIG.get(self.name, {}))
        super().ready()
        from . import signals, widgets  # noqa: F401
        from .kinds import KINDS, check_models

        check_models(KINDS)


config = HedgehogConfig
