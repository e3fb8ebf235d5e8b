"""The sync engine: list every Hedgehog kind of a fabric, diff by uid, and apply in one transaction.

`sync_fabric(fabric_id, trigger)` is the one entry point, used by the scheduler, `netbox hedgehog_sync` and tests.
"""

from .lock import SyncAlreadyRunning, is_sync_running
from .runner import SyncNotStarted, mark_interrupted, recover_interrupted_syncs, sync_fabric

__all__ = (
    'SyncAlreadyRunning',
    'SyncNotStarted',
    'is_sync_running',
    'mark_interrupted',
    'recover_interrupted_syncs',
    'sync_fabric',
)
