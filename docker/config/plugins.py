"""Enable netbox-hedgehog in a netbox-docker image.

netbox-docker loads every `*.py` file under /etc/netbox/config/; this one turns the plugin on and passes its
settings through from the environment: `NETBOX_HEDGEHOG_<KEY>` sets `PLUGINS_CONFIG['netbox_hedgehog'][<key>]`,
for example `NETBOX_HEDGEHOG_SCHEDULER_THREAD_POOL_SIZE=8`. Values are read as JSON (numbers, true/false), or
taken as plain text when they are not JSON. Keys not set here keep the plugin's defaults.
"""

import json
import os

SETTINGS_PREFIX = 'NETBOX_HEDGEHOG_'


def _setting(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


PLUGINS = ['netbox_hedgehog']

PLUGINS_CONFIG = {
    'netbox_hedgehog': {
        name[len(SETTINGS_PREFIX):].lower(): _setting(value)
        for name, value in os.environ.items()
        if name.startswith(SETTINGS_PREFIX)
    },
}
