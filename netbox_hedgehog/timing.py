"""
Where a sync's time goes, phase by phase, for the benchmarks (bench/sync_bench.py, bench/inventory_bench.py) to
print. The mirror and the inventory step both report here, so it belongs to neither package.

Timing is collected only while a caller holds record_phases(); otherwise phase() costs one context-variable read.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ('PHASES', 'phase', 'record_phases')

# In the order a run goes through them.
PHASES = ('listing', 'diff', 'writes', 'references', 'search cache', 'history', 'inventory', 'run record')

_current = ContextVar('sync_phase_timings', default=None)


@contextmanager
def record_phases():
    """Collect {phase: seconds} of the syncs run inside the block into the dict it yields."""
    timings = {}
    token = _current.set(timings)
    try:
        yield timings
    finally:
        _current.reset(token)


@contextmanager
def phase(name):
    timings = _current.get()
    if timings is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
