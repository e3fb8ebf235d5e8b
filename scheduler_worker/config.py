"""The scheduler's tunables, read once at start from PLUGINS_CONFIG['netbox_hedgehog'] (see README.md)."""

from dataclasses import dataclass, fields

from netbox.plugins import get_plugin_config

__all__ = ('SchedulerSettings',)


@dataclass(frozen=True)
class SchedulerSettings:
    thread_pool_size: int
    poll_interval: float
    reconcile_interval: float
    heartbeat_interval: float
    heartbeat_timeout: float
    shutdown_grace_period: float
    listen: bool

    @classmethod
    def from_plugin_config(cls):
        return cls(**{
            field.name: get_plugin_config('netbox_hedgehog', f'scheduler_{field.name}') for field in fields(cls)
        })
