"""The stand-in's own HTTP API under /_standin/, for tests and tools that run the stand-in as a subprocess.

  GET    /_standin/state                          {"resourceVersion", "counts": {Kind: n}, "installed": [...],
                                                   "faults": [...]}
  POST   /_standin/faults                         {"fault": "403", "kind": "vpcs" | null, "delay": s, "times": n}
  DELETE /_standin/faults[?kind=vpcs]             clear all faults, or only the one for a kind ("global" for the
                                                   global fault)
  POST   /_standin/objects                        an object, a list of objects or {"items": [...]}: upsert each
  PATCH  /_standin/objects/{kind}/{ns}/{name}     {"spec"|"status"|"labels"|"annotations": merge patch}
  DELETE /_standin/objects/{kind}/{ns}/{name}     delete (use "-" as {ns} for a cluster-scoped kind)
  DELETE /_standin/crds/{group-or-kind}           uninstall a CRD (a whole group, or one kind) and its objects
  POST   /_standin/compact                        expire every outstanding continue token

Requests need `Authorization: Bearer <admin token>` when the server has an admin token (by default its API token).
Answers are JSON; errors are {"error": message} with 400, 401 or 404.
"""

import hmac
import json
from dataclasses import dataclass

from k8s_standin.store import ObjectNotFound, UnknownKind, to_json

PREFIX = '/_standin/'


@dataclass(frozen=True)
class AdminResponse:
    code: int
    body: bytes


class AdminError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def _ok(document, code: int = 200) -> AdminResponse:
    return AdminResponse(code, to_json(document))


class AdminApi:
    def __init__(self, standin, token: str | None):
        self.standin = standin  # the StandinServer, whose Python API this mirrors
        self.token = token

    def handle(
        self, method: str, path: str, query: dict[str, str], authorization: str | None, body: bytes
    ) -> AdminResponse:
        try:
            self._authenticate(authorization)
            parts = [part for part in path[len(PREFIX) :].split('/') if part]
            return self._route(method, parts, query, self._json(body))
        except AdminError as error:
            return AdminResponse(error.code, to_json({'error': str(error)}))
        except (ValueError, UnknownKind) as error:
            return AdminResponse(400, to_json({'error': str(error)}))
        except (ObjectNotFound, LookupError) as error:
            return AdminResponse(404, to_json({'error': str(error).strip("'")}))

    def _authenticate(self, authorization: str | None):
        if self.token is None:
            return
        scheme, _, credential = (authorization or '').partition(' ')
        if scheme.lower() != 'bearer' or not hmac.compare_digest(credential.strip().encode(), self.token.encode()):
            raise AdminError(401, 'Unauthorized')

    @staticmethod
    def _json(body: bytes):
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError as error:
            raise AdminError(400, f'body is not JSON: {error}') from None

    def _route(self, method: str, parts: list[str], query: dict[str, str], payload) -> AdminResponse:
        standin = self.standin
        match method, parts:
            case 'GET', ['state']:
                return _ok(standin.state())
            case 'POST', ['faults']:
                payload = payload or {}
                if 'fault' not in payload:
                    raise AdminError(400, 'body needs "fault"')
                fault = standin.set_fault(
                    payload.get('kind'), payload['fault'], delay=payload.get('delay'), times=payload.get('times')
                )
                return _ok(fault, 201)
            case 'DELETE', ['faults']:
                if 'kind' in query:
                    kind = query['kind']
                    standin.clear_faults(None if kind in ('', 'global') else kind)
                else:
                    standin.clear_faults()
                return _ok({'faults': standin.faults()})
            case 'POST', ['objects']:
                objects = payload.get('items') if isinstance(payload, dict) and 'items' in payload else payload
                if isinstance(objects, dict):
                    objects = [objects]
                if not isinstance(objects, list) or not all(isinstance(obj, dict) for obj in objects):
                    raise AdminError(400, 'body must be an object, a list of objects or {"items": [...]}')
                return _ok({'items': [standin.upsert(obj) for obj in objects]})
            case 'PATCH', ['objects', kind, namespace, name]:
                parts_to_patch = payload if isinstance(payload, dict) else {}
                unknown = set(parts_to_patch) - {'spec', 'status', 'labels', 'annotations'}
                if unknown or not parts_to_patch:
                    raise AdminError(400, 'body must hold some of "spec", "status", "labels", "annotations"')
                namespace = None if namespace == '-' else namespace
                return _ok(standin.patch(kind, name, namespace, **parts_to_patch))
            case 'DELETE', ['objects', kind, namespace, name]:
                return _ok(standin.delete(kind, name, None if namespace == '-' else namespace))
            case 'DELETE', ['crds', reference]:
                removed = standin.uninstall(reference)
                if not removed:
                    raise AdminError(404, f'no installed CRD matches {reference!r}')
                return _ok({'uninstalled': removed})
            case 'POST', ['compact']:
                standin.compact()
                return _ok({'resourceVersion': str(standin.resource_version)})
        raise AdminError(404, f'no admin endpoint {method} {PREFIX}{"/".join(parts)}')
