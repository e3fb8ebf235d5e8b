"""Injected failures, per resource (plural, Kind, singular, short name or `plural.group`) or for every request.

Fault names:
  401        answer 401 Unauthorized, as for a revoked token
  403        answer 403 Forbidden with the RBAC message for the user, verb, resource and namespace
  404        behave as if the resource's CRD were not installed (404, and gone from discovery)
  500        answer 500 InternalError
  slow       wait `delay` seconds, then answer normally (any fault may also carry a delay)
  drop       close the connection without sending a response
  malformed  answer 200 with a body that is not valid JSON
Faults that break a paged list after its first page fire only on requests that carry a continue token (a first
page, or a request for anything else, passes through and does not count towards `times`):
  410              answer 410 Expired, as for a token whose snapshot etcd compacted away
  repeat-continue  answer the page, but hand back the request's own continue token: the list never ends
  overlap          answer the page starting one item early: the previous page's last object is listed twice
A fault lasts until cleared, or for `times` matching requests. A fault for a resource wins over a global one.
"""

import threading
from dataclasses import dataclass

FAULT_NAMES = ('401', '403', '404', '500', 'slow', 'drop', 'malformed', '410', 'repeat-continue', 'overlap')
CONTINUE_FAULTS = frozenset({'410', 'repeat-continue', 'overlap'})
DEFAULT_SLOW_DELAY = 2.0


@dataclass
class Fault:
    name: str
    target: str | None  # a resource reference, lower case; None for every request
    delay: float = 0.0
    remaining: int | None = None  # None: until cleared

    def as_dict(self) -> dict:
        return {'fault': self.name, 'kind': self.target, 'delay': self.delay, 'times': self.remaining}


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults: dict[str | None, Fault] = {}

    def set(
        self, fault: str, kind: str | None = None, *, delay: float | None = None, times: int | None = None
    ) -> Fault:
        fault = str(fault).lower()
        if fault not in FAULT_NAMES:
            raise ValueError(f'unknown fault {fault!r}; known faults: {", ".join(FAULT_NAMES)}')
        if times is not None and times < 1:
            raise ValueError('times must be at least 1')
        if delay is None:
            delay = DEFAULT_SLOW_DELAY if fault == 'slow' else 0.0
        if delay < 0:
            raise ValueError('delay must not be negative')
        entry = Fault(fault, kind.lower() if kind else None, float(delay), times)
        with self._lock:
            self._faults[entry.target] = entry
        return entry

    def clear(self, kind: str | None = None, *, everything: bool = True):
        """Clear all faults, or with `everything=False` only the one for `kind` (None: the global one)."""
        with self._lock:
            if everything:
                self._faults.clear()
            else:
                self._faults.pop(kind.lower() if kind else None, None)

    def active(self) -> list[dict]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults.values()]

    def _for(self, resource) -> Fault | None:
        if resource is not None:
            for target, fault in self._faults.items():
                if target is not None and resource.answers_to(target):
                    return fault
        return self._faults.get(None)

    def take(self, resource, *, continued: bool = False) -> Fault | None:
        """
        The fault that applies to a request for `resource` (None: a discovery request), counting one use.
        `continued`: the request carries a continue token; the faults of CONTINUE_FAULTS apply to no other.
        """
        with self._lock:
            fault = self._for(resource)
            if fault is not None and fault.name in CONTINUE_FAULTS and not continued:
                return None
            if fault is not None and fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[fault.target]
            return fault

    def hides(self, resource) -> bool:
        """Whether discovery should leave `resource` out because a `404` fault is set for it."""
        with self._lock:
            return any(
                target is not None and fault.name == '404' and resource.answers_to(target)
                for target, fault in self._faults.items()
            )
