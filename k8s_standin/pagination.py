"""Continue tokens in the API server's own format: URL-safe unpadded base64 of
`{"v":"meta.k8s.io/v1","rv":<list resourceVersion>,"start":"<key after the last returned item>\\u0000"}`.

Clients must treat the token as opaque; using the real layout keeps error texts and behaviour identical.
"""

import base64
import binascii
import json
from dataclasses import dataclass

TOKEN_VERSION = 'meta.k8s.io/v1'
LATEST = -1


class InvalidContinueToken(ValueError):
    """Malformed token: the API server answers 400 BadRequest `invalid continue token: <this message>`."""


@dataclass(frozen=True)
class ContinuePosition:
    resource_version: int
    start_key: str


def encode_continue(resource_version: int, last_key: str) -> str:
    payload = json.dumps(
        {'v': TOKEN_VERSION, 'rv': resource_version, 'start': last_key + '\x00'}, separators=(',', ':')
    )
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b'=').decode()


def decode_continue(token: str) -> ContinuePosition:
    try:
        raw = base64.urlsafe_b64decode(token + '=' * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidContinueToken(f'continue key is not valid: illegal base64 data: {error}') from None
    try:
        decoded = json.loads(raw)
    except ValueError as error:
        raise InvalidContinueToken(f'continue key is not valid: {error}') from None
    if not isinstance(decoded, dict) or decoded.get('v') != TOKEN_VERSION:
        version = decoded.get('v') if isinstance(decoded, dict) else None
        raise InvalidContinueToken(
            f'continue key is not valid: server does not recognize this encoded version {version}'
        )
    resource_version = decoded.get('rv')
    # -1 is what the server itself puts in the token of a 410 answer: "continue on the latest data".
    if not isinstance(resource_version, int) or (resource_version <= 0 and resource_version != LATEST):
        raise InvalidContinueToken(
            'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'
        )
    start = decoded.get('start')
    if not isinstance(start, str) or not start:
        raise InvalidContinueToken('continue key is not valid: encoded start key empty')
    return ContinuePosition(resource_version, start)
