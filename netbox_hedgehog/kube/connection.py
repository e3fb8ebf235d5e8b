"""
Test a fabric's connection settings: can NetBox reach its Kubernetes API, which Hedgehog kinds does it serve, and
may the fabric's credentials list each of them. The whole test is bounded by TEST_BUDGET seconds.
"""

import time
from dataclasses import asdict, dataclass, field

from ..kinds import HEDGEHOG_GROUPS, KINDS
from .client import connection_settings, fabric_api
from .errors import FabricAPIError

__all__ = ('ConnectionReport', 'KindAccess', 'test_connection')

# Seconds a connection test may take in all, so that a form or API request waiting on it stays responsive.
TEST_BUDGET = 5.0


@dataclass
class KindAccess:
    kind: str
    resource: str
    installed: bool = False
    can_list: bool = False
    message: str = ''


@dataclass
class ConnectionReport:
    ok: bool = False
    server: str = ''
    server_version: str = ''
    # {API group: served by the cluster}
    groups: dict = field(default_factory=dict)
    kinds: list = field(default_factory=list)
    error: str = ''

    def as_dict(self):
        return asdict(self)


class _Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def timeout(self, configured):
        """(connect, read) for the next call: the configured timeouts, cut to the time left."""
        left = self.end - time.monotonic()
        if left <= 0.05:
            raise FabricAPIError(
                f'The Kubernetes API did not finish answering the connection test within {self.seconds:g} s '
                '(timeout).'
            )
        return min(configured[0], left), min(configured[1], left)


def _served_groups(body):
    """{group name: preferred version} from an APIGroupList."""
    groups = {}
    for group in (body or {}).get('groups') or []:
        if isinstance(group, dict) and group.get('name'):
            versions = [v.get('version') for v in group.get('versions') or [] if isinstance(v, dict)]
            groups[group['name']] = versions
    return groups


def _check_kinds(api, deadline, report, namespace):
    served = _served_groups(api.api_groups(timeout=deadline.timeout(api.timeout)))
    plurals = {}
    for group, version in HEDGEHOG_GROUPS.items():
        report.groups[group] = version in served.get(group, [])
        if report.groups[group]:
            body = api.api_resources(group, version, timeout=deadline.timeout(api.timeout))
            plurals[group] = {r.get('name') for r in (body or {}).get('resources') or [] if isinstance(r, dict)}
    for info in KINDS:
        access = KindAccess(kind=info.kind, resource=info.resource)
        report.kinds.append(access)
        access.installed = info.plural in plurals.get(info.group, set())
        if not access.installed:
            access.message = f'{info.resource} is not installed on this cluster.'
            continue
        try:
            api.list_page(info, namespace, limit=1, timeout=deadline.timeout(api.timeout))
        except FabricAPIError as exc:
            if exc.cluster_wide or exc.timed_out:
                raise
            access.message = str(exc)
            continue
        access.can_list = True


def test_connection(fabric):
    """Return a ConnectionReport for the fabric. Never raises for connection problems: they are the report."""
    report = ConnectionReport()
    deadline = _Deadline(TEST_BUDGET)
    try:
        settings = connection_settings(fabric)
        report.server = settings.server
        with fabric_api(fabric, settings) as api:
            version = api.version(timeout=deadline.timeout(api.timeout))
            report.server_version = str((version or {}).get('gitVersion', '')) if isinstance(version, dict) else ''
            _check_kinds(api, deadline, report, fabric.kubernetes_namespace)
    except FabricAPIError as exc:
        report.error = str(exc)
        return report
    denied = [access for access in report.kinds if access.installed and not access.can_list]
    if denied:
        report.error = ' '.join(access.message for access in denied)
    elif not any(access.installed for access in report.kinds):
        report.error = 'The cluster serves none of the Hedgehog API groups.'
    report.ok = not report.error
    return report


# Not a pytest test, whatever its name says.
test_connection.__test__ = False
