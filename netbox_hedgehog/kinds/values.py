"""
Typed access to the nested fields of a listed Kubernetes object.

Every value the mirror promotes is read through these, so that bad input is reported by the field's path and the
object skipped, instead of failing the database write of a whole run.
"""

from datetime import UTC, datetime

__all__ = (
    'MISSING',
    'NAME_LENGTH',
    'MalformedObject',
    'boolean',
    'integer',
    'mapping',
    'name_list',
    'sequence',
    'string_map',
    'text',
    'timestamp',
)

# Kubernetes object names are RFC 1123 subdomains: at most 253 characters.
NAME_LENGTH = 253

# Moments NetBox can show in any time zone and do arithmetic on without overflowing: a timestamp of year 1 or
# 9999 is valid ISO 8601 but raises OverflowError when a page converts it to local time.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

MISSING = object()


class MalformedObject(Exception):
    """The object cannot be mirrored; str() says which field is wrong."""


def lookup(data, path, root):
    value = data
    for part in path.split('.'):
        if value is None or value is MISSING:
            return MISSING
        if not isinstance(value, dict):
            raise MalformedObject(f'{root}.{path} cannot be read: its parent is not an object')
        value = value.get(part, MISSING)
    return value


def text(data, path, root='spec', max_length=255, default=''):
    value = lookup(data, path, root)
    if value is MISSING or value is None:
        return default
    if not isinstance(value, str):
        raise MalformedObject(f'{root}.{path} must be a string, not {type(value).__name__}')
    if max_length and len(value) > max_length:
        raise MalformedObject(f'{root}.{path} is longer than {max_length} characters')
    return value


def integer(data, path, root='spec', minimum=0, maximum=2**63 - 1):
    value = lookup(data, path, root)
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedObject(f'{root}.{path} must be a whole number, not {type(value).__name__}')
    if not minimum <= value <= maximum:
        raise MalformedObject(f'{root}.{path} is out of range ({value})')
    return value


def boolean(data, path, root='spec'):
    value = lookup(data, path, root)
    if value is MISSING or value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedObject(f'{root}.{path} must be true or false, not {type(value).__name__}')
    return value


def mapping(data, path, root='spec'):
    value = lookup(data, path, root)
    if value is MISSING or value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedObject(f'{root}.{path} must be an object, not {type(value).__name__}')
    return value


def sequence(data, path, root='spec'):
    value = lookup(data, path, root)
    if value is MISSING or value is None:
        return []
    if not isinstance(value, list):
        raise MalformedObject(f'{root}.{path} must be a list, not {type(value).__name__}')
    return value


def name_list(data, path, root='spec'):
    names = sequence(data, path, root)
    for name in names:
        if not isinstance(name, str) or len(name) > NAME_LENGTH:
            raise MalformedObject(f'{root}.{path} must be a list of object names')
    return list(dict.fromkeys(names))


def timestamp(data, path, root):
    value = text(data, path, root, max_length=64)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedObject(f'{root}.{path} is not a timestamp ("{value}")')
    if moment.tzinfo is None:
        raise MalformedObject(f'{root}.{path} has no time zone ("{value}")')
    try:
        in_range = EARLIEST <= moment < LATEST
    except OverflowError:  # an offset that moves the moment past year 1 or 9999
        in_range = False
    if not in_range:
        raise MalformedObject(f'{root}.{path} is outside the years NetBox can show ("{value}")')
    return moment


def string_map(data, path, root):
    value = mapping(data, path, root)
    if not all(isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise MalformedObject(f'{root}.{path} must map strings to strings')
    return value
