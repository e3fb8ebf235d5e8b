"""The scheduler's tunables, read once at start from the plugin's settings (declared in netbox_hedgehog.settings)."""

from dataclasses import dataclass, fields

from netbox_hedgehog.settings import plugin_setting

__all__ = ('SchedulerSettings',)


@dataclass(frozen=True)
class SchedulerSettings:
    """The `scheduler_*` settings without their prefix, and `sync_executor`; NetBox's start validated them already."""

    executor: str
    thread_pool_size: int
    poll_interval: float
    reconcile_interval: float
    heartbeat_interval: float
    heartbeat_timeout: float
    shutdown_grace_period: float
    listen: bool

    @classmethod
    def from_plugin_config(cls):
        return cls(
            executor=plugin_setting('sync_executor'),
            **{
                field.name: plugin_setting(f'scheduler_{field.name}')
                for field in fields(cls)
                if field.name != 'executor'
            },
        )
