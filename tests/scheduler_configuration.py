"""
NetBox configuration for the scheduler processes that tests and the benchmark start.

The development configuration, plus two switches read from the environment:
- HEDGEHOG_PLUGIN_CONFIG: JSON for PLUGINS_CONFIG['netbox_hedgehog'] (short heartbeats, grace periods, ...).
- HEDGEHOG_SYNC_STUB=1: the mirroring step (the plugin setting `sync_mirror_step`) becomes tests.sync_stub, so each
  run goes through the real sync runner (lock, run record, fabric state) and takes as long as the fabric asks,
  without any Kubernetes API.
"""

import json
import os

from devtools.netbox_configuration import *  # noqa: F403

STUB_MIRROR_STEP = {'sync_mirror_step': 'tests.sync_stub.mirror_fabric'}

PLUGINS_CONFIG = {
    'netbox_hedgehog': {
        **PLUGINS_CONFIG['netbox_hedgehog'],  # noqa: F405
        **(STUB_MIRROR_STEP if os.environ.get('HEDGEHOG_SYNC_STUB') == '1' else {}),
        **json.loads(os.environ.get('HEDGEHOG_PLUGIN_CONFIG') or '{}'),
    },
}
