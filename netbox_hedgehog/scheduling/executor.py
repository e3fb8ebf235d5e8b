"""
Whether the configured executor can run syncs at all, for the scheduler page, `hedgehog_jobs` and `--check`.

Under "rq" a leader that queues runs nobody takes would look healthy while nothing syncs; this says so instead:
no live worker on the queue is a problem, and so is an unreachable Redis. Read-only, like the job store's read model.
"""

from dataclasses import dataclass

from ..settings import plugin_setting
from ..sync.queued import QUEUE_NAME, live_workers, sync_queue, waiting_count

__all__ = ('ExecutorState', 'executor_state')


@dataclass(frozen=True)
class ExecutorState:
    name: str
    queue: str = ''
    workers: int | None = None  # live RQ workers on the queue; None under "thread" or when Redis is unreachable
    waiting: int | None = None  # runs waiting in the queue
    problem: str = ''


def executor_state():
    name = plugin_setting('sync_executor')
    if name != 'rq':
        return ExecutorState(name=name)
    try:
        queue = sync_queue()
        workers = len(live_workers(queue))
        waiting = waiting_count(queue)
    except Exception as exc:
        # Redis errors carry only the address; never more than a line.
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return ExecutorState(name=name, queue=QUEUE_NAME, problem=f'cannot read the RQ queue {QUEUE_NAME}: {reason}')
    problem = ''
    if not workers:
        problem = (
            f'no RQ worker serves the queue {QUEUE_NAME}, so no sync runs ({waiting} waiting); '
            f'start one with "netbox rqworker {QUEUE_NAME}"'
        )
    return ExecutorState(name=name, queue=QUEUE_NAME, workers=workers, waiting=waiting, problem=problem)
