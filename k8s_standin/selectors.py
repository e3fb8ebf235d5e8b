"""Equality-based label selectors (`k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-joined: all must hold).

Set-based requirements (`k in (a,b)`) are rejected with the error the server gives for a selector it cannot
parse, so a caller relying on them notices instead of getting an unfiltered list.
"""

import re
from collections.abc import Callable

_KEY = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')

LabelPredicate = Callable[[dict], bool]


class SelectorError(ValueError):
    pass


def _requirement(text: str) -> LabelPredicate:
    if '(' in text or ' in ' in f' {text} ' or ' notin ' in f' {text} ':
        raise SelectorError(f'unable to parse requirement: set-based selector {text!r} is not supported')
    for operator in ('!=', '==', '='):
        if operator in text:
            key, value = (part.strip() for part in text.split(operator, 1))
            if not _KEY.match(key):
                raise SelectorError(f'unable to parse requirement: invalid label key "{key}"')
            if operator == '!=':
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    if text.startswith('!'):
        key = text[1:].strip()
        if not _KEY.match(key):
            raise SelectorError(f'unable to parse requirement: invalid label key "{key}"')
        return lambda labels: key not in labels
    if not _KEY.match(text):
        raise SelectorError(f'unable to parse requirement: invalid label key "{text}"')
    return lambda labels: text in labels


def parse_label_selector(selector: str | None) -> LabelPredicate | None:
    """A predicate over a labels dict, or None when the selector selects everything."""
    parts = [part.strip() for part in (selector or '').split(',') if part.strip()]
    if not parts:
        return None
    requirements = [_requirement(part) for part in parts]
    return lambda labels: all(requirement(labels) for requirement in requirements)
