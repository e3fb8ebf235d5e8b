"""A Kubernetes API stand-in serving Hedgehog custom resources, for tests, benchmarks and the demo.

Not part of the shipped plugin: it runs from the repository checkout (`python -m k8s_standin`) or in-process
(`StandinServer`). It speaks the real Kubernetes REST shapes for custom resources (discovery, list with
pagination, get, Status errors), derives its API surface from CRD manifests and can inject faults.
"""

from k8s_standin.faults import FAULT_NAMES
from k8s_standin.manifests import default_crd_paths, load_manifests, sample_paths
from k8s_standin.server import StandinServer
from k8s_standin.store import ObjectNotFound, UnknownKind

__all__ = [
    'FAULT_NAMES',
    'ObjectNotFound',
    'StandinServer',
    'UnknownKind',
    'default_crd_paths',
    'load_manifests',
    'sample_paths',
]
