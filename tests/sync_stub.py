"""
A stand-in for the mirroring step (netbox_hedgehog.sync.engine) in scheduler tests and the benchmark, set as the
plugin setting `sync_mirror_step` by tests.scheduler_configuration.

The scheduler does not care what a sync does, only that it runs when it should; this one succeeds after the
number of seconds given in the fabric's description as "stub-sync-seconds=<n>" (0 when absent).
"""

import re
import time

__all__ = ('STUB_DURATION_PATTERN', 'mirror_fabric', 'stub_description')

STUB_DURATION_PATTERN = re.compile(r'stub-sync-seconds=(\d+(?:\.\d+)?)')


def stub_description(seconds):
    return f'stub-sync-seconds={seconds}'


def mirror_fabric(fabric, run):
    match = STUB_DURATION_PATTERN.search(fabric.description or '')
    if match:
        time.sleep(float(match.group(1)))
