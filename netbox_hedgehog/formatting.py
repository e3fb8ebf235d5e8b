"""Human-readable renderings shared by tables, templates and commands."""

_UNITS = (('d', 86400), ('h', 3600), ('min', 60), ('s', 1))


def humanize_seconds(seconds):
    """300 -> "5 min", 5400 -> "1 h 30 min", 45 -> "45 s". At most two units, as people say it."""
    if seconds is None:
        return ''
    remaining = int(seconds)
    if remaining <= 0:
        return '0 s'
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f'{count} {unit}')
        if len(parts) == 2:
            break
    return ' '.join(parts)


def shorten(text, limit=80):
    """First line of a message, cut to a table cell's width."""
    first_line = (text or '').strip().splitlines()[0] if (text or '').strip() else ''
    return first_line if len(first_line) <= limit else first_line[: limit - 1] + '…'
