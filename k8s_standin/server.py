"""StandinServer: the Kubernetes API stand-in as one object, for tests (in-process) and for the CLI.
Typical use in a test:

server = StandinServer(objects=sample_paths(), token='t').start()
... kubernetes client against server.url ...
server.set_fault('vpcs', '403'); server.upsert(vpc); server.delete('vpcs', 'vpc-1')
server.stop()
"""

import base64
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import yaml

from k8s_standin.admin import AdminApi
from k8s_standin.api import DEFAULT_USER, KubernetesApi
from k8s_standin.crds import ApiRegistry, ResourceType
from k8s_standin.faults import FaultBook
from k8s_standin.httpd import StandinHttpServer
from k8s_standin.manifests import default_crd_paths, load_manifests
from k8s_standin.store import DEFAULT_NAMESPACE, ObjectStore, UnknownKind
from k8s_standin.tls import DEFAULT_HOSTS, ClientCertificate, client_certificate, make_certificates, server_context

logger = logging.getLogger('k8s_standin')

_ALL = object()


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _expand_objects(objects) -> list[dict]:
    """Objects given as dicts, or as manifest files and directories (str or Path), in order."""
    if objects is None:
        return []
    if isinstance(objects, str | Path | dict):
        objects = [objects]
    expanded = []
    for entry in objects:
        if isinstance(entry, dict):
            expanded.append(entry)
        else:
            expanded.extend(load_manifests([entry]))
    return expanded


class StandinServer:
    """A Kubernetes API server stand-in serving custom resources from the given CRDs.

    crd_paths: CRD manifest files or directories (default: the shipped fixtures); `crds` takes manifests as
    dicts instead. objects: dicts and/or manifest paths to load; objects whose kind has no CRD here are skipped
    (listed in `skipped`). token: bearer token every API request must carry (None: no authentication).
    admin_token: token of the /_standin/ admin API (default: `token`). tls: serve HTTPS with a fresh CA
    (`ca_pem`), whose PEM is also written to `ca_out` when given. client_auth (with tls): accept only clients that
    present a certificate signed by that CA (see `client_certificate()`). port 0 picks a free port at `start()`.
    """

    def __init__(
        self,
        crd_paths: Iterable[str | Path] | None = None,
        objects=None,
        *,
        crds: Iterable[dict] | None = None,
        host: str = '127.0.0.1',
        port: int = 0,
        token: str | None = None,
        admin_token: str | None = None,
        tls: bool = False,
        ca_out: str | Path | None = None,
        user: str = DEFAULT_USER,
        tls_hosts: Iterable[str] = DEFAULT_HOSTS,
        client_auth: bool = False,
    ):
        if client_auth and not tls:
            raise ValueError('client certificates need TLS')
        self.client_auth = client_auth
        self.host = host
        self.port = port
        self.registry = ApiRegistry()
        if crds is None:
            crds = load_manifests(default_crd_paths() if crd_paths is None else list(crd_paths))
        for crd in crds:
            self.registry.install(crd)
        self.store = ObjectStore(self.registry)
        self._faults = FaultBook()
        self.skipped = self.load(objects)
        tls_hosts = tuple(tls_hosts)
        if host not in tls_hosts and host not in ('', '0.0.0.0'):
            tls_hosts += (host,)
        self.certificates = make_certificates(tls_hosts) if tls else None
        self.ca_out = Path(ca_out) if ca_out else None
        self.api = KubernetesApi(
            self.registry,
            self.store,
            self._faults,
            token=token,
            user=user,
            server_address=lambda: f'{self.host}:{self.port}',
        )
        self.admin = AdminApi(self, admin_token if admin_token is not None else token)
        self.token = token
        self._httpd: StandinHttpServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> 'StandinServer':
        if self._httpd is not None:
            raise RuntimeError('the stand-in is already running')
        context = server_context(self.certificates, client_auth=self.client_auth) if self.certificates else None
        self._httpd = StandinHttpServer((self.host, self.port), self.api, self.admin, context)
        self.port = self._httpd.server_address[1]
        if self.ca_out and self.certificates:
            self.ca_out.parent.mkdir(parents=True, exist_ok=True)
            self.ca_out.write_text(self.certificates.ca_pem)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={'poll_interval': 0.1},
            name=f'k8s-standin:{self.port}',
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.disconnect_clients()
        httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self):
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        host = '127.0.0.1' if self.host in ('', '0.0.0.0') else self.host
        host = f'[{host}]' if ':' in host else host
        return f'{"https" if self.certificates else "http"}://{host}:{self.port}'

    @property
    def ca_pem(self) -> str | None:
        return self.certificates.ca_pem if self.certificates else None

    # Objects

    def _resource(self, kind: str | ResourceType) -> ResourceType:
        if isinstance(kind, ResourceType):
            return kind
        resource = self.registry.find(kind)
        if resource is None:
            raise UnknownKind(f'no installed resource answers to {kind!r}')
        return resource

    def load(self, objects) -> list[str]:
        """Upsert objects (dicts or manifest paths); returns `apiVersion/kind` of those skipped for lack of a CRD."""
        skipped = self.store.upsert_many(_expand_objects(objects), skip_unknown=True)
        if skipped:
            logger.info('skipped %d objects whose CRD is not installed: %s', len(skipped), sorted(set(skipped)))
        return skipped

    def upsert(self, obj: dict) -> dict:
        """Create or replace one object; returns it as stored (uid, resourceVersion, generation ...)."""
        return self.store.upsert(obj)

    def patch(
        self,
        kind: str,
        name: str,
        namespace: str | None = DEFAULT_NAMESPACE,
        *,
        spec=None,
        status=None,
        labels=None,
        annotations=None,
    ) -> dict:
        """JSON-merge-patch the spec, status, labels and/or annotations of an object."""
        return self.store.patch(
            self._resource(kind), name, namespace, spec=spec, status=status, labels=labels, annotations=annotations
        )

    def put_raw(self, kind: str, name: str, body: bytes, namespace: str | None = DEFAULT_NAMESPACE):
        """Serve `body` verbatim as the object `name` in the kind's lists (for hostile-object tests)."""
        self.store.put_raw(self._resource(kind), namespace, name, body)

    def delete(self, kind: str, name: str, namespace: str | None = DEFAULT_NAMESPACE) -> dict:
        return self.store.delete(self._resource(kind), name, namespace)

    def get(self, kind: str, name: str, namespace: str | None = DEFAULT_NAMESPACE) -> dict | None:
        item = self.store.item(self._resource(kind), namespace, name)
        return item.load() if item else None

    def objects(self, kind: str) -> list[dict]:
        """Copies of every object of a kind (plural, Kind, singular, short name), sorted by namespace and name."""
        return self.store.objects(self._resource(kind))

    @property
    def resource_version(self) -> int:
        return self.store.resource_version

    def compact(self):
        """Expire every outstanding continue token (the next page answers 410 Expired)."""
        self.store.compact()

    # API surface

    def install(self, crd: dict) -> str:
        return self.registry.install(crd).name

    def uninstall(self, group_or_kind: str) -> list[str]:
        """Uninstall the CRDs of a group, or one kind's CRD; their objects go too. Returns the CRD names."""
        removed = self.registry.uninstall(group_or_kind)
        for resource in removed:
            self.store.drop_kind(resource)
        return [resource.name for resource in removed]

    def installed(self) -> list[str]:
        return [resource.name for resource in self.registry.resources()]

    # Faults

    def set_fault(
        self, kind: str | None = None, fault: str = '500', *, delay: float | None = None, times: int | None = None
    ) -> dict:
        """Inject a fault for one resource (plural, Kind, ...) or, with kind None, for every API request."""
        return self._faults.set(fault, kind, delay=delay, times=times).as_dict()

    def clear_faults(self, kind=_ALL):
        """Clear every fault, or only the one set for `kind` (None: only the global one)."""
        if kind is _ALL:
            self._faults.clear()
        else:
            self._faults.clear(kind, everything=False)

    def faults(self) -> list[dict]:
        return self._faults.active()

    # Reporting

    def counts(self) -> dict[str, int]:
        """Number of objects per Kind."""
        kinds = {resource.name: resource.kind for resource in self.registry.resources()}
        return {kinds[name]: count for name, count in sorted(self.store.counts().items()) if name in kinds}

    def state(self) -> dict:
        return {
            'url': self.url,
            'resourceVersion': str(self.resource_version),
            'counts': self.counts(),
            'installed': self.installed(),
            'faults': self.faults(),
        }

    def client_certificate(self, user: str = DEFAULT_USER) -> ClientCertificate:
        """A client certificate for `user`, signed by this server's CA."""
        if self.certificates is None:
            raise RuntimeError('the stand-in serves plain HTTP: it has no CA')
        return client_certificate(self.certificates, user)

    def kubeconfig(
        self,
        path: str | Path | None = None,
        *,
        token: str | None = None,
        certificate: ClientCertificate | None = None,
    ) -> dict:
        """
        A kubeconfig for this server (cluster, user, context), optionally written to `path`. The user carries the
        token, and `certificate` (embedded as client-certificate-data and client-key-data) when given.
        """
        cluster = {'server': self.url}
        if self.ca_pem:
            cluster['certificate-authority-data'] = _base64(self.ca_pem)
        user = {'token': token or self.token} if (token or self.token) else {}
        if certificate is not None:
            user['client-certificate-data'] = _base64(certificate.certificate_pem)
            user['client-key-data'] = _base64(certificate.key_pem)
        config = {
            'apiVersion': 'v1',
            'kind': 'Config',
            'clusters': [{'name': 'k8s-standin', 'cluster': cluster}],
            'users': [{'name': 'k8s-standin', 'user': user}],
            'contexts': [{'name': 'k8s-standin', 'context': {'cluster': 'k8s-standin', 'user': 'k8s-standin'}}],
            'current-context': 'k8s-standin',
        }
        if path is not None:
            path = Path(path)
            path.touch(mode=0o600)
            path.write_text(yaml.safe_dump(config, sort_keys=False))
        return config
