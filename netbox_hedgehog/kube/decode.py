"""
Decode the JSON a Kubernetes API sends, so that one object that cannot be decoded costs that object, not its page.

A page is decoded whole with orjson (a page of 500 objects in milliseconds). Only when that fails is a list page
taken apart: a scan that keeps no stack of its own finds where each item of "items" begins and ends, each item is
decoded alone, and one that still fails is replaced by an UndecodableItem, which the sync reports and skips.
"""

import json
import re

import orjson

__all__ = ('UndecodableItem', 'decode', 'decode_list')

# Strings (escapes included) and the punctuation that gives JSON its structure; anything else is inside a value.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.S)
_METADATA = re.compile(rb'"metadata"\s*:\s*\{')
_NAME = re.compile(rb'"name"\s*:\s*"([a-z0-9.-]{1,253})"')
_UID = re.compile(rb'"uid"\s*:\s*"([0-9A-Za-z-]{1,64})"')
# How far into an undecodable item its name and uid are looked for.
_IDENTITY_WINDOW = 4096


class UndecodableItem(dict):
    """
    Takes the place of a list item that could not be decoded: a mapping holding only the metadata name and uid
    that could be read from its text (so the mirror keeps what it holds of that object), and `reason`.
    """

    def __init__(self, reason, name='', uid=''):
        metadata = {key: value for key, value in (('name', name), ('uid', uid)) if value}
        super().__init__(metadata=metadata)
        self.reason = reason


def decode(body):
    """Python data from a JSON body; raises ValueError when it is not JSON."""
    try:
        return orjson.loads(body)
    except RecursionError as exc:  # not raised by orjson today, but decoding must never raise anything else
        raise ValueError('nested too deeply') from exc


def decode_list(body):
    """
    A list body as Python data, with every item that cannot be decoded replaced by an UndecodableItem. Raises
    ValueError when the list itself (its envelope or its structure) cannot be read.
    """
    try:
        return decode(body)
    except ValueError:
        pass
    items_start, items_end, spans = _item_spans(body)
    envelope = decode(body[:items_start] + b'[]' + body[items_end:])
    if not isinstance(envelope, dict):
        raise ValueError('not a JSON object')
    envelope['items'] = [_decode_item(body[start:end]) for start, end in spans]
    return envelope


def _decode_item(text):
    try:
        return decode(text)
    except ValueError as exc:
        problem = str(exc)
        if any(word in problem for word in ('depth limit', 'recursion', 'nested too deeply')):
            reason = 'nested too deeply to decode'
        elif 'surrogate' in problem:
            # A lone UTF-16 surrogate escape is valid JSON that orjson refuses. The standard decoder keeps it, so the
            # sync's own value checks can name the object (its name cleaned) and skip it.
            try:
                return json.loads(text)
            except (ValueError, RecursionError):  # bytes that are not UTF-8 at all
                reason = 'not valid JSON'
        else:
            reason = 'not valid JSON'
        window = text[:_IDENTITY_WINDOW]
        metadata = _METADATA.search(window)
        if metadata is None:
            return UndecodableItem(reason)
        window = window[metadata.end():]
        name, uid = _NAME.search(window), _UID.search(window)
        return UndecodableItem(
            reason, name=name.group(1).decode() if name else '', uid=uid.group(1).decode() if uid else ''
        )


def _item_spans(body):
    """
    (start, end) of the top-level "items" array and the (start, end) of each of its elements, found by following
    the structure with a depth counter; raises ValueError when the structure is broken.
    """
    depth = 0
    last_string = key = None
    items_start = items_end = element_start = None
    in_items = False
    spans = []
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token[:1] == b'"':
            last_string = token
        elif token == b':':
            if depth == 1:
                key = last_string
        elif token in (b'[', b'{'):
            depth += 1
            if depth == 2 and token == b'[' and key == b'"items"' and items_start is None:
                items_start, element_start, in_items = match.start(), match.end(), True
        elif token in (b']', b'}'):
            if depth == 2 and in_items:
                if token != b']':
                    raise ValueError('unbalanced brackets')
                spans.append((element_start, match.start()))
                items_end, in_items = match.end(), False
            depth -= 1
            if depth < 0:
                raise ValueError('unbalanced brackets')
        elif token == b',':
            if depth == 2 and in_items:
                spans.append((element_start, match.start()))
                element_start = match.end()
            elif depth == 1:
                key = None
    if depth != 0 or items_end is None:
        raise ValueError('no complete "items" array')
    return items_start, items_end, [(start, end) for start, end in spans if body[start:end].strip()]
