from importlib.metadata import PackageNotFoundError, version

from netbox.plugins import PluginConfig

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
    # Every tunable, documented in README.md ("Configuration"). Override under PLUGINS_CONFIG['netbox_hedgehog'].
    default_settings = {
        # Keys encrypting the fabrics' tokens and kubeconfigs at rest: the first encrypts, all decrypt (rotation).
        # Empty: a key derived from NetBox's SECRET_KEY. See docs/security.md.
        'secret_keys': [],
        # Allow http:// Kubernetes API servers (the token then crosses the network unencrypted). Labs only.
        'allow_plain_http': False,
        # CIDRs the Kubernetes API servers' addresses must lie in; empty allows any, except link-local.
        'allowed_server_networks': [],
        # Kubernetes API calls (seconds).
        'kubernetes_connect_timeout': 5,
        # Seconds from sending a request to the last byte of its response (a deadline, not a per-read timeout).
        'kubernetes_read_timeout': 30,
        # Bytes a single response (one page of a listing) may hold; a larger one fails that kind's listing.
        'kubernetes_max_page_bytes': 64 * 1024 * 1024,
        # Objects requested per page when listing a kind.
        'kubernetes_page_size': 500,
        # Sync run records kept per fabric; older ones are pruned after each run.
        'sync_run_retention': 100,
        # Names of changed objects stored per run record.
        'sync_changed_names_cap': 200,
        # Where the scheduler's due runs go: "thread" runs them in the scheduler process (scheduler_thread_pool_size
        # threads); "rq" hands them to RQ workers on the queue netbox_hedgehog.sync. See docs/operations.md.
        'sync_executor': 'thread',
        # The user NetBox's change log attributes inventory changes to; created (unable to log in) when missing.
        'inventory_user': 'hedgehog-sync',
        # Scheduler process.
        'scheduler_thread_pool_size': 4,
        'scheduler_poll_interval': 5,
        'scheduler_reconcile_interval': 300,
        'scheduler_heartbeat_interval': 5,
        'scheduler_heartbeat_timeout': 30,
        'scheduler_shutdown_grace_period': 30,
        # False: no LISTEN, notices are only polled (for poolers such as PgBouncer in transaction mode).
        'scheduler_listen': True,
    }

    def ready(self):
        super().ready()
        from . import signals, widgets  # noqa: F401
        from .kinds import KINDS, check_models

        check_models(KINDS)


config = HedgehogConfig
